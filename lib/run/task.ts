/**
 * The task attempt pipeline: pre_command once, then up to `1 + max_retries` attempts (capped by
 * `max_iterations`) of command → verify_command, with delays between attempts. The outcome is
 * one {@linkcode TaskResult}; the task's `.log` file holds every step's output.
 *
 * Status rules (seed-behaviour §8): exit 0 → success; non-zero → failed, or soft_failed with
 * `allow_failure` (a soft failure is final: it is not retried). verify_command runs after a
 * success or soft failure, and a failing verify makes the attempt failed even with
 * `allow_failure`. Only failed attempts are retried.
 *
 * Engine tasks (`engine:` with an adapter in engines/) run the same pipeline; their main step
 * is one engine attempt (engine_executor.ts): the prompt is resolved once (engine_prompt.ts),
 * attempts after the first get the §8 retry feedback, `is_error` decides the status, and the
 * result carries the final text (`stdout_tail`), cost, tokens and tool-call count summed over
 * attempts. Engines without an adapter fail with E102.
 *
 * Which engine and model each attempt runs on is engine_route.ts's: `escalation` climbs a model
 * ladder on retries; after an engine failure (auth, rate_limit, quota, cli_missing,
 * model_unavailable, circuit_open) the task switches once to `fallback_engine` /
 * `fallback_model`, at once (no retry delay), in an extra attempt that does not use up a retry.
 * auth, cli_missing and circuit_open are not retried on the same engine. An engine whose
 * circuit breaker is open (circuit_breaker.ts) is not started: the attempt fails as
 * `circuit_open`.
 *
 * @module
 */
import { isDirectory } from "../fs.ts";
import type { TaskIR } from "../plan/ir.ts";
import type { Masker } from "../security/mask.ts";
import { commandInvocation, commandText } from "./env.ts";
import type { EngineCircuits } from "./circuit_breaker.ts";
import {
  type AttemptRoute,
  CIRCUIT_OPEN,
  EngineRoute,
  NOT_RETRIED,
  type RouteChange,
} from "./engine_route.ts";
import { announceRouteChange, feedbackFailures } from "./route_events.ts";
import type { EventBus } from "./events.ts";
import { LogFile } from "./log_file.ts";
import { GateRunner } from "../gates/runner.ts";
import { type ProcessOutcome, runProcess } from "./process.ts";
import type { Engine, EngineResult, ExecutionProfile, ToolCall } from "../../engines/types.ts";
import {
  builtinEngines,
  type EngineRegistry,
  EngineSetupError,
  EngineTotals,
  eventInput,
  runEngineAttempt,
} from "./engine_executor.ts";
import { resolvePrompt, retryFeedback, systemPromptOf } from "./engine_prompt.ts";
import { type StructuredOutput, structuredOutput } from "./structured_output.ts";
import {
  abortableSleep,
  renderCommand,
  retryDelaySec as retryDelaySecOf,
  tailText,
} from "./attempt_helpers.ts";

export { retryDelaySec } from "./attempt_helpers.ts";
import {
  failureCategory,
  type FailureRecord,
  isoMicros,
  makeResult,
  nowMicros,
  type TaskResult,
} from "./result.ts";

export type { EngineRegistry } from "./engine_executor.ts";

/** An engine adapter as the runtime uses it (engines/types.ts `Engine`). */
export type EngineExecutor = Engine;

/** Everything one task run needs. */
export interface TaskRunContext {
  task: TaskIR;
  logPath: string;
  /** Called while each of the task's processes execs (the run creates the result's temp file). */
  afterSpawn?: () => void;
  /** The complete child environment. */
  env: Record<string, string>;
  /** Renders `{{ }}` templates for this task. */
  render: (text: string) => string;
  bus: EventBus;
  signal: AbortSignal;
  mask: Masker;
  /** Engine adapters by name. @default {builtinEngines} (claude, codex) */
  engines?: EngineRegistry;
  /** The plan's goal, prefixed to engine prompts as `Goal: <goal>`. */
  goal?: string;
  /** Execution profile of engine tasks. @default {"plan"} */
  profile?: ExecutionProfile;
  /** Maestro's own environment (engine adapters copy their provider variables from it). */
  parentEnv?: Readonly<Record<string, string>>;
  /** Milliseconds between TERM and KILL. */
  graceMs?: number;
  /** Waits between attempts (tests shorten it). */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** The run's engine circuit breakers (plans with `circuit_breaker:`). */
  circuits?: EngineCircuits;
  /** Renders an engine prompt (context placeholders and injection, lib/context/). */
  renderPrompt?: (template: string) => string;
  /** Lines written to the log after its header (how the context was built). */
  logPreamble?: readonly string[];
  /** `output_schema`: checks a successful task's final text (lib/context/output_schema.ts). */
  checkOutput?: (text: string) => { ok: true; value: unknown } | { ok: false; message: string };
}

/** The main step of an attempt: a process outcome, plus the engine's result or failure. */
type MainOutcome = ProcessOutcome & {
  result?: EngineResult;
  failure?: { category: string; message: string };
  /** How many of `result.tool_calls` were already emitted while the engine ran. */
  liveToolCalls?: number;
};

/** An engine attempt that was not started (open circuit breaker). */
const NOT_STARTED: ProcessOutcome = {
  exitCode: 1,
  timedOut: false,
  cancelled: false,
  stdoutTail: [],
  outputTail: [],
  durationSec: 0,
  pid: 0,
};

interface Step {
  phase: "pre_command" | "command" | "verify_command";
  command: string | string[];
  attempt: number;
  maxAttempts: number;
}

/** Runs a task: its log, its attempts, its result. Never throws for task failures. */
export async function runTask(ctx: TaskRunContext): Promise<TaskResult> {
  const { task } = ctx;
  const startMicros = nowMicros();
  const started = performance.now();
  // created once the first process is requested (runProcess), or at the end for a task that
  // never starts one: the file creation then overlaps the process's exec
  const log = LogFile.createLater(ctx.logPath, ctx.mask);
  const shown = task.command !== undefined
    ? commandText(renderCommand(task.command, ctx.render))
    : task.kind === "engine"
    ? `<engine ${task.engine}>`
    : `<${task.kind}>`;
  log.line(`task=${task.id}`);
  log.line(`started_at=${isoMicros(startMicros)}`);
  log.line(`workdir=${task.workdir}`);
  log.line(`command=${shown}`);
  log.line("");
  for (const line of ctx.logPreamble ?? []) log.line(line);

  let lastPgid = 0;
  let route: EngineRoute | undefined;
  /** The route of the last engine attempt that was made. */
  let lastRoute: AttemptRoute | undefined;
  let totals: EngineTotals | undefined;
  let finalText: string | null = null;
  /** guard_command / assert / judge of the task (lib/gates/), set once the prompt is known. */
  // deno-lint-ignore prefer-const -- finish() reads it before it is set (early failures)
  let gates: GateRunner | undefined;
  const finish = async (
    fields: Omit<Parameters<typeof makeResult>[0], "task_id" | "command"> & {
      structured?: StructuredOutput;
    },
  ): Promise<TaskResult> => {
    const checked = ctx.checkOutput && fields.status === "success"
      ? ctx.checkOutput(fields.stdout_tail ?? "")
      : undefined;
    if (checked && !checked.ok) {
      log.line(`[output_schema] ${checked.message}`);
      fields = { ...fields, status: "failed", message: checked.message, exit_code: 1 };
    }
    log.line("");
    log.line(`status=${fields.status}`);
    log.line(`message=${fields.message}`);
    await log.close();
    if (log.writeError !== undefined) {
      fields = { ...fields, message: `${fields.message} (log incomplete: ${log.writeError})` };
    }
    const { structured, ...resultFields } = fields;
    const result = makeResult({
      ...resultFields,
      task_id: task.id,
      command: shown,
      started_at: isoMicros(startMicros),
      finished_at: isoMicros(),
      duration_sec: Math.round(performance.now() - started) / 1000,
      log_path: ctx.logPath,
    });
    if (structured) Object.assign(result.structured_context, structured);
    if (totals) {
      result.cost_usd = totals.cost;
      result.token_usage = totals.tokenUsage();
      result.tool_call_count = totals.toolCalls;
      result.structured_context.cost_usd = totals.cost;
      result.structured_context.result_text = finalText;
      // as the reference: an engine's answer is also its decision
      if (finalText) result.structured_context.decisions = [finalText.slice(0, 500)];
    }
    if (lastPgid > 0) result.pgid = lastPgid;
    if (totals) {
      result.cost_source = totals.costSource;
      result.session_id = totals.sessionId;
    }
    const ran = lastRoute ?? route?.current;
    if (ran) {
      result.engine = ran.engine;
      result.model = ran.model;
    }
    gates?.applyTo(result);
    if (checked?.ok) result.output = checked.value;
    return result;
  };

  if (!isDirectory(task.workdir)) {
    return await finish({ status: "failed", message: `Workdir does not exist: ${task.workdir}` });
  }
  let engine: Engine | undefined;
  let prompt = "";
  const registry = ctx.engines ?? builtinEngines;
  if (task.kind === "engine") {
    engine = task.engine ? registry(task.engine) : undefined;
    if (!engine) {
      return await finish({
        status: "failed",
        message: `E102 no engine adapter named '${task.engine}' in this run's engine registry`,
      });
    }
    const resolved = resolvePrompt(task, ctx.renderPrompt ?? ctx.render, ctx.goal ?? "");
    if ("error" in resolved) return await finish({ status: "failed", message: resolved.error });
    prompt = resolved.prompt;
    totals = new EngineTotals();
    route = new EngineRoute(task);
  }
  if (task.kind === "group" || (task.command === undefined && !engine)) {
    return await finish({
      status: "failed",
      message: `E106 ${task.kind} tasks are not supported by this runtime yet`,
    });
  }
  gates = GateRunner.forTask({
    task,
    env: ctx.env,
    parentEnv: ctx.parentEnv ?? {},
    log,
    bus: ctx.bus,
    signal: ctx.signal,
    mask: ctx.mask,
    engines: registry,
    instruction: prompt || task.description,
    graceMs: ctx.graceMs,
  });

  const announceAttempt = (step: Omit<Step, "command">, on?: AttemptRoute) => (pid: number) => {
    lastPgid = pid;
    ctx.bus.emit("task_attempt", {
      task_id: task.id,
      attempt: step.attempt,
      max_attempts: step.maxAttempts,
      phase: step.phase,
      pid,
      pgid: pid,
      ...(on ? { engine: on.engine, model: on.model } : {}),
    });
  };
  const emitToolCall = (attempt: number, call: ToolCall) =>
    ctx.bus.emit("tool_call", {
      task_id: task.id,
      attempt,
      name: call.name,
      input: eventInput(call.input, ctx.mask),
    });
  const onLines = ctx.bus.hasSubscribers
    ? (stream: "stdout" | "stderr", lines: string[]) =>
      ctx.bus.emit("task_output", { task_id: task.id, stream, lines })
    : undefined;
  const runStep = async (step: Step): Promise<ProcessOutcome> => {
    const command = renderCommand(step.command, ctx.render);
    // A plain string command (a word list, no shell syntax) is exec'd without `sh -c`, as make
    // does: one fork+exec less per step, same behaviour (see directCommand).
    const invocation = commandInvocation(command, task.shell, ctx.env, task.workdir);
    return await runProcess({
      argv: invocation.argv,
      cwd: task.workdir,
      env: invocation.env,
      timeoutSec: task.timeout_sec,
      log,
      tailLines: task.stdout_tail_lines,
      signal: ctx.signal,
      graceMs: ctx.graceMs,
      onStart: announceAttempt(step),
      onLines,
      afterSpawn: ctx.afterSpawn,
    });
  };
  /** The main step of an attempt: the command, or one engine run. */
  const runMain = async (
    attempt: number,
    maxAttempts: number,
    feedback: string,
  ): Promise<MainOutcome> => {
    if (!route) {
      return await runStep({ phase: "command", command: task.command!, attempt, maxAttempts });
    }
    const on = route.current;
    const blocked = ctx.circuits?.blocked(on.engine);
    if (blocked !== undefined) {
      log.line(`[engine] ${on.engine}: ${blocked}`);
      return { ...NOT_STARTED, failure: { category: CIRCUIT_OPEN, message: blocked } };
    }
    lastRoute = on;
    const run = await runEngineAttempt({
      // the route only goes to engines the registry has (checked before a switch)
      engine: registry(on.engine)!,
      task: route.attemptTask(),
      prompt,
      systemPrompt: systemPromptOf(task),
      retryFeedback: feedback,
      profile: ctx.profile ?? "plan",
      env: ctx.env,
      parentEnv: ctx.parentEnv ?? {},
      log,
      signal: ctx.signal,
      graceMs: ctx.graceMs,
      onStart: announceAttempt({ phase: "command", attempt, maxAttempts }, on),
      onLines,
      // tool calls become events while the agent works, not when it is done
      onToolCall: (call) => emitToolCall(attempt, call),
    });
    const failure = run.result.is_error ? run.result.failure : undefined;
    if (!run.cancelled) {
      const category = run.result.is_error ? failure?.category ?? "unknown" : undefined;
      ctx.circuits?.record(on.engine, task.id, category, failure?.message);
    }
    return failure ? { ...run, failure } : run;
  };

  const maxIterations = typeof task.max_iterations === "number" ? task.max_iterations : Infinity;
  // grows by one when the task switches to its fallback
  let maxAttempts = Math.max(1, Math.min(task.max_retries + 1, maxIterations));
  const preCommand = task.pre_command as string | string[] | undefined;
  const verifyCommand = task.verify_command as string | string[] | undefined;

  if (preCommand !== undefined) {
    log.line(`[pre_command] ${commandText(renderCommand(preCommand, ctx.render))}`);
    const pre = await runStep({
      phase: "pre_command",
      command: preCommand,
      attempt: 1,
      maxAttempts,
    });
    log.line(`[pre_command] exit_code=${pre.exitCode}`);
    if (pre.cancelled) {
      return await finish({ status: "cancelled", exit_code: 130, message: "Cancelled" });
    }
    if (pre.exitCode !== 0) {
      const message = pre.timedOut
        ? `pre_command timed out after ${task.timeout_sec}s`
        : `pre_command failed with exit code ${pre.exitCode}`;
      return await finish({ status: "failed", exit_code: pre.exitCode, message });
    }
  }

  const history: FailureRecord[] = [];
  /** What each failed attempt printed (beside `history`), for the retry feedback. */
  const outputs: string[] = [];
  const sleep = ctx.sleep ?? abortableSleep;
  let last: {
    status: TaskResult["status"];
    exitCode: number;
    message: string;
    tail: string[];
    structured?: StructuredOutput;
  } = {
    status: "failed",
    exitCode: 1,
    message: "not run",
    tail: [],
  };
  let cancelled = false;
  /** Retries that waited their delay (the switch to a fallback does not wait). */
  let delayed = 0;
  /** Set for the attempt right after a switch to the fallback. */
  let switched: RouteChange | undefined;
  const where = { bus: ctx.bus, log, taskId: task.id };
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    if (attempt > 1) {
      const delay = switched
        ? 0
        : retryDelaySecOf(delayed++, task.retry_delay_sec, task.retry_strategy);
      ctx.bus.emit("task_retry", {
        task_id: task.id,
        attempt,
        max_attempts: maxAttempts,
        delay_sec: delay,
        reason: last.message,
      });
      log.line(`Retrying (${attempt - 1}/${maxAttempts - 1})...`);
      if (delay > 0) {
        log.line(`[maestro] waiting ${delay}s before retry...`);
        await sleep(delay * 1000, ctx.signal);
      }
      if (ctx.signal.aborted) {
        cancelled = true;
        break;
      }
      log.line(`[retry ${attempt - 1}/${maxAttempts - 1}]`);
    }
    const attemptStart = performance.now();
    const on = route?.current;
    const told = feedbackFailures(history, outputs, switched !== undefined);
    const feedback = attempt > 1
      ? retryFeedback(attempt, maxAttempts, told.failures, ctx.mask(told.output))
      : "";
    switched = undefined;
    let main: MainOutcome;
    try {
      main = await runMain(attempt, maxAttempts, feedback);
    } catch (error) {
      if (!(error instanceof EngineSetupError)) throw error;
      return await finish({ status: "failed", message: `E105 ${error.message}` });
    }
    if (main.cancelled) {
      cancelled = true;
      break;
    }
    const engineResult = main.result;
    if (engineResult) {
      totals!.add(engineResult);
      // costs count as attempts end (budgets, the store's ledger), not only at task end
      ctx.bus.emit("attempt_usage", {
        task_id: task.id,
        attempt,
        engine: on!.engine,
        model: on!.model,
        tokens: { ...engineResult.tokens },
        cost_usd: engineResult.cost_usd,
        cost_source: engineResult.cost_source,
      });
      finalText = engineResult.text;
      // the ones the parser could not report live (copilot: known only at the end)
      for (const call of engineResult.tool_calls.slice(main.liveToolCalls ?? 0)) {
        emitToolCall(attempt, call);
      }
    }
    const failure = main.failure;
    const mainFailed = engineResult
      ? engineResult.is_error
      : failure !== undefined || main.exitCode !== 0;
    let status: TaskResult["status"] = !mainFailed
      ? "success"
      : task.allow_failure
      ? "soft_failed"
      : "failed";
    let exitCode = mainFailed && main.exitCode === 0 ? 1 : main.exitCode;
    let message = !mainFailed
      ? "ok"
      : main.timedOut
      ? `Task timed out after ${task.timeout_sec}s`
      : failure
      ? `${on!.engine} failed (${failure.category}): ${failure.message}`
      : `Task failed with exit code ${main.exitCode}`;
    if (status === "soft_failed") message += " but allow_failure=true";
    let output = on
      ? ctx.mask([failure?.message ?? "", engineResult?.text ?? ""].filter(Boolean).join("\n"))
      : tailText(main.outputTail, 2000);
    // masked before anything cuts it (partial_output, the judge's subject): see LogFile.masked
    const tail = engineResult ? [ctx.mask(engineResult.text)] : main.stdoutTail;
    const structured = structuredOutput(engineResult ? tail[0]!.split("\n") : main.outputTail);
    const record = (category: string, verifyTail: string | null) => {
      const entry: FailureRecord = {
        attempt,
        category,
        exit_code: exitCode,
        message,
        verify_tail: verifyTail,
        duration_sec: Math.round(performance.now() - attemptStart) / 1000,
      };
      if (on) Object.assign(entry, { engine: on.engine, model: on.model });
      history.push(entry);
      outputs.push(output);
    };
    // An engine that could not work: straight to the fallback (soft failures too), no verify.
    const change = mainFailed && failure
      ? route?.fallBack(failure.category, (name) => registry(name) !== undefined)
      : undefined;
    if (change) {
      record(failure!.category, null);
      last = { status, exitCode, message, tail, structured };
      maxAttempts++;
      switched = change;
      announceRouteChange(where, attempt + 1, change, failure);
      continue;
    }
    let verifyTail: string | null = null;
    if (status !== "failed" && verifyCommand !== undefined) {
      log.line(`[verify_command] ${commandText(renderCommand(verifyCommand, ctx.render))}`);
      const verify = await runStep({
        phase: "verify_command",
        command: verifyCommand,
        attempt,
        maxAttempts,
      });
      log.line(`[verify_command] exit_code=${verify.exitCode}`);
      if (verify.cancelled) {
        cancelled = true;
        break;
      }
      ctx.bus.emit("verify_result", {
        task_id: task.id,
        attempt,
        passed: verify.exitCode === 0,
        exit_code: verify.exitCode,
      });
      if (verify.exitCode !== 0) {
        verifyTail = tailText(verify.outputTail, 300);
        output = tailText(verify.outputTail, 2000);
        status = "failed";
        exitCode = verify.exitCode;
        message =
          `verify_command failed with exit code ${verify.exitCode} (verify output: ${verifyTail})`;
      }
    }
    // gates after verify (seed-behaviour §8): guard_command → assert → judge
    let gateCategory: string | undefined;
    let gateFinal = false;
    if (status !== "failed" && gates) {
      const gated = await gates.run(attempt, {
        output: tail.join("\n"),
        costUsd: totals ? totals.cost : null,
        durationSec: Math.round(performance.now() - attemptStart) / 1000,
      });
      if (gated === "cancelled") {
        cancelled = true;
        break;
      }
      if (gated) {
        status = "failed";
        exitCode = gated.exitCode ?? (exitCode === 0 ? 1 : exitCode);
        message = gated.message;
        output = gated.feedback;
        gateCategory = gated.category;
        gateFinal = gated.final;
      }
    }
    last = { status, exitCode, message, tail, structured };
    if (status !== "failed") break;
    const engineCategory = verifyTail === null ? failure?.category : undefined;
    record(
      gateCategory ?? engineCategory ??
        failureCategory(exitCode, { timedOut: main.timedOut, verify: verifyTail !== null }),
      verifyTail,
    );
    // retrying cannot make a missing CLI appear, a key valid or an open breaker close
    if (engineCategory !== undefined && NOT_RETRIED.has(engineCategory)) break;
    // a judge with on_fail: fail ends the task at once
    if (gateFinal) break;
    const up = attempt < maxAttempts ? route?.escalate() : undefined;
    if (up) announceRouteChange(where, attempt + 1, up);
  }
  if (cancelled) {
    return await finish({
      status: "cancelled",
      exit_code: 130,
      message: "Cancelled",
      failure_history: history,
      retry_count: history.length,
    });
  }
  const retries = last.status === "failed" ? history.length - 1 : history.length;
  return await finish({
    status: last.status,
    exit_code: last.exitCode,
    message: last.message,
    stdout_tail: last.tail.join("\n"),
    structured: last.structured,
    retry_count: Math.max(0, retries),
    failure_history: history,
    handoff_report: last.status === "failed"
      ? {
        failure_category: history.at(-1)?.category ?? "unknown",
        partial_output: tailText(last.tail, 3000),
        summary:
          `Task '${task.id}' failed after ${history.length}/${maxAttempts} attempts: ${last.message}`,
      }
      : null,
  });
}

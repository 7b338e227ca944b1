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
 * @module
 */
import { existsSync, statSync } from "node:fs";
import type { TaskIR } from "../plan/ir.ts";
import type { Masker } from "../security/mask.ts";
import { commandInvocation, commandText } from "./env.ts";
import type { EventBus } from "./events.ts";
import { LogFile } from "./log_file.ts";
import { type ProcessOutcome, runProcess } from "./process.ts";
import type { Engine, ExecutionProfile } from "../../engines/types.ts";
import {
  builtinEngines,
  type EngineAttempt,
  type EngineRegistry,
  EngineSetupError,
  EngineTotals,
  eventInput,
  runEngineAttempt,
} from "./engine_executor.ts";
import { resolvePrompt, retryFeedback, systemPromptOf } from "./engine_prompt.ts";
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
}

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
  const log = LogFile.createSync(ctx.logPath, ctx.mask);
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

  let lastPgid = 0;
  let totals: EngineTotals | undefined;
  let finalText: string | null = null;
  const finish = async (
    fields: Omit<Parameters<typeof makeResult>[0], "task_id" | "command">,
  ): Promise<TaskResult> => {
    log.line("");
    log.line(`status=${fields.status}`);
    log.line(`message=${fields.message}`);
    await log.close();
    const result = makeResult({
      ...fields,
      task_id: task.id,
      command: shown,
      started_at: isoMicros(startMicros),
      finished_at: isoMicros(),
      duration_sec: Math.round(performance.now() - started) / 1000,
      log_path: ctx.logPath,
    });
    if (totals) {
      result.cost_usd = totals.cost;
      result.token_usage = totals.tokenUsage();
      result.tool_call_count = totals.toolCalls;
      result.structured_context.cost_usd = totals.cost;
      result.structured_context.result_text = finalText;
    }
    if (lastPgid > 0) result.pgid = lastPgid;
    if (totals) {
      result.cost_source = totals.costSource;
      result.session_id = totals.sessionId;
    }
    return result;
  };

  if (!existsSync(task.workdir) || !statSync(task.workdir).isDirectory()) {
    return await finish({ status: "failed", message: `Workdir does not exist: ${task.workdir}` });
  }
  let engine: Engine | undefined;
  let prompt = "";
  if (task.kind === "engine") {
    engine = task.engine ? (ctx.engines ?? builtinEngines)(task.engine) : undefined;
    if (!engine) {
      return await finish({
        status: "failed",
        message: `E102 engine adapters not available yet: cannot run engine '${task.engine}'`,
      });
    }
    const resolved = resolvePrompt(task, ctx.render, ctx.goal ?? "");
    if ("error" in resolved) return await finish({ status: "failed", message: resolved.error });
    prompt = resolved.prompt;
    totals = new EngineTotals();
  }
  if (task.kind === "group" || (task.command === undefined && !engine)) {
    return await finish({
      status: "failed",
      message: `E106 ${task.kind} tasks are not supported by this runtime yet`,
    });
  }

  const announceAttempt = (step: Omit<Step, "command">) => (pid: number) => {
    lastPgid = pid;
    ctx.bus.emit("task_attempt", {
      task_id: task.id,
      attempt: step.attempt,
      max_attempts: step.maxAttempts,
      phase: step.phase,
      pid,
      pgid: pid,
    });
  };
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
    });
  };
  /** The main step of an attempt: the command, or one engine run. */
  const runMain = async (
    attempt: number,
    maxAttempts: number,
    feedback: string,
  ): Promise<ProcessOutcome & Partial<Pick<EngineAttempt, "result">>> => {
    if (!engine) {
      return await runStep({ phase: "command", command: task.command!, attempt, maxAttempts });
    }
    return await runEngineAttempt({
      engine,
      task,
      prompt,
      systemPrompt: systemPromptOf(task),
      retryFeedback: feedback,
      profile: ctx.profile ?? "plan",
      env: ctx.env,
      parentEnv: ctx.parentEnv ?? {},
      log,
      signal: ctx.signal,
      graceMs: ctx.graceMs,
      onStart: announceAttempt({ phase: "command", attempt, maxAttempts }),
      onLines,
    });
  };

  const maxIterations = typeof task.max_iterations === "number" ? task.max_iterations : Infinity;
  const maxAttempts = Math.max(1, Math.min(task.max_retries + 1, maxIterations));
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
  const sleep = ctx.sleep ?? abortableSleep;
  let last: { status: TaskResult["status"]; exitCode: number; message: string; tail: string[] } = {
    status: "failed",
    exitCode: 1,
    message: "not run",
    tail: [],
  };
  let cancelled = false;
  /** What the previous attempt printed, for the retry feedback of engine tasks. */
  let lastOutput = "";
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    if (attempt > 1) {
      const delay = retryDelaySecOf(attempt - 2, task.retry_delay_sec, task.retry_strategy);
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
    const feedback = attempt > 1 ? retryFeedback(attempt, maxAttempts, history, lastOutput) : "";
    let main: Awaited<ReturnType<typeof runMain>>;
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
      finalText = engineResult.text;
      for (const call of engineResult.tool_calls) {
        ctx.bus.emit("tool_call", {
          task_id: task.id,
          attempt,
          name: call.name,
          input: eventInput(call.input),
        });
      }
    }
    const mainFailed = engineResult ? engineResult.is_error : main.exitCode !== 0;
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
      : engineResult?.failure
      ? `${engine!.name} failed (${engineResult.failure.category}): ${engineResult.failure.message}`
      : `Task failed with exit code ${main.exitCode}`;
    if (status === "soft_failed") message += " but allow_failure=true";
    lastOutput = engineResult
      ? [engineResult.failure?.message ?? "", engineResult.text].filter(Boolean).join("\n")
      : tailText(main.outputTail, 2000);
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
        lastOutput = tailText(verify.outputTail, 2000);
        status = "failed";
        exitCode = verify.exitCode;
        message =
          `verify_command failed with exit code ${verify.exitCode} (verify output: ${verifyTail})`;
      }
    }
    last = {
      status,
      exitCode,
      message,
      tail: engineResult ? [engineResult.text] : main.stdoutTail,
    };
    if (status !== "failed") break;
    const engineCategory = verifyTail === null ? engineResult?.failure?.category : undefined;
    history.push({
      attempt,
      category: engineCategory ??
        failureCategory(exitCode, { timedOut: main.timedOut, verify: verifyTail !== null }),
      exit_code: exitCode,
      message,
      verify_tail: verifyTail,
      duration_sec: Math.round(performance.now() - attemptStart) / 1000,
    });
    // retrying cannot make a missing CLI appear
    if (engineCategory === "cli_missing") break;
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

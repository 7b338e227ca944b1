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
 * @module
 */
import { existsSync, statSync } from "node:fs";
import type { TaskIR } from "../plan/ir.ts";
import type { Masker } from "../security/mask.ts";
import { commandInvocation, commandText } from "./env.ts";
import type { EventBus } from "./events.ts";
import { LogFile } from "./log_file.ts";
import { type ProcessOutcome, runProcess } from "./process.ts";
import {
  failureCategory,
  type FailureRecord,
  isoMicros,
  makeResult,
  nowMicros,
  type TaskResult,
} from "./result.ts";

/** What an engine adapter is asked to do (DESIGN §3 Engine contract, executor side). */
export interface EngineRequest {
  task: TaskIR;
  /** The rendered prompt. */
  prompt: string;
  cwd: string;
  env: Record<string, string>;
  timeoutSec: number;
  signal: AbortSignal;
  log: LogFile;
}

/** What an engine run produced. */
export interface EngineOutcome {
  exitCode: number;
  stdoutTail: string[];
  durationSec: number;
  costUsd: number | null;
  isError: boolean;
  pgid: number;
}

/** Runs engine tasks; adapters plug in here without the scheduler knowing which engine runs. */
export interface EngineExecutor {
  /** Engine name as written in plans (`claude`, `codex`, ...). */
  readonly name: string;
  /** Runs one attempt. */
  run(request: EngineRequest): Promise<EngineOutcome>;
}

/** Finds the executor for an engine name. */
export type EngineRegistry = (name: string) => EngineExecutor | undefined;

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
  engines?: EngineRegistry;
  /** Milliseconds between TERM and KILL. */
  graceMs?: number;
  /** Waits between attempts (tests shorten it). */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/**
 * Seconds to wait before retry number `retry` (0-based), as seed-behaviour §8 says: a list
 * gives `delay[min(i, len-1)]`; a scalar is used as is (constant), times `i+1` (linear) or
 * times `2^i` (exponential).
 */
export function retryDelaySec(
  retry: number,
  delay: number | number[],
  strategy: "constant" | "linear" | "exponential",
): number {
  if (Array.isArray(delay)) {
    return delay.length === 0 ? 0 : delay[Math.min(retry, delay.length - 1)]!;
  }
  if (strategy === "linear") return delay * (retry + 1);
  if (strategy === "exponential") return delay * 2 ** retry;
  return delay;
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted || ms <= 0) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

function renderCommand(command: string | string[], render: (t: string) => string) {
  return typeof command === "string" ? render(command) : command.map(render);
}

/** The last `n` characters of some lines, for messages. */
function tailText(lines: readonly string[], n: number): string {
  const text = lines.join("\n");
  return text.length > n ? text.slice(-n) : text;
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
    if (lastPgid > 0) result.pgid = lastPgid;
    return result;
  };

  if (!existsSync(task.workdir) || !statSync(task.workdir).isDirectory()) {
    return await finish({ status: "failed", message: `Workdir does not exist: ${task.workdir}` });
  }
  if (task.kind === "engine") {
    const executor = task.engine ? ctx.engines?.(task.engine) : undefined;
    if (!executor) {
      return await finish({
        status: "failed",
        message: `E102 engine adapters not available yet: cannot run engine '${task.engine}'`,
      });
    }
    // Engine adapters will plug in here; none exists yet, so no attempt is faked.
  }
  if (task.kind === "group" || task.command === undefined) {
    return await finish({
      status: "failed",
      message: `E106 ${task.kind} tasks are not supported by this runtime yet`,
    });
  }

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
      onStart: (pid) => {
        lastPgid = pid;
        ctx.bus.emit("task_attempt", {
          task_id: task.id,
          attempt: step.attempt,
          max_attempts: step.maxAttempts,
          phase: step.phase,
          pid,
          pgid: pid,
        });
      },
      onLines: ctx.bus.hasSubscribers
        ? (stream, lines) => ctx.bus.emit("task_output", { task_id: task.id, stream, lines })
        : undefined,
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
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    if (attempt > 1) {
      const delay = retryDelaySec(attempt - 2, task.retry_delay_sec, task.retry_strategy);
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
    const main = await runStep({ phase: "command", command: task.command, attempt, maxAttempts });
    if (main.cancelled) {
      cancelled = true;
      break;
    }
    let status: TaskResult["status"] = main.exitCode === 0
      ? "success"
      : task.allow_failure
      ? "soft_failed"
      : "failed";
    let exitCode = main.exitCode;
    let message = main.exitCode === 0
      ? "ok"
      : main.timedOut
      ? `Task timed out after ${task.timeout_sec}s`
      : `Task failed with exit code ${main.exitCode}`;
    if (status === "soft_failed") message += " but allow_failure=true";
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
        status = "failed";
        exitCode = verify.exitCode;
        message =
          `verify_command failed with exit code ${verify.exitCode} (verify output: ${verifyTail})`;
      }
    }
    last = { status, exitCode, message, tail: main.stdoutTail };
    if (status !== "failed") break;
    history.push({
      attempt,
      category: failureCategory(exitCode, { timedOut: main.timedOut, verify: verifyTail !== null }),
      exit_code: exitCode,
      message,
      verify_tail: verifyTail,
      duration_sec: Math.round(performance.now() - attemptStart) / 1000,
    });
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

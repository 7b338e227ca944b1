/**
 * `guard_command` (seed-behaviour §8 step 4): a command that reads the task's output on stdin
 * and says yes (exit 0) or no (any other exit). It runs like the task's other steps (same env
 * and workdir, its own process group, output into the task's log under `[guard_command]`),
 * with a 30-second limit (or the task's timeout when shorter). A non-zero exit fails the
 * attempt, `guard_command failed with exit code N (guard output: …)`, and the guard's output
 * becomes the retry feedback.
 *
 * @module
 */
import { commandInvocation, commandText } from "../run/env.ts";
import type { LogFile } from "../run/log_file.ts";
import { runProcess } from "../run/process.ts";
import type { GateOutcome } from "./types.ts";

/** Seconds a guard may run (the reference tool's limit). */
export const GUARD_TIMEOUT_SEC = 30;

/** Options for {@linkcode runGuard}. */
export interface GuardOptions {
  /** The guard command (string: through the shell; list: exec'd). */
  command: string | string[];
  /** What goes to its stdin: the task's output. */
  input: string;
  /** Absolute working directory. */
  workdir: string;
  /** The task's complete child env. */
  env: Record<string, string>;
  /** The task's log. */
  log: LogFile;
  /** Cancels the guard. */
  signal: AbortSignal;
  /** The task's timeout; the guard gets the smaller of it and 30 s. */
  taskTimeoutSec: number;
  /** `shell:` override of the task. */
  shell?: boolean;
  /** Called with the guard's pid once it runs. */
  onStart?: (pid: number) => void;
  /** Milliseconds between TERM and KILL. */
  graceMs?: number;
}

function lastChars(lines: readonly string[], n: number): string {
  const text = lines.join("\n");
  return text.length > n ? text.slice(-n) : text;
}

/**
 * Runs the guard over the task's output.
 *
 * @param opts the command, its input and where it runs
 * @returns the guard's gate outcome (`cancelled` when the run is stopping)
 */
export async function runGuard(opts: GuardOptions): Promise<GateOutcome> {
  const timeout = opts.taskTimeoutSec > 0
    ? Math.min(GUARD_TIMEOUT_SEC, opts.taskTimeoutSec)
    : GUARD_TIMEOUT_SEC;
  opts.log.line(`[guard_command] ${commandText(opts.command)}`);
  const invocation = commandInvocation(opts.command, opts.shell, opts.env, opts.workdir);
  const outcome = await runProcess({
    argv: invocation.argv,
    cwd: opts.workdir,
    env: invocation.env,
    timeoutSec: timeout,
    log: opts.log,
    tailLines: 40,
    signal: opts.signal,
    graceMs: opts.graceMs,
    onStart: opts.onStart,
    stdin: opts.input,
  });
  opts.log.line(`[guard_command] exit_code=${outcome.exitCode}`);
  const output = lastChars(outcome.outputTail, 2000);
  const passed = outcome.exitCode === 0;
  const base: GateOutcome = {
    gate: "guard",
    verdict: passed ? "pass" : "fail",
    effect: passed ? "none" : "fail",
    score: null,
    threshold: null,
    reasons: passed ? [] : [output || `exit code ${outcome.exitCode}`],
    checks: [],
    message: "",
    category: "guard_failed",
    exitCode: outcome.exitCode,
  };
  if (outcome.cancelled) return { ...base, verdict: "error", effect: "none", cancelled: true };
  if (!passed) {
    base.message = outcome.timedOut
      ? `guard_command timed out after ${timeout}s`
      : `guard_command failed with exit code ${outcome.exitCode} (guard output: ${
        lastChars(outcome.outputTail, 300)
      })`;
  }
  return base;
}

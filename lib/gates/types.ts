/**
 * Shared vocabulary of the gates (guard_command, workspace assertions, judge): verdicts, the
 * result of one check, and the outcome of one gate.
 *
 * @module
 */

/** pass; warn (recorded and shown, does not fail the task); fail; error (could not decide). */
export type Verdict = "pass" | "warn" | "fail" | "error";

/** What a gate's verdict does to the attempt. */
export type GateEffect = "none" | "warn" | "fail" | "retry";

/** Which gate. */
export type GateName = "guard" | "assert" | "judge";

/** One check inside a gate (an assertion, a judge criterion). */
export interface CheckResult {
  /** The check's type as written (`file_contains`, `not-icontains`, `rubric`, ...). */
  type: string;
  /** A short name for people (`metric`, `name`, or the type and value). */
  name: string;
  /** Whether it passed. */
  passed: boolean;
  /** Score in [0, 1] (1/0 for deterministic checks). */
  score: number;
  /** Why it passed or failed. */
  reason: string;
  /** Weight in weighted aggregation. */
  weight?: number;
  /** `severity` of a workspace assertion (`error`, `warning`, `info`). */
  severity?: string;
  /** A failure of this check fails the judge whatever the aggregate score. */
  required?: boolean;
  /** The check could not be evaluated (bad spec, LLM failure). */
  error?: boolean;
}

/** The outcome of one gate on one attempt. */
export interface GateOutcome {
  /** Which gate. */
  gate: GateName;
  /** Its verdict. */
  verdict: Verdict;
  /** What it does to the attempt. */
  effect: GateEffect;
  /** Judges: aggregated score in [0, 1]. */
  score: number | null;
  /** Judges: pass_threshold. */
  threshold: number | null;
  /** Why, one line each (failed checks, guard output, judge reasoning). */
  reasons: string[];
  /** Per-check details. */
  checks: CheckResult[];
  /** The attempt's message when the gate fails it. */
  message: string;
  /** The failure category recorded in failure_history when it fails the attempt. */
  category: string;
  /** The exit code to record when it fails the attempt (guard: its exit code). */
  exitCode?: number;
  /** Judges: extra details for `judge_result` (method, model, raw reasoning, ...). */
  details?: Record<string, unknown>;
  /** The gate was cancelled (the run is stopping). */
  cancelled?: boolean;
}

/** The output of an attempt, as gates see it. */
export interface GateSubject {
  /** The task's output: an engine's final text, or a shell task's stdout tail. */
  output: string;
  /** Cost so far in USD (null: unknown). */
  costUsd: number | null;
  /** The attempt's wall time in seconds. */
  durationSec: number;
  /** What the task was asked to do (prompt or description), for LLM judges. */
  instruction?: string;
}

/** Rounds a score to 4 decimals so records and events stay readable. */
export function roundScore(score: number): number {
  return Math.round(score * 10000) / 10000;
}

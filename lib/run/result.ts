/**
 * The task result record: the reference tool's `<id>.result.json` keys, in its order, plus
 * helpers for timestamps and failure records. Keys that only engines, judges or context modes
 * fill (cost, tokens, judge_result, context_*) are present with null values so that existing
 * tooling finds every key it expects.
 *
 * @module
 */
import type { TaskStatus } from "./events.ts";
import type { ContextRecord } from "../context/runtime.ts";

/** One failed attempt. */
export interface FailureRecord {
  /** 1-based attempt number. */
  attempt: number;
  /** Coarse cause: timeout, command_not_found, verify_failed, exit_code, ... */
  category: string;
  /** Exit code of the step that failed. */
  exit_code: number | null;
  /** The attempt's message. */
  message: string;
  /** Last 300 characters of the verify command's output, when verify failed. */
  verify_tail: string | null;
  /** Seconds the attempt took. */
  duration_sec: number;
  /** Engine tasks: the engine the attempt ran on. */
  engine?: string;
  /** Engine tasks: the attempt's model as the plan names it (null: the CLI's default). */
  model?: string | null;
}

/** Fields derived from the output for downstream tasks (engines fill more of them later). */
export interface StructuredContext {
  /** The task's id. */
  task_id: string;
  /** Final status: success, failed, soft_failed, skipped, dry_run or cancelled. */
  status: TaskStatus;
  /** Exit code of the step that decided the status; null when nothing ran. */
  exit_code: number | null;
  /** Wall time in seconds. */
  duration_sec: number;
  /** Files the task reported changing. */
  files_changed: string[];
  /** Decisions the task reported. */
  decisions: string[];
  /** Error lines found in the output. */
  errors: string[];
  /** Warning lines found in the output. */
  warnings: string[];
  /** Cost in USD, or null when unknown. */
  cost_usd: number | null;
  /** An engine's final text (first 500 characters), or null. */
  result_text: string | null;
  /** An LLM summary, or null. */
  summary: string | null;
}

/**
 * `cost_source` of a result restored from the task result cache: its `cost_usd` is 0 because
 * nothing was spent in that run, not because the work is free (estimates leave it out).
 */
export const CACHE_HIT_COST_SOURCE = "cache";

/** `<id>.result.json` and the values of the manifest's `task_results`. */
export interface TaskResult {
  /** The task's id. */
  task_id: string;
  /** Final status: success, failed, soft_failed, skipped, dry_run or cancelled. */
  status: TaskStatus;
  /** Exit code of the step that decided the status; null when nothing ran. */
  exit_code: number | null;
  /** ISO-8601 start time, null when the task never started. */
  started_at: string | null;
  /** ISO-8601 end time, null when the task never started. */
  finished_at: string | null;
  /** Wall time in seconds. */
  duration_sec: number;
  /** The command as run (rendered, masked), or null. */
  command: string | null;
  /** Absolute path of `<task>.log`, or null when no log was written. */
  log_path: string | null;
  /** Absolute path of this result file. */
  result_path: string | null;
  /** One line on the outcome (`ok`, `Task failed with exit code N`, skip reasons …). */
  message: string;
  /** The last `stdout_tail_lines` lines of stdout (engine tasks: the final text). */
  stdout_tail: string;
  /** Cost in USD, or null when unknown. */
  cost_usd: number | null;
  /** Tokens {input, cached, output, total}, or null. */
  token_usage: Record<string, number> | null;
  /** Facts for downstream context (reference keys). */
  structured_context: StructuredContext;
  /** Attempts after the first. */
  retry_count: number;
  /** One record per failed attempt. */
  failure_history: FailureRecord[];
  /** Checkpoints taken (reference key; 0 for now). */
  checkpoint_count: number;
  /** Tool calls an engine made. */
  tool_call_count: number;
  /** The judge's verdict, or null. */
  judge_result: Record<string, unknown> | null;
  /** Summary left when retries are exhausted, or null. */
  handoff_report: { failure_category: string; partial_output: string; summary: string } | null;
  /** Contract type produced (reference key), or null. */
  produced_contract: string | null;
  /** Context tokens before budgeting (reference key), or null. */
  context_raw_tokens: number | null;
  /** Context tokens after budgeting (reference key), or null. */
  context_final_tokens: number | null;
  /** Final / raw context tokens (reference key), or null. */
  context_compression_ratio: number | null;
  /** Context bytes before budgeting (reference key), or null. */
  context_raw_bytes: number | null;
  /** Context bytes after budgeting (reference key), or null. */
  context_final_bytes: number | null;
  /** Reference key kept for compatibility, or null. */
  compression_ratio: number | null;
  /** Cache key of the task (reference key), or null. */
  task_hash: string | null;
  /** Pid (= process group) of the last process the task ran; absent when none ran. */
  pgid?: number;
  /**
   * Engine tasks: where `cost_usd` came from (`reported`, `priced`, `unknown`, or
   * {@linkcode CACHE_HIT_COST_SOURCE} for a result restored from the cache).
   */
  cost_source?: string;
  /** Engine tasks: the CLI's session/thread id of the last attempt, when it printed one. */
  session_id?: string | null;
  /** Engine tasks: the engine of the last attempt (the fallback's after a switch). */
  engine?: string;
  /** Engine tasks: the model of the last attempt as the plan names it (null: CLI default). */
  model?: string | null;
  /**
   * LLM side calls made for the task (judges, context modes), per purpose; their cost and
   * tokens are also counted in `cost_usd` / `token_usage` (lib/run/side_call.ts).
   */
  side_calls?: Record<string, SideCallUsage>;
  /** Verdicts of the task's gates (guard_command, assert, judge), in order (lib/gates/). */
  gates?: GateRecord[];
  /** Tasks with `output_schema`: the parsed JSON value of the final text (lib/context/). */
  output?: unknown;
  /** Tasks with `context_from`: how their context was built and delivered (lib/context/). */
  context?: ContextRecord | null;
  /** The task's output is untrusted (`context_trust: untrusted`, or taint from upstream). */
  tainted?: boolean;
  /** Cached tasks: whether this result was restored from the cache (absent when not cached). */
  from_cache?: boolean;
  /** Cache hits: the entry restored, and what the run that produced it took and spent. */
  cache?: CacheSource;
}

/** Where a restored result comes from (lib/run/cache_run.ts). */
export interface CacheSource {
  /** The entry's key (also in `task_hash`). */
  key: string;
  /** `success`, or `negative` (a failure remembered for `negative_cache_ttl_sec`). */
  kind: "success" | "negative";
  /** The run that produced the result. */
  run_id: string;
  /** When it was stored (ISO-8601). */
  cached_at: string;
  /** What the original run took. */
  duration_sec: number;
  /** What the original run spent (this run spent nothing). */
  cost_usd: number | null;
  /** Tokens the original run used. */
  tokens: number | null;
}

/** What the side calls of one purpose cost a task. */
export interface SideCallUsage {
  /** Calls made (cache hits included). */
  calls: number;
  /** Tokens used. */
  tokens: { input: number; cached: number; output: number };
  /** USD, null while no call reported a cost. */
  cost_usd: number | null;
}

/** One gate verdict in a task's result. */
export interface GateRecord {
  /** The attempt it judged (1-based). */
  attempt: number;
  /** Which gate. */
  gate: "guard" | "assert" | "judge";
  /** pass, warn (recorded, does not fail the task), fail, or error (could not decide). */
  verdict: "pass" | "warn" | "fail" | "error";
  /** Judges: aggregated score in [0, 1]; null otherwise. */
  score: number | null;
  /** Judges: pass_threshold; null otherwise. */
  threshold: number | null;
  /** What the verdict did: none, warn, fail or retry. */
  effect: "none" | "warn" | "fail" | "retry";
  /** Why: failed assertions, guard output, judge reasons. */
  reasons: string[];
  /** Per-check details (assertions, judge criteria). */
  checks?: Record<string, unknown>[];
}

/** What a caller decides about a result; everything else gets its default. */
export interface ResultFields {
  task_id: string;
  status: TaskStatus;
  message: string;
  exit_code?: number | null;
  started_at?: string | null;
  finished_at?: string | null;
  duration_sec?: number;
  command?: string | null;
  log_path?: string | null;
  result_path?: string | null;
  stdout_tail?: string;
  retry_count?: number;
  failure_history?: FailureRecord[];
  handoff_report?: TaskResult["handoff_report"];
}

/** Builds a result with every reference key, in the reference order. */
export function makeResult(fields: ResultFields): TaskResult {
  const duration = fields.duration_sec ?? 0;
  const exitCode = fields.exit_code ?? null;
  return {
    task_id: fields.task_id,
    status: fields.status,
    exit_code: exitCode,
    started_at: fields.started_at ?? null,
    finished_at: fields.finished_at ?? null,
    duration_sec: duration,
    command: fields.command ?? null,
    log_path: fields.log_path ?? null,
    result_path: fields.result_path ?? null,
    message: fields.message,
    stdout_tail: fields.stdout_tail ?? "",
    cost_usd: null,
    token_usage: null,
    structured_context: {
      task_id: fields.task_id,
      status: fields.status,
      exit_code: exitCode,
      duration_sec: duration,
      files_changed: [],
      decisions: [],
      errors: [],
      warnings: [],
      cost_usd: null,
      result_text: null,
      summary: null,
    },
    retry_count: fields.retry_count ?? 0,
    failure_history: fields.failure_history ?? [],
    checkpoint_count: 0,
    tool_call_count: 0,
    judge_result: null,
    handoff_report: fields.handoff_report ?? null,
    produced_contract: null,
    context_raw_tokens: null,
    context_final_tokens: null,
    context_compression_ratio: null,
    context_raw_bytes: null,
    context_final_bytes: null,
    compression_ratio: null,
    task_hash: null,
  };
}

/** Statuses that let dependents run (seed-behaviour §1.6). */
export const SUCCESS_LIKE: ReadonlySet<TaskStatus> = new Set<TaskStatus>([
  "success",
  "soft_failed",
  "dry_run",
  "skipped",
]);

/** Microseconds since the epoch (performance.now() gives the sub-millisecond part). */
export function nowMicros(): number {
  return Math.floor((performance.timeOrigin + performance.now()) * 1000);
}

/** ISO-8601 with microseconds and `+00:00`, the reference tool's timestamp format. */
export function isoMicros(micros: number = nowMicros()): string {
  const date = new Date(Math.floor(micros / 1000));
  const fraction = String(micros % 1_000_000).padStart(6, "0");
  return `${date.toISOString().slice(0, 19)}.${fraction}+00:00`;
}

/** Coarse failure category from an exit code and what happened. */
export function failureCategory(
  exitCode: number | null,
  flags: { timedOut?: boolean; verify?: boolean; pre?: boolean } = {},
): string {
  if (flags.timedOut || exitCode === 124) return "timeout";
  if (flags.verify) return "verify_failed";
  if (flags.pre) return "pre_command_failed";
  if (exitCode === 127) return "command_not_found";
  if (exitCode === 126) return "permission_denied";
  return "exit_code";
}

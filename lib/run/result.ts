/**
 * The task result record: the reference tool's `<id>.result.json` keys, in its order, plus
 * helpers for timestamps and failure records. Keys that only engines, judges or context modes
 * fill (cost, tokens, judge_result, context_*) are present with null values so that existing
 * tooling finds every key it expects.
 *
 * @module
 */
import type { TaskStatus } from "./events.ts";

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
}

/** Fields derived from the output for downstream tasks (engines fill more of them later). */
export interface StructuredContext {
  task_id: string;
  status: TaskStatus;
  exit_code: number | null;
  duration_sec: number;
  files_changed: string[];
  decisions: string[];
  errors: string[];
  warnings: string[];
  cost_usd: number | null;
  result_text: string | null;
  summary: string | null;
}

/** `<id>.result.json` and the values of the manifest's `task_results`. */
export interface TaskResult {
  task_id: string;
  status: TaskStatus;
  exit_code: number | null;
  started_at: string | null;
  finished_at: string | null;
  duration_sec: number;
  command: string | null;
  log_path: string | null;
  result_path: string | null;
  message: string;
  stdout_tail: string;
  cost_usd: number | null;
  token_usage: Record<string, number> | null;
  structured_context: StructuredContext;
  retry_count: number;
  failure_history: FailureRecord[];
  checkpoint_count: number;
  tool_call_count: number;
  judge_result: Record<string, unknown> | null;
  handoff_report: { failure_category: string; partial_output: string; summary: string } | null;
  produced_contract: string | null;
  context_raw_tokens: number | null;
  context_final_tokens: number | null;
  context_compression_ratio: number | null;
  context_raw_bytes: number | null;
  context_final_bytes: number | null;
  compression_ratio: number | null;
  task_hash: string | null;
  /** Pid (= process group) of the last process the task ran; absent when none ran. */
  pgid?: number;
  /** Engine tasks: where `cost_usd` came from (`reported`, `priced`, `unknown`). */
  cost_source?: string;
  /** Engine tasks: the CLI's session/thread id of the last attempt, when it printed one. */
  session_id?: string | null;
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

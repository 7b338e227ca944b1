/**
 * The rows the store keeps, and how they are built from a run directory's files. Live indexing
 * and `maestro reindex` use the same builders on the same files (`<task>.result.json`,
 * `run_manifest.json`), so a run indexed as it happened and the same run reindexed later give
 * the same rows.
 *
 * The files are read from disk, so they are checked here (the edge) before anything trusts
 * their shape; a field of the wrong type is an {@linkcode ArtifactError} naming the file and
 * the field.
 *
 * @module
 */
import type { TaskStatus } from "../run/events.ts";

/** Status of a run in the store. */
export type RunStatus =
  /** Started and not finished (yet, or maestro was killed: reindex turns it `incomplete`). */
  | "running"
  /** Every task success-like. */
  | "success"
  /** At least one task failed. */
  | "failed"
  /** Cancelled (Ctrl-C, SIGTERM). */
  | "interrupted"
  /** Reindexed from a run directory without a manifest: killed, or still running elsewhere. */
  | "incomplete";

/** Every {@linkcode RunStatus}, for validating `--status`. */
export const RUN_STATUSES: readonly RunStatus[] = [
  "running",
  "success",
  "failed",
  "interrupted",
  "incomplete",
];

/** One row of `runs` (the totals are derived from `task_results` by the store). */
export interface RunRecord {
  /** `YYYYmmdd_HHMMSS_ffffff_<6 hex>`, the run directory's name without the plan suffix. */
  run_id: string;
  /** The plan's `name`. */
  plan_name: string;
  /** The plan file, when the indexer was told it (reindex cannot know it). */
  plan_path: string | null;
  /** SHA-256 of the plan's canonical IR (from the manifest). */
  plan_hash: string | null;
  /** Where the run is. */
  status: RunStatus;
  /** ISO-8601 start, microseconds, `+00:00`. */
  started_at: string;
  /** ISO-8601 end, or null while running. */
  finished_at: string | null;
  /** Wall time in seconds, or null while running. */
  duration_sec: number | null;
  /** Number of tasks in the plan (after groups are flattened). */
  tasks_total: number;
  /** Absolute path of the run directory. */
  run_dir: string;
  /** The run directory this run resumed, or null. */
  resumed_from: string | null;
}

/** One row of `task_results`. */
export interface TaskRecord {
  /** The run. */
  run_id: string;
  /** The task's id (namespaced for group members). */
  task_id: string;
  /** The plan's name (kept per row: a task's history is looked up by plan and task). */
  plan_name: string;
  /** Final status. */
  status: TaskStatus;
  /** The engine that ran it (`shell` for commands, `group`), null when it never started. */
  engine: string | null;
  /** The model it was dispatched with, or null. */
  model: string | null;
  /** Attempts made in this run (0 for a task that never started or was reused by resume). */
  attempts: number;
  /** Exit code of the deciding step, or null. */
  exit_code: number | null;
  /** Wall time in seconds. */
  duration_sec: number;
  /** Input tokens (without cache reads), or null. */
  tokens_input: number | null;
  /** Cached input tokens, or null. */
  tokens_cached: number | null;
  /** Output tokens, or null. */
  tokens_output: number | null;
  /** Total tokens, or null. */
  tokens_total: number | null;
  /** Cost in USD, or null when unknown. */
  cost_usd: number | null;
  /** Where the cost came from: `reported`, `priced`, `unknown`, or null (shell tasks). */
  cost_source: string | null;
  /** ISO-8601 start, or null. */
  started_at: string | null;
  /** ISO-8601 end, or null. */
  finished_at: string | null;
  /** First line of the message when the task did not succeed, else null. */
  error: string | null;
  /** Reused from the run it resumed. */
  resumed: boolean;
}

/** One row of `attempts`. */
export interface AttemptRecord {
  /** The run. */
  run_id: string;
  /** The task. */
  task_id: string;
  /** 1-based attempt number. */
  attempt: number;
  /** `failed` for a failed attempt, else the task's final status. */
  status: string;
  /** Failure category (`exit_code`, `timeout`, `verify_failed`, engine categories …). */
  category: string | null;
  /** Exit code of the attempt's deciding step. */
  exit_code: number | null;
  /** Seconds the attempt took, when recorded. */
  duration_sec: number | null;
  /** First line of the attempt's message. */
  message: string | null;
}

/** A task's rows: its result and its attempts. */
export interface TaskRows {
  /** The `task_results` row. */
  task: TaskRecord;
  /** The `attempts` rows, in order. */
  attempts: AttemptRecord[];
}

/** How a task was dispatched, from its `task_start` event. */
export interface DispatchInfo {
  /** `task_start.engine`. */
  engine: string | null;
  /** `task_start.model`. */
  model: string | null;
}

/** A run artifact whose content is not what maestro writes. */
export class ArtifactError extends Error {
  /**
   * @param file the file
   * @param message what is wrong
   */
  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = "ArtifactError";
  }
}

const TASK_STATUSES: ReadonlySet<string> = new Set<TaskStatus>([
  "success",
  "failed",
  "soft_failed",
  "skipped",
  "dry_run",
  "cancelled",
]);

/** Field readers that name the file and field in their errors. */
class Fields {
  readonly #file: string;
  readonly #path: string;
  readonly #value: Record<string, unknown>;

  constructor(file: string, path: string, value: unknown) {
    this.#file = file;
    this.#path = path;
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      throw new ArtifactError(file, `${path || "content"}: expected an object`);
    }
    this.#value = value as Record<string, unknown>;
  }

  #fail(key: string, expected: string): never {
    const where = this.#path ? `${this.#path}.${key}` : key;
    throw new ArtifactError(this.#file, `${where}: expected ${expected}`);
  }

  raw(key: string): unknown {
    return this.#value[key];
  }

  string(key: string): string {
    const value = this.#value[key];
    return typeof value === "string" ? value : this.#fail(key, "a string");
  }

  stringOrNull(key: string): string | null {
    const value = this.#value[key];
    if (value === undefined || value === null) return null;
    return typeof value === "string" ? value : this.#fail(key, "a string or null");
  }

  number(key: string): number {
    const value = this.#value[key];
    return typeof value === "number" && Number.isFinite(value)
      ? value
      : this.#fail(key, "a number");
  }

  numberOrNull(key: string): number | null {
    const value = this.#value[key];
    if (value === undefined || value === null) return null;
    return typeof value === "number" && Number.isFinite(value)
      ? value
      : this.#fail(key, "a number or null");
  }

  boolean(key: string): boolean {
    const value = this.#value[key];
    return typeof value === "boolean" ? value : this.#fail(key, "true or false");
  }

  object(key: string): Record<string, unknown> {
    const value = this.#value[key];
    return value !== null && typeof value === "object" && !Array.isArray(value)
      ? value as Record<string, unknown>
      : this.#fail(key, "an object");
  }

  child(key: string): Fields {
    return new Fields(this.#file, this.#path ? `${this.#path}.${key}` : key, this.#value[key]);
  }

  status(key: string): TaskStatus {
    const value = this.string(key);
    return TASK_STATUSES.has(value) ? value as TaskStatus : this.#fail(key, "a task status");
  }
}

/** The first line of a text, cut to 300 characters. */
export function firstLine(text: string): string {
  const line = text.split("\n", 1)[0] ?? "";
  return line.length > 300 ? `${line.slice(0, 297)}...` : line;
}

/**
 * The ISO-8601 start time encoded in a run id (`YYYYmmdd_HHMMSS_ffffff_…`), the same string the
 * manifest's `started_at` holds.
 *
 * @param runId the run id
 * @returns the time, or null when the id does not start with a timestamp
 */
export function startedAtFromRunId(runId: string): string | null {
  const m = /^(\d{4})(\d{2})(\d{2})_(\d{2})(\d{2})(\d{2})_(\d{6})/.exec(runId);
  if (!m) return null;
  return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.${m[7]}+00:00`;
}

/** Seconds between two ISO-8601 times, to the millisecond, or null. */
function secondsBetween(start: string, end: string | null): number | null {
  if (end === null) return null;
  const ms = Date.parse(end) - Date.parse(start);
  return Number.isFinite(ms) ? Math.max(0, Math.round(ms)) / 1000 : null;
}

/**
 * A task's rows from its result (`<task>.result.json`, or an entry of the manifest's
 * `task_results`).
 *
 * @param value the parsed JSON
 * @param context the run, where the value came from (for errors), and how it was dispatched
 * @throws {ArtifactError} when a field has the wrong type
 */
export function taskRows(
  value: unknown,
  context: {
    runId: string;
    planName: string;
    file: string;
    dispatch?: DispatchInfo;
    resumed?: boolean;
  },
): TaskRows {
  const r = new Fields(context.file, "", value);
  const taskId = r.string("task_id");
  const status = r.status("status");
  const message = typeof r.raw("message") === "string" ? r.string("message") : "";
  const exitCode = r.numberOrNull("exit_code");
  const startedAt = r.stringOrNull("started_at");
  const resumed = context.resumed === true;
  const ran = startedAt !== null && !resumed;
  const retries = r.raw("retry_count") === undefined ? 0 : r.number("retry_count");
  const attemptsMade = ran ? retries + 1 : 0;
  const usage = r.raw("token_usage") === null || r.raw("token_usage") === undefined
    ? undefined
    : r.child("token_usage");
  const task: TaskRecord = {
    run_id: context.runId,
    task_id: taskId,
    plan_name: context.planName,
    status,
    engine: context.dispatch?.engine ?? null,
    model: context.dispatch?.model ?? null,
    attempts: attemptsMade,
    exit_code: exitCode,
    duration_sec: r.raw("duration_sec") === undefined ? 0 : r.number("duration_sec"),
    tokens_input: usage?.numberOrNull("input") ?? null,
    tokens_cached: usage?.numberOrNull("cached") ?? null,
    tokens_output: usage?.numberOrNull("output") ?? null,
    tokens_total: usage?.numberOrNull("total") ?? null,
    cost_usd: r.numberOrNull("cost_usd"),
    cost_source: r.stringOrNull("cost_source"),
    started_at: startedAt,
    finished_at: r.stringOrNull("finished_at"),
    error: status === "success" || status === "dry_run" ? null : firstLine(message) || null,
    resumed,
  };
  const attempts: AttemptRecord[] = [];
  if (ran) {
    const history = r.raw("failure_history");
    if (history !== undefined && !Array.isArray(history)) {
      throw new ArtifactError(context.file, "failure_history: expected a list");
    }
    for (const [i, item] of (history ?? []).entries()) {
      const f = new Fields(context.file, `failure_history[${i}]`, item);
      attempts.push({
        run_id: context.runId,
        task_id: taskId,
        attempt: f.number("attempt"),
        status: "failed",
        category: f.stringOrNull("category"),
        exit_code: f.numberOrNull("exit_code"),
        duration_sec: f.numberOrNull("duration_sec"),
        message: f.raw("message") === undefined ? null : firstLine(f.string("message")),
      });
    }
    // the last attempt, when it did not fail (failures are all in failure_history)
    if (attempts.length < attemptsMade && !attempts.some((a) => a.attempt === attemptsMade)) {
      attempts.push({
        run_id: context.runId,
        task_id: taskId,
        attempt: attemptsMade,
        status,
        category: null,
        exit_code: exitCode,
        duration_sec: null,
        message: message ? firstLine(message) : null,
      });
    }
  }
  return { task, attempts };
}

/** What a run's manifest says about the run, checked. */
export interface ManifestFacts {
  /** The run record. */
  run: RunRecord;
  /** `task_results`, unchecked values keyed by task id (checked one by one by taskRows). */
  results: Map<string, unknown>;
}

/**
 * The run record and the task results of a parsed `run_manifest.json`.
 *
 * @param value the parsed JSON
 * @param context the run directory as it is now, the plan file if known, and the file name
 * @throws {ArtifactError} when a field has the wrong type
 */
export function manifestFacts(
  value: unknown,
  context: { runDir: string; planPath: string | null; file: string },
): ManifestFacts {
  const m = new Fields(context.file, "", value);
  // fields in the order they were always checked: the first bad one is the one reported
  const startedAt = m.string("started_at");
  const finishedAt = m.stringOrNull("finished_at");
  const interrupted = m.raw("interrupted") === true;
  const raw = m.object("task_results");
  const run = runRecordOf({
    run_id: m.string("run_id"),
    plan_name: m.string("plan_name"),
    plan_hash: m.stringOrNull("plan_hash"),
    success: m.boolean("success"),
    interrupted,
    started_at: startedAt,
    finished_at: finishedAt,
    resumed_from: m.stringOrNull("resumed_from"),
  }, { ...context, tasksTotal: Object.keys(raw).length });
  return { run, results: new Map(Object.entries(raw)) };
}

/** The top-level fields of a run manifest that make the run's row. */
export interface ManifestHead {
  run_id: string;
  plan_name: string;
  plan_hash: string | null;
  success: boolean;
  interrupted: boolean;
  started_at: string;
  finished_at: string | null;
  resumed_from: string | null;
}

/**
 * The run's final row from its manifest's top-level fields (read from the file by
 * {@linkcode manifestFacts}, or handed over in memory by the run).
 */
export function runRecordOf(
  head: ManifestHead,
  context: { runDir: string; planPath: string | null; tasksTotal: number },
): RunRecord {
  return {
    run_id: head.run_id,
    plan_name: head.plan_name,
    plan_path: context.planPath,
    plan_hash: head.plan_hash,
    status: head.interrupted ? "interrupted" : head.success ? "success" : "failed",
    started_at: head.started_at,
    finished_at: head.finished_at,
    duration_sec: secondsBetween(head.started_at, head.finished_at),
    tasks_total: context.tasksTotal,
    run_dir: context.runDir,
    resumed_from: head.resumed_from,
  };
}

/**
 * Reading run history: the rows behind `maestro runs`, newest first, in the stable JSON shape
 * `maestro runs --json` prints (documented in docs/store.md).
 *
 * A row still marked `running` may belong to a run that was killed (`kill -9`, a crash): its
 * end was never indexed. Such rows are checked the way `report` and `blame` check a run
 * directory (lib/inspect/liveness.ts) and shown as `incomplete` when nothing holds the run any
 * more. Only those rows are checked, so listing finished runs reads no files.
 *
 * @module
 */
import type { Row } from "@libsql/client";
import { pathExists } from "../fs.ts";
import { type LiveScan, runLiveness, scanLiveRuns } from "../inspect/liveness.ts";
import type { RunStatus } from "./records.ts";
import type { Store } from "./store.ts";

/** Filters of {@linkcode listRuns}. */
export interface RunFilter {
  /** Only runs of the plan with this `name`. */
  plan?: string;
  /** Only runs with this status. */
  status?: RunStatus;
  /** At most this many runs (newest first). @default {20} */
  limit?: number;
}

/** One run as `maestro runs --json` prints it. */
export interface RunSummary {
  /** Run id. */
  run_id: string;
  /** Plan name. */
  plan_name: string;
  /** Plan file, when known. */
  plan_path: string | null;
  /** SHA-256 of the plan's canonical IR, when known. */
  plan_hash: string | null;
  /** running, success, failed, interrupted or incomplete. */
  status: RunStatus;
  /** ISO-8601 start. */
  started_at: string;
  /** ISO-8601 end, or null. */
  finished_at: string | null;
  /** Wall time in seconds, or null while running. */
  duration_sec: number | null;
  /** Tasks by final status (indexed so far, for a running run). */
  tasks: {
    total: number;
    success: number;
    soft_failed: number;
    failed: number;
    skipped: number;
    cancelled: number;
  };
  /** Token totals over the tasks that reported them, or null. */
  tokens: {
    input: number | null;
    cached: number | null;
    output: number | null;
    total: number | null;
  };
  /** Cost in USD over the tasks that reported one, or null. */
  cost_usd: number | null;
  /** The run directory. */
  run_dir: string;
  /** The run directory this run resumed, or null. */
  resumed_from: string | null;
}

function text(row: Row, column: string): string {
  const value = row[column];
  if (typeof value !== "string") throw new TypeError(`runs.${column}: expected text`);
  return value;
}

function textOrNull(row: Row, column: string): string | null {
  const value = row[column];
  return typeof value === "string" ? value : null;
}

function num(row: Row, column: string): number {
  const value = row[column];
  return typeof value === "number" ? value : typeof value === "bigint" ? Number(value) : 0;
}

function numOrNull(row: Row, column: string): number | null {
  const value = row[column];
  return typeof value === "number" ? value : typeof value === "bigint" ? Number(value) : null;
}

/**
 * The status a run shows: the stored one, except that a row still marked `running` whose run
 * nothing holds any more (killed) is `incomplete`, as `report` and `blame` call it.
 *
 * @param stored the row's status
 * @param runDir the row's run directory
 * @param runId the row's run id
 * @param scan the live processes, scanned lazily (once per listing)
 */
export function shownStatus(
  stored: RunStatus,
  runDir: string,
  runId: string,
  scan: () => LiveScan,
): RunStatus {
  if (stored !== "running") return stored;
  // a directory this machine cannot see (a shared store, another host): nothing can be told
  if (!pathExists(runDir)) return stored;
  // "finished" (a manifest the store has not caught up with) and "unknown" (no /proc) keep
  // the store's word: only a run known to be held by nobody is called incomplete
  return runLiveness(runDir, runId, scan) === "stopped" ? "incomplete" : stored;
}

/**
 * The SQL status condition of a filter: a run shown `incomplete` may be stored as `running`,
 * so both filters read the `running` rows and keep what {@linkcode shownStatus} says.
 */
function statusCondition(status: RunStatus | undefined): { sql: string; args: string[] } | null {
  if (status === undefined) return null;
  if (status === "incomplete") return { sql: "status IN (?, ?)", args: ["incomplete", "running"] };
  return { sql: "status = ?", args: [status] };
}

/**
 * Runs in the store, newest first.
 *
 * @param store the open store
 * @param filter plan, status, limit
 * @returns the runs
 */
export async function listRuns(store: Store, filter: RunFilter = {}): Promise<RunSummary[]> {
  const where: string[] = [];
  const args: (string | number)[] = [];
  if (filter.plan !== undefined) {
    where.push("plan_name = ?");
    args.push(filter.plan);
  }
  const condition = statusCondition(filter.status);
  if (condition) {
    where.push(condition.sql);
    args.push(...condition.args);
  }
  const limit = filter.limit ?? 20;
  // `running` and `incomplete` are decided after reading (some running rows turn incomplete),
  // so their few rows are read whole and cut to the limit afterwards
  const decidedLater = filter.status === "running" || filter.status === "incomplete";
  if (!decidedLater) args.push(limit);
  const rows = await store.read(
    `SELECT * FROM runs ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
     ORDER BY started_at DESC, run_id DESC${decidedLater ? "" : " LIMIT ?"}`,
    args,
  );
  let scan: LiveScan | undefined;
  const lazyScan = () => (scan ??= scanLiveRuns());
  const runs = rows.map((row) => summary(row, lazyScan));
  return decidedLater ? runs.filter((run) => run.status === filter.status).slice(0, limit) : runs;
}

function summary(row: Row, scan: () => LiveScan): RunSummary {
  const runId = text(row, "run_id");
  const runDir = text(row, "run_dir");
  return {
    run_id: runId,
    plan_name: text(row, "plan_name"),
    plan_path: textOrNull(row, "plan_path"),
    plan_hash: textOrNull(row, "plan_hash"),
    status: shownStatus(text(row, "status") as RunStatus, runDir, runId, scan),
    started_at: text(row, "started_at"),
    finished_at: textOrNull(row, "finished_at"),
    duration_sec: numOrNull(row, "duration_sec"),
    tasks: {
      total: num(row, "tasks_total"),
      success: num(row, "tasks_success"),
      soft_failed: num(row, "tasks_soft_failed"),
      failed: num(row, "tasks_failed"),
      skipped: num(row, "tasks_skipped"),
      cancelled: num(row, "tasks_cancelled"),
    },
    tokens: {
      input: numOrNull(row, "tokens_input"),
      cached: numOrNull(row, "tokens_cached"),
      output: numOrNull(row, "tokens_output"),
      total: numOrNull(row, "tokens_total"),
    },
    cost_usd: numOrNull(row, "cost_usd"),
    run_dir: runDir,
    resumed_from: textOrNull(row, "resumed_from"),
  };
}

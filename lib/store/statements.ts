/**
 * The SQL that writes records. Every write is an upsert keyed by run id (and task id, attempt
 * number), so indexing the same run again — live, then by `maestro reindex`, or twice — leaves
 * one set of rows: reindexing is idempotent.
 *
 * @module
 */
import type { InStatement } from "@libsql/client";
import type { AttemptRecord, RunRecord, TaskRecord } from "./records.ts";

const RUN_COLUMNS = [
  "run_id",
  "plan_name",
  "plan_path",
  "plan_hash",
  "status",
  "started_at",
  "finished_at",
  "duration_sec",
  "tasks_total",
  "run_dir",
  "resumed_from",
  "indexed_at",
] as const;

/**
 * Inserts or updates a run. A finished run is never turned back into an unfinished one: a
 * reindex that read a run directory before its manifest was written does not undo the live
 * indexer's final write. A plan path or hash already known is kept when the new record has
 * none (reindex cannot know the plan file).
 *
 * @param run the record
 * @param indexedAt when it was written (ISO-8601)
 */
export function upsertRun(run: RunRecord, indexedAt: string): InStatement {
  const values = { ...run, indexed_at: indexedAt };
  const keep = new Set(["plan_path", "plan_hash"]);
  const updates = RUN_COLUMNS.filter((c) => c !== "run_id").map((c) =>
    keep.has(c) ? `${c} = COALESCE(excluded.${c}, runs.${c})` : `${c} = excluded.${c}`
  );
  return {
    sql: `INSERT INTO runs (${RUN_COLUMNS.join(", ")})
      VALUES (${RUN_COLUMNS.map(() => "?").join(", ")})
      ON CONFLICT (run_id) DO UPDATE SET ${updates.join(", ")}
      WHERE runs.finished_at IS NULL OR excluded.finished_at IS NOT NULL`,
    args: RUN_COLUMNS.map((c) => values[c]),
  };
}

const TASK_COLUMNS = [
  "run_id",
  "task_id",
  "plan_name",
  "status",
  "engine",
  "model",
  "attempts",
  "exit_code",
  "duration_sec",
  "tokens_input",
  "tokens_cached",
  "tokens_output",
  "tokens_total",
  "cost_usd",
  "cost_source",
  "started_at",
  "finished_at",
  "error",
  "resumed",
] as const;

/**
 * Inserts or updates a task's result row (an engine or model already known is kept when the
 * new record has none).
 *
 * @param task the record
 */
export function upsertTask(task: TaskRecord): InStatement {
  const keep = new Set(["engine", "model"]);
  const updates = TASK_COLUMNS.filter((c) => c !== "run_id" && c !== "task_id").map((c) =>
    keep.has(c) ? `${c} = COALESCE(excluded.${c}, task_results.${c})` : `${c} = excluded.${c}`
  );
  return {
    sql: `INSERT INTO task_results (${TASK_COLUMNS.join(", ")})
      VALUES (${TASK_COLUMNS.map(() => "?").join(", ")})
      ON CONFLICT (run_id, task_id) DO UPDATE SET ${updates.join(", ")}`,
    args: TASK_COLUMNS.map((c) => c === "resumed" ? (task.resumed ? 1 : 0) : task[c]),
  };
}

/**
 * Replaces a task's attempt rows.
 *
 * @param runId the run
 * @param taskId the task
 * @param attempts the new rows
 */
export function replaceAttempts(
  runId: string,
  taskId: string,
  attempts: readonly AttemptRecord[],
): InStatement[] {
  return [
    { sql: "DELETE FROM attempts WHERE run_id = ? AND task_id = ?", args: [runId, taskId] },
    ...attempts.map((a) => ({
      sql: `INSERT INTO attempts
        (run_id, task_id, attempt, status, category, exit_code, duration_sec, message)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (run_id, task_id, attempt) DO UPDATE SET status = excluded.status,
        category = excluded.category, exit_code = excluded.exit_code,
        duration_sec = excluded.duration_sec, message = excluded.message`,
      args: [
        a.run_id,
        a.task_id,
        a.attempt,
        a.status,
        a.category,
        a.exit_code,
        a.duration_sec,
        a.message,
      ],
    })),
  ];
}

/**
 * Recomputes a run's counts by status, tokens and cost from its task rows (one scan of the
 * run's rows), so the totals always agree with the tasks indexed so far.
 *
 * @param runId the run
 */
export function refreshRunTotals(runId: string): InStatement {
  return {
    sql: `UPDATE runs SET
        tasks_success = t.success, tasks_soft_failed = t.soft_failed, tasks_failed = t.failed,
        tasks_skipped = t.skipped, tasks_cancelled = t.cancelled,
        tokens_input = t.tokens_input, tokens_cached = t.tokens_cached,
        tokens_output = t.tokens_output, tokens_total = t.tokens_total, cost_usd = t.cost_usd
      FROM (SELECT
          COUNT(*) FILTER (WHERE status = 'success') AS success,
          COUNT(*) FILTER (WHERE status = 'soft_failed') AS soft_failed,
          COUNT(*) FILTER (WHERE status = 'failed') AS failed,
          COUNT(*) FILTER (WHERE status = 'skipped') AS skipped,
          COUNT(*) FILTER (WHERE status = 'cancelled') AS cancelled,
          SUM(tokens_input) AS tokens_input, SUM(tokens_cached) AS tokens_cached,
          SUM(tokens_output) AS tokens_output, SUM(tokens_total) AS tokens_total,
          SUM(cost_usd) AS cost_usd
        FROM task_results WHERE run_id = ?1) AS t
      WHERE runs.run_id = ?1`,
    args: [runId],
  };
}

/** SQLite's default limit of `?` parameters in one statement is 32 766; stay well below. */
const MAX_ARGS = 30_000;

/**
 * Merges single-row `INSERT … VALUES (?, …) …` statements that share their SQL into multi-row
 * statements (chunked under SQLite's parameter limit), keeping their order. One statement per
 * table and flush instead of one per row: libSQL prepares every statement on the caller's
 * thread, which made the indexer cost ≈ 0.6 ms of the event loop per task.
 *
 * @param rows statements with identical `sql` (as built by {@linkcode upsertTask} or the
 *   attempt inserts) and array `args`
 * @returns the merged statements (the input itself when there is at most one row)
 */
export function mergeRows(rows: readonly InStatement[]): InStatement[] {
  const first = rows[0];
  if (rows.length <= 1 || first === undefined || typeof first === "string") return [...rows];
  const sql = first.sql;
  const at = sql.indexOf("VALUES (");
  const close = sql.indexOf(")", at);
  if (at < 0 || close < 0) throw new Error("mergeRows: not a single-row INSERT … VALUES (…)");
  const head = sql.slice(0, at + "VALUES ".length);
  const group = sql.slice(at + "VALUES ".length, close + 1);
  const tail = sql.slice(close + 1);
  const width = Array.isArray(first.args) ? first.args.length : 0;
  const perStatement = Math.max(1, Math.floor(MAX_ARGS / Math.max(1, width)));
  const merged: InStatement[] = [];
  for (let start = 0; start < rows.length; start += perStatement) {
    const chunk = rows.slice(start, start + perStatement);
    const args = chunk.flatMap((row) => {
      if (typeof row === "string" || row.sql !== sql || !Array.isArray(row.args)) {
        throw new Error("mergeRows: rows must share their SQL and have array args");
      }
      return row.args;
    });
    merged.push({ sql: `${head}${chunk.map(() => group).join(", ")}${tail}`, args });
  }
  return merged;
}

/**
 * Deletes the attempt rows of several tasks of one run (chunked under the parameter limit).
 *
 * @param runId the run
 * @param taskIds the tasks whose attempts are replaced
 */
export function deleteAttempts(runId: string, taskIds: readonly string[]): InStatement[] {
  const out: InStatement[] = [];
  for (let start = 0; start < taskIds.length; start += MAX_ARGS - 1) {
    const chunk = taskIds.slice(start, start + MAX_ARGS - 1);
    out.push({
      sql: `DELETE FROM attempts WHERE run_id = ? AND task_id IN (${
        chunk.map(() => "?").join(", ")
      })`,
      args: [runId, ...chunk],
    });
  }
  return out;
}

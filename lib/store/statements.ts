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

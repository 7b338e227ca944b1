/**
 * The data of a `maestro report` page (also what `maestro report --json` prints): the run's
 * figures, its critical path, and one record per task. Built from a {@linkcode RunView}.
 *
 * @module
 */
import { criticalPath } from "../run/summary.ts";
import type { TaskResult } from "../run/result.ts";
import { type RunView, taskTokens, type ViewStatus } from "./run_view.ts";

/** One task in the report. */
export interface ReportTask {
  /** The id. */
  id: string;
  /** The description. */
  description: string;
  /** Its status. */
  status: ViewStatus;
  /** shell, group, or the engine. */
  engine: string;
  /** The model, or null. */
  model: string | null;
  /** Direct dependencies. */
  depends_on: string[];
  /** ISO-8601 start, or null. */
  started_at: string | null;
  /** ISO-8601 end, or null. */
  finished_at: string | null;
  /** Seconds. */
  duration_sec: number;
  /** Exit code, or null. */
  exit_code: number | null;
  /** Attempts made (0 when it never ran). */
  attempts: number;
  /** The result's message. */
  message: string;
  /** USD, or null. */
  cost_usd: number | null;
  /** reported, priced, unknown, or null (shell). */
  cost_source: string | null;
  /** Tokens, or null. */
  tokens: { input: number; cached: number; output: number; total: number } | null;
  /** The log file, or null. */
  log_path: string | null;
  /** On the critical path. */
  critical: boolean;
}

/** What a report shows. */
export interface ReportData {
  /** Version of this shape (fields are only added). */
  schema: 1;
  /** The run. */
  run: {
    run_id: string;
    plan_name: string;
    status: string;
    started_at: string | null;
    finished_at: string | null;
    duration_sec: number | null;
    run_dir: string;
    resumed_from: string | null;
    execution_profile: string | null;
    tasks_planned: number;
    counts: Record<string, number>;
    cost_usd: number | null;
    tokens: { input: number; cached: number; output: number; total: number } | null;
    sequential_duration_sec: number | null;
    parallelism_savings_pct: number | null;
    graph_known: boolean;
  };
  /** The chain of dependencies whose durations add up to the longest time. */
  critical_path: { path: string[]; seconds: number };
  /** Every task, in plan order. */
  tasks: ReportTask[];
}

function attemptsOf(result: TaskResult | null): number {
  if (!result || result.started_at === null) return 0;
  return (result.retry_count ?? 0) + 1;
}

/**
 * Builds a report's data.
 *
 * @param run the run
 * @returns the data
 */
export function reportData(run: RunView): ReportData {
  const results = new Map<string, TaskResult>();
  for (const task of run.tasks) if (task.result) results.set(task.id, task.result);
  const critical = run.graphKnown
    ? criticalPath(run.tasks, results)
    : { path: [] as string[], seconds: 0 };
  const onPath = new Set(critical.path);
  const tasks = run.tasks.map((task): ReportTask => {
    const r = task.result;
    return {
      id: task.id,
      description: task.description,
      status: task.status,
      engine: task.engine,
      model: task.model,
      depends_on: task.depends_on,
      started_at: r?.started_at ?? null,
      finished_at: r?.finished_at ?? null,
      duration_sec: r?.duration_sec ?? 0,
      exit_code: r?.exit_code ?? null,
      attempts: attemptsOf(r),
      message: r?.message ?? "",
      cost_usd: r?.cost_usd ?? null,
      cost_source: r?.cost_source ?? null,
      tokens: taskTokens(r),
      log_path: r?.log_path ?? null,
      critical: onPath.has(task.id),
    };
  });
  const counts: Record<string, number> = {};
  for (const task of tasks) counts[task.status] = (counts[task.status] ?? 0) + 1;
  const costs = tasks.map((t) => t.cost_usd).filter((c): c is number => c !== null);
  const withTokens = tasks.map((t) => t.tokens).filter((t) => t !== null);
  const tokens = withTokens.length === 0 ? null : withTokens.reduce((sum, t) => ({
    input: sum.input + t.input,
    cached: sum.cached + t.cached,
    output: sum.output + t.output,
    total: sum.total + t.total,
  }), { input: 0, cached: 0, output: 0, total: 0 });
  const m = run.manifest;
  return {
    schema: 1,
    run: {
      run_id: run.runId,
      plan_name: run.planName,
      status: run.status,
      started_at: run.startedAt,
      finished_at: run.finishedAt,
      duration_sec: run.durationSec,
      run_dir: run.dir,
      resumed_from: m?.resumed_from ?? null,
      execution_profile: m?.execution_profile ?? null,
      tasks_planned: run.plannedTasks,
      counts,
      cost_usd: m?.total_cost_usd ??
        (costs.length ? Math.round(costs.reduce((a, b) => a + b, 0) * 1e6) / 1e6 : null),
      tokens,
      sequential_duration_sec: m?.sequential_duration_sec ?? null,
      parallelism_savings_pct: m?.parallelism_savings_pct ?? null,
      graph_known: run.graphKnown,
    },
    critical_path: critical,
    tasks,
  };
}

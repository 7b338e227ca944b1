/**
 * `run_summary.md`: the run at a glance for humans (seed-behaviour §5), plus the critical
 * path: the chain of dependent tasks whose durations add up to the longest time, i.e. what to
 * speed up to make the run faster.
 *
 * @module
 */
import { depths, type GraphNode } from "../dag/graph.ts";
import type { TaskIR } from "../plan/ir.ts";
import type { RunManifest } from "./artifacts.ts";
import type { TaskStatus } from "./events.ts";

/** What the summary reads of one task's result. */
export interface SummaryResult {
  task_id: string;
  status: TaskStatus;
  duration_sec: number;
  message: string;
  /** Cost in USD (engine tasks), when known. */
  cost_usd?: number | null;
  /** Tokens (engine tasks): `total` is shown. */
  token_usage?: Record<string, number> | null;
  /** Restored from the cache (docs/cache.md). */
  from_cache?: boolean;
}

/**
 * The results the summary reads: by id, and all of them in `task_results` order. A
 * `Map<string, TaskResult>` in that order fits, and so does the run's compact `TaskFacts`.
 */
export interface SummaryResults {
  /** One task's result, if it has one. */
  get(id: string): SummaryResult | undefined;
  /** Every result, in the manifest's `task_results` order. */
  values(): Iterable<SummaryResult>;
}

/** The duration-weighted longest dependency chain, first task first, and its total seconds. */
export function criticalPath(
  tasks: readonly GraphNode[],
  results: SummaryResults,
): { path: string[]; seconds: number } {
  const depth = depths(tasks);
  const order = [...tasks].sort((a, b) => depth.get(a.id)! - depth.get(b.id)!);
  const best = new Map<string, { total: number; prev: string | null }>();
  for (const task of order) {
    const own = results.get(task.id)?.duration_sec ?? 0;
    let prev: string | null = null;
    let base = 0;
    for (const dep of task.depends_on) {
      const entry = best.get(dep);
      if (entry && entry.total > base) {
        base = entry.total;
        prev = dep;
      }
    }
    best.set(task.id, { total: base + own, prev });
  }
  let end: string | null = null;
  let top = -1;
  for (const [id, entry] of best) {
    if (entry.total > top) {
      top = entry.total;
      end = id;
    }
  }
  const path: string[] = [];
  for (let at = end; at !== null; at = best.get(at)!.prev) path.unshift(at);
  return { path, seconds: Math.round(Math.max(0, top) * 1000) / 1000 };
}

/** `$0.42 of $1.00 (daily since …, $0.30 by other runs); exceeded; 2 tasks stopped`. */
function budgetCell(budget: NonNullable<RunManifest["budget"]>): string {
  const others = budget.spent_other > 0
    ? `, $${budget.spent_other} ${budget.period ? "by other runs" : "reused"}`
    : "";
  const period = budget.period ? `${budget.period} since ${budget.since}` : "per run";
  const parts = [`$${budget.spent} of $${budget.limit} (${period}${others}, ${budget.mode})`];
  if (budget.warned) parts.push(`warning at ${Math.round(budget.warning_pct * 100)}%`);
  if (budget.exceeded) parts.push("exceeded");
  if (budget.tasks_stopped > 0) parts.push(`${budget.tasks_stopped} task(s) stopped`);
  return parts.join("; ");
}

function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

/**
 * Renders run_summary.md.
 *
 * @param manifest the run's manifest (its `task_results` are only read when `facts` is absent)
 * @param tasks the plan's tasks, in plan order
 * @param facts the results to summarise (a streamed manifest does not hold them)
 */
export function renderSummary(
  manifest: RunManifest,
  tasks: readonly TaskIR[],
  facts: SummaryResults = new Map(Object.entries(manifest.task_results)),
): string {
  const results = [...facts.values()];
  const count = (status: string) => results.filter((r) => r.status === status).length;
  const wall = (Date.parse(manifest.finished_at) - Date.parse(manifest.started_at)) / 1000;
  const status = manifest.interrupted ? "INTERRUPTED" : manifest.success ? "SUCCESS" : "FAILED";
  const lines = [
    `# Run Summary: ${manifest.plan_name}`,
    "",
    "| Field | Value |",
    "| --- | --- |",
    `| Run ID | ${manifest.run_id} |`,
    `| Status | ${status} |`,
    `| Duration | ${wall.toFixed(1)}s |`,
    `| Started | ${manifest.started_at} |`,
    `| Tasks | ${count("success")} ok, ${count("soft_failed")} soft-failed, ${
      count("failed")
    } failed, ${count("skipped")} skipped, ${count("cancelled")} cancelled |`,
    `| Cost | ${manifest.total_cost_usd === null ? "n/a" : `$${manifest.total_cost_usd}`} |`,
    `| Tokens | ${manifest.total_tokens ?? "n/a"} |`,
    `| Parallelism | ${
      manifest.parallelism_savings_pct === null
        ? "n/a"
        : `${manifest.parallelism_savings_pct}% saved`
    } |`,
    `| Profile | ${manifest.execution_profile} |`,
  ];
  if (manifest.resumed_from) lines.push(`| Resumed from | ${manifest.resumed_from} |`);
  const hits = results.filter((r) => r.from_cache).length;
  if (hits > 0) lines.push(`| Cache | ${hits} of ${results.length} tasks restored (cache hits) |`);
  if (manifest.budget) lines.push(`| Budget | ${budgetCell(manifest.budget)} |`);
  lines.push("", "## Tasks", "", "| Task | Status | Duration | Cost | Tokens | Engine |");
  lines.push("| --- | --- | --- | --- | --- | --- |");
  for (const task of tasks) {
    const r = facts.get(task.id);
    if (!r) continue;
    const status = r.from_cache ? `${r.status} (cache hit)` : r.status;
    lines.push(
      `| ${cell(task.id)} | ${status} | ${r.duration_sec.toFixed(1)}s | ${
        r.cost_usd == null ? "n/a" : `$${r.cost_usd}`
      } | ${r.token_usage?.total ?? "n/a"} | ${task.engine ?? "shell"} |`,
    );
  }
  const critical = criticalPath(tasks, facts);
  lines.push("", "## Critical path", "");
  lines.push(
    critical.path.length > 0
      ? `${critical.path.map(cell).join(" → ")} (${critical.seconds.toFixed(1)}s)`
      : "(no task ran)",
  );
  const depth = depths(tasks);
  const waves = new Map<number, string[]>();
  for (const task of tasks) {
    const d = depth.get(task.id) ?? 0;
    // push, not copy: copying the list per task was O(n²) for a wide plan
    const wave = waves.get(d);
    if (wave) wave.push(task.id);
    else waves.set(d, [task.id]);
  }
  lines.push("", "## Timeline", "");
  for (const [wave, ids] of [...waves].sort((a, b) => a[0] - b[0])) {
    lines.push(`- Wave ${wave + 1}: ${ids.map(cell).join(", ")}`);
  }
  // a gate warning (judge or assertion) leaves a note in the message of a task that passed
  const warned = results.filter((r) =>
    r.status !== "failed" && r.message.includes("[gate warning:")
  );
  if (warned.length > 0) {
    lines.push("", "## Gate warnings", "");
    for (const r of warned) lines.push(`- ${cell(r.task_id)}: ${cell(r.message)}`);
  }
  const failures = results.filter((r) => r.status === "failed");
  if (failures.length > 0) {
    lines.push("", "## Failures", "");
    for (const r of failures) lines.push(`- ${cell(r.task_id)}: ${cell(r.message)}`);
  }
  return lines.join("\n") + "\n";
}

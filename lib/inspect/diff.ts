/**
 * `maestro diff`: what changed, task by task, between two runs (usually of one plan): status,
 * duration, cost and tokens; tasks added or removed; and which changes are regressions.
 *
 * Regressions (the command exits 1 when there is one):
 * - **status**: a task that is `failed` or `soft_failed` in B and was `success` in A (or
 *   skipped for a reason that is not a failure: a condition, `--skip`, an approval), or a task
 *   new in B that failed. A task skipped in A because of a failure (a failed dependency,
 *   fail_fast, the circuit breaker) is not: it never had the chance to succeed;
 * - **duration**: a task that succeeded in both runs and took more than `durationPct` percent
 *   longer in B, by at least `minDurationSec` seconds (so a 0.1 s task that takes 0.3 s is
 *   noise, not a regression);
 * - **cost**: a task that reported a cost in both runs and cost more than `costPct` percent
 *   more in B, by at least `minCostUsd` dollars.
 *
 * @module
 */
import { type RunView, taskTokens, type TaskView, type ViewStatus } from "./run_view.ts";

/** Thresholds of {@linkcode diffRuns}. */
export interface DiffThresholds {
  /** A slowdown above this many percent is a regression. @default {50} */
  durationPct?: number;
  /** …when it is at least this many seconds. @default {1} */
  minDurationSec?: number;
  /** A cost increase above this many percent is a regression. @default {20} */
  costPct?: number;
  /** …when it is at least this many dollars. @default {0.01} */
  minCostUsd?: number;
}

/** The defaults of {@linkcode DiffThresholds}. */
export const DEFAULT_THRESHOLDS: Required<DiffThresholds> = {
  durationPct: 50,
  minDurationSec: 1,
  costPct: 20,
  minCostUsd: 0.01,
};

/** One side of a task's comparison. */
export interface TaskSide {
  /** Status in that run. */
  status: ViewStatus;
  /** Seconds. */
  duration_sec: number;
  /** USD, or null. */
  cost_usd: number | null;
  /** Total tokens, or null. */
  tokens: number | null;
  /** The result's message. */
  message: string;
}

/** What kind of regression. */
export type RegressionKind = "status" | "duration" | "cost";

/** One task compared. */
export interface TaskDiff {
  /** The task id. */
  task_id: string;
  /** added (only in B), removed (only in A), changed (its status), unchanged (its status). */
  change: "added" | "removed" | "changed" | "unchanged";
  /** A's side, or null when added. */
  a: TaskSide | null;
  /** B's side, or null when removed. */
  b: TaskSide | null;
  /** B − A seconds, when both ran. */
  duration_delta_sec: number | null;
  /** B − A dollars, when both reported a cost. */
  cost_delta_usd: number | null;
  /** B − A tokens, when both reported tokens. */
  tokens_delta: number | null;
  /** Regressions found on this task. */
  regressions: RegressionKind[];
  /** A failure in A that succeeded in B. */
  fixed: boolean;
}

/** One run's figures in a diff. */
export interface RunSide {
  /** Run id. */
  run_id: string;
  /** Plan name. */
  plan_name: string;
  /** Run status. */
  status: string;
  /** Wall seconds, or null. */
  duration_sec: number | null;
  /** Σ task costs, or null. */
  cost_usd: number | null;
  /** Σ task tokens, or null. */
  tokens: number | null;
  /** The run directory. */
  run_dir: string;
}

/** What `maestro diff` reports. */
export interface RunDiff {
  /** Run A (the baseline). */
  a: RunSide;
  /** Run B (compared with A). */
  b: RunSide;
  /** The thresholds used. */
  thresholds: {
    duration_pct: number;
    min_duration_sec: number;
    cost_pct: number;
    min_cost_usd: number;
  };
  /** Every task of either run: A's order, then tasks only in B. */
  tasks: TaskDiff[];
  /** Counts. */
  counts: {
    added: number;
    removed: number;
    changed: number;
    unchanged: number;
    regressions: number;
    fixed: number;
  };
  /** Tasks with at least one regression. */
  regressions: { task_id: string; kinds: RegressionKind[]; detail: string }[];
}

const BAD: ReadonlySet<ViewStatus> = new Set(["failed", "soft_failed"]);
/** Skips caused by a failure: such a task never had the chance to succeed. */
const BLOCKED =
  /^(Skipped because dependency failed: |fail_fast triggered by task |circuit breaker tripped: )/;

/** Success-like in a way that failing later is a regression: it ran fine, or was left out. */
function wasFine(side: TaskSide): boolean {
  if (side.status === "success" || side.status === "dry_run") return true;
  return side.status === "skipped" && !BLOCKED.test(side.message);
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

function side(task: TaskView): TaskSide {
  return {
    status: task.status,
    duration_sec: task.result?.duration_sec ?? 0,
    cost_usd: task.result?.cost_usd ?? null,
    tokens: taskTokens(task.result)?.total ?? null,
    message: task.result?.message ?? "",
  };
}

function sum(values: (number | null)[]): number | null {
  const known = values.filter((v): v is number => v !== null);
  return known.length === 0 ? null : known.reduce((a, b) => a + b, 0);
}

function runSide(run: RunView): RunSide {
  const sides = run.tasks.map(side);
  const cost = run.manifest?.total_cost_usd ?? sum(sides.map((s) => s.cost_usd));
  return {
    run_id: run.runId,
    plan_name: run.planName,
    status: run.status,
    duration_sec: run.durationSec,
    cost_usd: cost === null ? null : round(cost, 6),
    tokens: run.manifest?.total_tokens ?? sum(sides.map((s) => s.tokens)),
    run_dir: run.dir,
  };
}

function pct(a: number, b: number): string {
  return a > 0 ? `${b >= a ? "+" : ""}${Math.round((b - a) / a * 100)}%` : "new";
}

/**
 * Compares two runs task by task.
 *
 * @param a the baseline run
 * @param b the run compared with it
 * @param thresholds when a slowdown or a cost increase is a regression
 * @returns the comparison
 */
export function diffRuns(a: RunView, b: RunView, thresholds: DiffThresholds = {}): RunDiff {
  const t = { ...DEFAULT_THRESHOLDS, ...thresholds };
  const inA = new Map(a.tasks.map((task) => [task.id, task]));
  const inB = new Map(b.tasks.map((task) => [task.id, task]));
  const ids = [...inA.keys(), ...b.tasks.map((task) => task.id).filter((id) => !inA.has(id))];
  const tasks: TaskDiff[] = [];
  const regressions: RunDiff["regressions"] = [];
  for (const id of ids) {
    const ta = inA.get(id);
    const tb = inB.get(id);
    const sa = ta ? side(ta) : null;
    const sb = tb ? side(tb) : null;
    const kinds: RegressionKind[] = [];
    const details: string[] = [];
    let durationDelta: number | null = null;
    let costDelta: number | null = null;
    let tokensDelta: number | null = null;
    if (sa && sb) {
      const ranA = ta!.result?.started_at != null;
      const ranB = tb!.result?.started_at != null;
      if (ranA && ranB) durationDelta = round(sb.duration_sec - sa.duration_sec, 3);
      if (sa.cost_usd !== null && sb.cost_usd !== null) {
        costDelta = round(sb.cost_usd - sa.cost_usd, 6);
      }
      if (sa.tokens !== null && sb.tokens !== null) tokensDelta = sb.tokens - sa.tokens;
      if (wasFine(sa) && BAD.has(sb.status)) {
        kinds.push("status");
        details.push(`${sa.status} → ${sb.status}: ${sb.message}`);
      }
      if (
        sa.status === "success" && sb.status === "success" && durationDelta !== null &&
        durationDelta >= t.minDurationSec &&
        sb.duration_sec > sa.duration_sec * (1 + t.durationPct / 100)
      ) {
        kinds.push("duration");
        details.push(
          `${sa.duration_sec}s → ${sb.duration_sec}s (${pct(sa.duration_sec, sb.duration_sec)})`,
        );
      }
      if (
        costDelta !== null && costDelta >= t.minCostUsd &&
        sb.cost_usd! > sa.cost_usd! * (1 + t.costPct / 100)
      ) {
        kinds.push("cost");
        details.push(`$${sa.cost_usd} → $${sb.cost_usd} (${pct(sa.cost_usd!, sb.cost_usd!)})`);
      }
    } else if (sb && sb.status === "failed") {
      kinds.push("status");
      details.push(`new task failed: ${sb.message}`);
    }
    const change = !sa
      ? "added"
      : !sb
      ? "removed"
      : sa.status !== sb.status
      ? "changed"
      : "unchanged";
    tasks.push({
      task_id: id,
      change,
      a: sa,
      b: sb,
      duration_delta_sec: durationDelta,
      cost_delta_usd: costDelta,
      tokens_delta: tokensDelta,
      regressions: kinds,
      fixed: !!sa && !!sb && BAD.has(sa.status) && sb.status === "success",
    });
    if (kinds.length > 0) regressions.push({ task_id: id, kinds, detail: details.join("; ") });
  }
  const count = (change: TaskDiff["change"]) => tasks.filter((d) => d.change === change).length;
  return {
    a: runSide(a),
    b: runSide(b),
    thresholds: {
      duration_pct: t.durationPct,
      min_duration_sec: t.minDurationSec,
      cost_pct: t.costPct,
      min_cost_usd: t.minCostUsd,
    },
    tasks,
    counts: {
      added: count("added"),
      removed: count("removed"),
      changed: count("changed"),
      unchanged: count("unchanged"),
      regressions: regressions.length,
      fixed: tasks.filter((d) => d.fixed).length,
    },
    regressions,
  };
}

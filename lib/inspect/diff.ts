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
 * A cache hit spent nothing and took only its restore, which says nothing about the task: it is
 * compared at the cost, duration and tokens of the run that produced its result (the result's
 * `cache` block), and when the result does not carry them it is left out of those comparisons.
 * Either way the task's `notes` say so. A run's own totals stay what it really spent.
 *
 * @module
 */
import type { TaskResult } from "../run/result.ts";
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
  /**
   * Seconds. A cache hit: what the run that produced its result took, when the result says;
   * else the restore's time (then not compared).
   */
  duration_sec: number;
  /** USD, or null. A cache hit: what the run that produced its result spent, else null. */
  cost_usd: number | null;
  /** Total tokens, or null. A cache hit: those of the run that produced its result, else null. */
  tokens: number | null;
  /** The result's message. */
  message: string;
  /** Restored from the task result cache in that run. */
  from_cache: boolean;
  /** A cache hit: the run that produced its result, when the result says; else null. */
  cached_from: string | null;
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
  /** How the comparison was made, when not plainly (cache hits); empty otherwise. */
  notes: string[];
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

/** Whether a result was restored from the cache (`message` for results that predate the flag). */
function isCacheHit(result: TaskResult): boolean {
  return result.from_cache === true ||
    (typeof result.message === "string" && result.message.startsWith("Cache hit ["));
}

/** What the run that produced a restored result took and spent, when the result records it. */
function originalFigures(
  result: TaskResult,
): { run_id: string; duration_sec: number; cost_usd: number | null; tokens: number | null } | null {
  // read from a file: check the shape rather than trust the type
  const source: unknown = result.cache;
  if (typeof source !== "object" || source === null) return null;
  const { run_id, duration_sec, cost_usd, tokens } = source as Record<string, unknown>;
  if (typeof run_id !== "string" || run_id === "" || typeof duration_sec !== "number") {
    return null;
  }
  const orNull = (v: unknown) => (typeof v === "number" ? v : null);
  return { run_id, duration_sec, cost_usd: orNull(cost_usd), tokens: orNull(tokens) };
}

function side(task: TaskView): TaskSide {
  const result = task.result;
  const plain: TaskSide = {
    status: task.status,
    duration_sec: result?.duration_sec ?? 0,
    cost_usd: result?.cost_usd ?? null,
    tokens: taskTokens(result)?.total ?? null,
    message: result?.message ?? "",
    from_cache: false,
    cached_from: null,
  };
  if (!result || !isCacheHit(result)) return plain;
  const original = originalFigures(result);
  // without the original figures a hit's cost is unknown, not the $0 this run spent
  if (!original) return { ...plain, cost_usd: null, tokens: null, from_cache: true };
  return {
    ...plain,
    duration_sec: original.duration_sec,
    cost_usd: original.cost_usd,
    tokens: original.tokens,
    from_cache: true,
    cached_from: original.run_id,
  };
}

/** Whether a side's figures say something about the task (not a hit without its original's). */
function comparable(s: TaskSide): boolean {
  return !s.from_cache || s.cached_from !== null;
}

/** The note a cache hit on one side gets, or null for a side that really ran. */
function cacheNote(label: "A" | "B", s: TaskSide): string | null {
  if (!s.from_cache) return null;
  return comparable(s)
    ? `cache hit in ${label}: compared at the cost and duration of run ${s.cached_from}, which produced its result`
    : `cache hit in ${label} without the original run's figures: cost and duration not compared`;
}

/** A short mark for a regression's detail when a side's figures are a cache hit's original. */
function hitMarks(sa: TaskSide, sb: TaskSide): string {
  const marks = [sa.from_cache ? "A" : null, sb.from_cache ? "B" : null].filter(Boolean);
  return marks.length === 0 ? "" : ` [cache hit in ${marks.join(" and ")}: original run's figures]`;
}

function sum(values: (number | null)[]): number | null {
  const known = values.filter((v): v is number => v !== null);
  return known.length === 0 ? null : known.reduce((a, b) => a + b, 0);
}

function runSide(run: RunView): RunSide {
  // what the run itself spent and used: a hit counts as the nothing it cost, not its original's
  const results = run.tasks.map((task) => task.result);
  const cost = run.manifest?.total_cost_usd ?? sum(results.map((r) => r?.cost_usd ?? null));
  return {
    run_id: run.runId,
    plan_name: run.planName,
    status: run.status,
    duration_sec: run.durationSec,
    cost_usd: cost === null ? null : round(cost, 6),
    tokens: run.manifest?.total_tokens ?? sum(results.map((r) => taskTokens(r)?.total ?? null)),
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
    const notes = [sa && cacheNote("A", sa), sb && cacheNote("B", sb)]
      .filter((n): n is string => typeof n === "string");
    if (sa && sb) {
      const ranA = ta!.result?.started_at != null;
      const ranB = tb!.result?.started_at != null;
      if (ranA && ranB && comparable(sa) && comparable(sb)) {
        durationDelta = round(sb.duration_sec - sa.duration_sec, 3);
      }
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
          `${sa.duration_sec}s → ${sb.duration_sec}s (${pct(sa.duration_sec, sb.duration_sec)})` +
            hitMarks(sa, sb),
        );
      }
      if (
        costDelta !== null && costDelta >= t.minCostUsd &&
        sb.cost_usd! > sa.cost_usd! * (1 + t.costPct / 100)
      ) {
        kinds.push("cost");
        details.push(
          `$${sa.cost_usd} → $${sb.cost_usd} (${pct(sa.cost_usd!, sb.cost_usd!)})` +
            hitMarks(sa, sb),
        );
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
      notes,
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

/**
 * The spend ledger (`budget_ledger`, schema version 2) and the cost reads built on the store:
 *
 * - **Writing**: one row per cost as it happens — every `attempt_usage` event and every
 *   uncached `side_call` event with a positive `cost_usd` — numbered in event order within
 *   the run (`entry` 1, 2, …). The live indexer and `maestro reindex` (from `events.jsonl`)
 *   number the same events the same way, so both write the same rows (upserts).
 * - **Reading**: a plan's spend since a time (`budget_period`, {@linkcode storeLedger}), spend
 *   per period and per plan (`maestro budget`, {@linkcode spendReport}), and a plan's task cost
 *   history (estimates, {@linkcode costHistory}). Spend counts what was really paid (a cache
 *   hit: nothing); the history counts what a task costs when it runs (hits left out).
 *
 * Times are the events' (`YYYY-MM-DDTHH:MM:SSZ`, UTC), so text comparison orders them.
 *
 * @module
 */
import type { InStatement } from "@libsql/client";
import { type CostSample, HISTORY_RUNS } from "../cost/estimate.ts";
import { type BudgetPeriod, ledgerTime, periodStart } from "../cost/period.ts";
import type { RunEvent } from "../run/events.ts";
import { CACHE_HIT_COST_SOURCE } from "../run/result.ts";
import type { SpendLedger } from "../run/budget_guard.ts";
import type { Store } from "./store.ts";

/** One row of `budget_ledger`. */
export interface LedgerRow {
  run_id: string;
  /** 1-based position of the cost among the run's ledger events. */
  entry: number;
  /** When it was spent: the event's time, `YYYY-MM-DDTHH:MM:SSZ`. */
  at: string;
  plan_name: string;
  task_id: string;
  /** `attempt` (an engine attempt) or `side_call` (a judge, an LLM context mode). */
  kind: "attempt" | "side_call";
  /** A side call's purpose (`judge`, `context:summarized`, …), else null. */
  purpose: string | null;
  engine: string | null;
  model: string | null;
  cost_usd: number;
}

/** The spend an event reports, or undefined when it reports none (the entry is not counted). */
export function spendOf(
  event: RunEvent,
): Omit<LedgerRow, "run_id" | "entry" | "plan_name"> | undefined {
  if (event.event === "attempt_usage") {
    if (!(typeof event.cost_usd === "number" && event.cost_usd > 0)) return undefined;
    return {
      at: event.ts,
      task_id: event.task_id,
      kind: "attempt",
      purpose: null,
      engine: event.engine,
      model: event.model,
      cost_usd: event.cost_usd,
    };
  }
  if (event.event === "side_call") {
    if (event.cached || !(typeof event.cost_usd === "number" && event.cost_usd > 0)) {
      return undefined;
    }
    return {
      at: event.ts,
      task_id: event.task_id,
      kind: "side_call",
      purpose: event.purpose,
      engine: event.engine,
      model: event.model,
      cost_usd: event.cost_usd,
    };
  }
  return undefined;
}

const COLUMNS = [
  "run_id",
  "entry",
  "at",
  "plan_name",
  "task_id",
  "kind",
  "purpose",
  "engine",
  "model",
  "cost_usd",
] as const;

/** Inserts (or replaces: indexing again is idempotent) one ledger row. */
export function upsertLedgerRow(row: LedgerRow): InStatement {
  return {
    sql: `INSERT OR REPLACE INTO budget_ledger (${COLUMNS.join(", ")})
      VALUES (${COLUMNS.map(() => "?").join(", ")})`,
    args: COLUMNS.map((c) => row[c]),
  };
}

/**
 * The ledger rows of a run from its `events.jsonl` (what `maestro reindex` writes). Lines that
 * are not whole JSON (a killed run's last line) are skipped.
 *
 * @param text the file's content
 * @param run the run's id and plan name
 */
export function ledgerRowsFromEvents(
  text: string,
  run: { runId: string; planName: string },
): LedgerRow[] {
  const rows: LedgerRow[] = [];
  // most runs have no priced work: skip parsing their lines
  if (!text.includes(`"event":"attempt_usage"`) && !text.includes(`"event":"side_call"`)) {
    return rows;
  }
  for (const line of text.split("\n")) {
    if (!line.includes(`"event":"attempt_usage"`) && !line.includes(`"event":"side_call"`)) {
      continue;
    }
    let event: RunEvent;
    try {
      event = JSON.parse(line) as RunEvent;
    } catch {
      continue;
    }
    const spend = spendOf(event);
    if (spend) {
      rows.push({ ...spend, run_id: run.runId, plan_name: run.planName, entry: rows.length + 1 });
    }
  }
  return rows;
}

function num(value: unknown): number {
  return typeof value === "number" ? value : typeof value === "bigint" ? Number(value) : 0;
}

/**
 * The store's ledger as a run's budget reads it (`budget_period`).
 *
 * @param store an open store
 */
export function storeLedger(store: Store): SpendLedger {
  return {
    async spentSince({ plan, since, excludeRunId }) {
      const rows = await store.read(
        `SELECT COALESCE(SUM(cost_usd), 0) AS spent FROM budget_ledger
          WHERE plan_name = ? AND at >= ? AND run_id != ?`,
        [plan, since, excludeRunId],
      );
      return Math.round(num(rows[0]?.["spent"]) * 1e9) / 1e9;
    },
  };
}

/**
 * A plan's recent successful costs per task, newest first: at most {@linkcode HISTORY_RUNS}
 * per task, engine and model, leaving out resumed copies, cache hits and tasks without a cost.
 *
 * @param store an open store
 * @param plan the plan's name
 */
export async function costHistory(store: Store, plan: string): Promise<CostSample[]> {
  // a hit's $0 says what that run spent, not what the task costs: counting hits would drag
  // the median to 0 and let `max_cost_usd` dispatch work it cannot afford when the cache misses
  const rows = await store.read(
    `SELECT task_id, engine, model, cost_usd FROM (
      SELECT task_id, engine, model, cost_usd, started_at,
        ROW_NUMBER() OVER (PARTITION BY task_id, engine, model ORDER BY started_at DESC) AS n
      FROM task_results
      WHERE plan_name = ? AND status = 'success' AND resumed = 0 AND cost_usd IS NOT NULL
        AND cost_source IS NOT ?
    ) WHERE n <= ? ORDER BY task_id, started_at DESC`,
    [plan, CACHE_HIT_COST_SOURCE, HISTORY_RUNS],
  );
  return rows.map((row) => ({
    task_id: String(row["task_id"]),
    engine: typeof row["engine"] === "string" ? row["engine"] : null,
    model: typeof row["model"] === "string" ? row["model"] : null,
    cost_usd: num(row["cost_usd"]),
  }));
}

/** One period of `maestro budget`. */
export interface PeriodSpend {
  /** daily, weekly or monthly. */
  period: BudgetPeriod;
  /** ISO-8601 UTC start (local midnight). */
  since: string;
  /** USD spent since then. */
  spent_usd: number;
}

/** One plan's line of `maestro budget`. */
export interface PlanSpend {
  plan_name: string;
  /** USD spent today, this week, this month. */
  today_usd: number;
  week_usd: number;
  month_usd: number;
  /** Runs with spend this month. */
  runs_this_month: number;
  /** Last spend, ledger time. */
  last_spent_at: string;
}

/** What `maestro budget --json` prints (besides the store). */
export interface SpendReport {
  /** Today, this week, this month (over the plans shown). */
  periods: PeriodSpend[];
  /** Plans with spend this week or month, by name. */
  plans: PlanSpend[];
}

function round(usd: number): number {
  return Math.round(usd * 1e9) / 1e9;
}

/**
 * Spend per period and per plan from the ledger.
 *
 * @param store an open store
 * @param options `plan`: only this plan; `now`: the clock
 */
export async function spendReport(
  store: Store,
  options: { plan?: string; now?: Date } = {},
): Promise<SpendReport> {
  const now = options.now ?? new Date();
  const day = ledgerTime(periodStart("daily", now));
  const week = ledgerTime(periodStart("weekly", now));
  const month = ledgerTime(periodStart("monthly", now));
  const from = week < month ? week : month;
  const args: (string | number)[] = [day, week, month, month, from];
  if (options.plan !== undefined) args.push(options.plan);
  const rows = await store.read(
    `SELECT plan_name,
        SUM(CASE WHEN at >= ? THEN cost_usd ELSE 0 END) AS today,
        SUM(CASE WHEN at >= ? THEN cost_usd ELSE 0 END) AS week,
        SUM(CASE WHEN at >= ? THEN cost_usd ELSE 0 END) AS month,
        COUNT(DISTINCT CASE WHEN at >= ? THEN run_id END) AS runs,
        MAX(at) AS last
      FROM budget_ledger WHERE at >= ?${options.plan !== undefined ? " AND plan_name = ?" : ""}
      GROUP BY plan_name ORDER BY plan_name`,
    args,
  );
  const plans = rows.map((row) => ({
    plan_name: String(row["plan_name"]),
    today_usd: round(num(row["today"])),
    week_usd: round(num(row["week"])),
    month_usd: round(num(row["month"])),
    runs_this_month: num(row["runs"]),
    last_spent_at: String(row["last"]),
  }));
  const sum = (pick: (p: PlanSpend) => number) => round(plans.reduce((s, p) => s + pick(p), 0));
  const iso = (period: BudgetPeriod) => periodStart(period, now).toISOString();
  return {
    periods: [
      { period: "daily", since: iso("daily"), spent_usd: sum((p) => p.today_usd) },
      { period: "weekly", since: iso("weekly"), spent_usd: sum((p) => p.week_usd) },
      { period: "monthly", since: iso("monthly"), spent_usd: sum((p) => p.month_usd) },
    ],
    plans,
  };
}

/**
 * Cost commands: `maestro estimate <plan>` (expected cost per task and in total, from the
 * store's history and pricing, against the plan's budget) and `maestro budget` (spend per
 * period and per plan from the store's ledger); plus what `maestro run` needs from the store
 * for a plan with `max_cost_usd` ({@linkcode budgetSources}). See docs/cost.md.
 *
 * @module
 */
import { pathExists } from "../fs.ts";
import { formatUsd } from "../cost/budget.ts";
import { estimateTasks, type TaskEstimate } from "../cost/estimate.ts";
import {
  type BudgetPeriod,
  isBudgetPeriod,
  ledgerTime,
  localMinute,
  periodName,
  periodStart,
} from "../cost/period.ts";
import { EXIT, MaestroError } from "../errors.ts";
import type { LoadedPlan } from "../plan/ir.ts";
import { loadPlan } from "../plan/load.ts";
import type { BudgetOptions } from "../run/budget_guard.ts";
import { flattenGroups } from "../run/groups.ts";
import { costHistory, spendReport, storeLedger } from "../store/ledger.ts";
import { displayLocation, type StoreLocation } from "../store/location.ts";
import { explicitStore, storeForRead, storeForRun } from "../store/resolve.ts";
import { openStore, type Store } from "../store/store.ts";
import { issueLines, paint, printJson } from "./output.ts";
import { parseSetValues } from "./plan_commands.ts";

/** Read commands wait longer than a run's indexer: blocking the event loop is harmless here. */
const READ_BUSY_TIMEOUT_MS = 1_000;

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** What `maestro run` hands runPlan's `budget` option, and how to let go of the store. */
export interface BudgetSources {
  /** runPlan's `budget`. */
  options: BudgetOptions;
  /** Closes the store (after the run). */
  close(): void;
}

/**
 * For a run of a plan with `max_cost_usd`: the plan's cost history (estimates) and the spend
 * ledger (`budget_period`) from the run's store. A store that cannot be opened is reported
 * through `budget_start` (`ledger: unreadable: …`) and the run goes on with pricing estimates.
 *
 * @param plan the plan
 * @param location the run's store
 */
export async function budgetSources(
  plan: LoadedPlan,
  location: StoreLocation,
): Promise<BudgetSources> {
  let store: Store;
  try {
    store = await openStore(location, { busyTimeoutMs: 20 });
  } catch (error) {
    return { options: { ledgerProblem: message(error) }, close: () => {} };
  }
  let history: BudgetOptions["history"] = [];
  try {
    history = await costHistory(store, plan.ir.name);
  } catch {
    // estimates fall back to pricing
  }
  return { options: { history, ledger: storeLedger(store) }, close: () => store.close() };
}

/** The store a plan command reads: explicit, else beside the plan; undefined when none exists. */
async function planStore(plan: LoadedPlan, db: string | undefined): Promise<Store | undefined> {
  const location = storeForRun(plan.source, { db });
  // only the default store may be missing (a plan never run); a named one is E122 when it is
  const named = explicitStore({ db }) !== undefined;
  if (!named && location.kind === "file" && !pathExists(location.path)) return undefined;
  return await openStore(location, { busyTimeoutMs: READ_BUSY_TIMEOUT_MS, create: false });
}

/** Options of `maestro estimate`. */
export interface EstimateCommandOptions {
  /** `--json`. */
  json?: boolean;
  /** `--set KEY=VALUE`. */
  set?: string[];
  /** `--db`. */
  db?: string;
}

/** The plan's budget as `maestro estimate` reports it. */
interface BudgetView {
  limit: number;
  period: BudgetPeriod | null;
  since: string | null;
  mode: "soft" | "hard";
  /** USD already spent in the period (0 without a period or a store). */
  spent: number;
  /** limit − spent (never below 0). */
  remaining: number;
  /** Whether the total estimate fits in what remains. */
  fits: boolean;
}

function table(header: string[], rows: string[][], right: ReadonlySet<number>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))
      .join("  ").trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

/** `maestro estimate <plan>`: expected cost per task and in total. */
export async function estimateCommand(
  path: string,
  options: EstimateCommandOptions,
): Promise<number> {
  const set = parseSetValues(options.set);
  if (typeof set === "string") {
    throw new MaestroError("E111", set, { exitCode: EXIT.invalid });
  }
  const outcome = await loadPlan(path, { set });
  if (!outcome.plan) {
    for (const e of outcome.errors) console.error(issueLines(e, "error"));
    return EXIT.invalid;
  }
  const plan = outcome.plan;
  const ir = plan.ir;
  const store = await planStore(plan, options.db);
  try {
    const history = store ? await costHistory(store, ir.name) : [];
    const tasks = flattenGroups(ir.tasks).tasks;
    const env = Deno.env.toObject();
    const estimates = estimateTasks(tasks, history, env);
    const total = Math.round(estimates.reduce((s, e) => s + e.cost_usd, 0) * 1e9) / 1e9;
    let budget: BudgetView | null = null;
    if (typeof ir.max_cost_usd === "number") {
      const period = isBudgetPeriod(ir.budget_period) ? ir.budget_period : null;
      const since = period ? periodStart(period) : null;
      const spent = store && since
        ? await storeLedger(store).spentSince({
          plan: ir.name,
          since: ledgerTime(since),
          excludeRunId: "",
        })
        : 0;
      const remaining = Math.max(0, Math.round((ir.max_cost_usd - spent) * 1e9) / 1e9);
      budget = {
        limit: ir.max_cost_usd,
        period,
        since: since ? since.toISOString() : null,
        mode: ir.budget_mode === "hard" ? "hard" : "soft",
        spent,
        remaining,
        fits: total <= remaining + 1e-9,
      };
    }
    const where = store ? displayLocation(store.location) : null;
    if (options.json) {
      printJson({ plan: ir.name, store: where, tasks: estimates, total_usd: total, budget });
      return EXIT.ok;
    }
    printEstimate(ir.name, estimates, total, budget, where);
    return EXIT.ok;
  } finally {
    store?.close();
  }
}

function printEstimate(
  name: string,
  estimates: readonly TaskEstimate[],
  total: number,
  budget: BudgetView | null,
  store: string | null,
): void {
  const rows = estimates.map((e) => [
    e.task_id,
    e.engine ?? "shell",
    e.engine === null ? "-" : e.model ?? "(default)",
    formatUsd(e.cost_usd),
    e.source === "shell" ? e.source : `${e.source}: ${e.basis}`,
  ]);
  rows.push(["TOTAL", "", "", formatUsd(total), ""]);
  console.log(`Estimate for plan ${name} (${estimates.length} tasks)`);
  console.log(table(["TASK", "ENGINE", "MODEL", "ESTIMATE", "SOURCE"], rows, new Set([3])));
  if (!store) console.log(paint("no run store yet: estimates come from pricing only", "dim"));
  if (!budget) return;
  const period = budget.period
    ? `${budget.period}: ${formatUsd(budget.spent)} spent ${periodName(budget.period)} (since ${
      localMinute(new Date(budget.since!))
    }), ${formatUsd(budget.remaining)} left`
    : "per run";
  const verdict = budget.fits
    ? paint("the estimate fits", "green")
    : paint("the estimate does not fit: tasks that would cross it are skipped", "yellow");
  console.log(
    `\nBudget: max_cost_usd ${formatUsd(budget.limit)} ${period} (${budget.mode}); ${verdict}`,
  );
}

/** Options of `maestro budget`. */
export interface BudgetCommandOptions {
  /** `--plan NAME`. */
  plan?: string;
  /** `--json`. */
  json?: boolean;
  /** `--db`. */
  db?: string;
}

/** `maestro budget`: spend per period and per plan, from the store's ledger. */
export async function budgetCommand(options: BudgetCommandOptions): Promise<number> {
  const location = storeForRead({ db: options.db });
  const store = await openStore(location, { busyTimeoutMs: READ_BUSY_TIMEOUT_MS, create: false });
  try {
    const report = await spendReport(store, { plan: options.plan }).catch((error: unknown) => {
      throw new MaestroError(
        "E122",
        `cannot read the run store ${displayLocation(location)}: ${message(error)}`,
        { hint: "`maestro reindex` rebuilds it from the run directories" },
      );
    });
    if (options.json) {
      printJson({ store: displayLocation(location), plan: options.plan ?? null, ...report });
      return EXIT.ok;
    }
    const title = options.plan ? `Spend of plan ${options.plan}` : "Spend";
    console.log(`${title} (${displayLocation(location)})`);
    console.log(table(
      ["PERIOD", "SINCE", "SPENT"],
      report.periods.map((p) => [
        periodName(p.period),
        localMinute(new Date(p.since)),
        formatUsd(p.spent_usd),
      ]),
      new Set([2]),
    ));
    if (report.plans.length === 0) {
      console.log("\nno spend recorded this week or this month");
      return EXIT.ok;
    }
    console.log("");
    console.log(table(
      ["PLAN", "TODAY", "THIS WEEK", "THIS MONTH", "RUNS"],
      report.plans.map((p) => [
        p.plan_name,
        formatUsd(p.today_usd),
        formatUsd(p.week_usd),
        formatUsd(p.month_usd),
        String(p.runs_this_month),
      ]),
      new Set([1, 2, 3, 4]),
    ));
    return EXIT.ok;
  } finally {
    store.close();
  }
}

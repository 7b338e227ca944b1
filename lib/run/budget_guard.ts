/**
 * A run's budget at work (`max_cost_usd`, `budget_warning_pct`, `budget_mode`,
 * `budget_period`): the bookkeeping of lib/cost/budget.ts wired to the run.
 *
 * - Estimates come from the store's history when the caller gives it, else from pricing
 *   (lib/cost/estimate.ts).
 * - Spend is counted as it happens, from `attempt_usage` and `side_call` events, and
 *   reconciled with each final result.
 * - Before dispatch the scheduler asks {@linkcode BudgetGuard.admit}; once the limit is crossed
 *   {@linkcode BudgetGuard.stopReason} stops dispatching; with `budget_mode: hard` the engine
 *   tasks' signals ({@linkcode BudgetGuard.signalFor}) are aborted too.
 * - With `budget_period`, the period's spend by other runs is read from the store's ledger at
 *   the start and again after each cost and each finished task (runs share the budget).
 * - Events: `budget_start`, one `budget_warning`, one `budget_exceeded`.
 *
 * @module
 */
import { BudgetTracker } from "../cost/budget.ts";
import { type CostSample, estimateTasks, type TaskEstimate } from "../cost/estimate.ts";
import { type BudgetPeriod, isBudgetPeriod, ledgerTime, periodStart } from "../cost/period.ts";
import type { PlanIR, TaskIR } from "../plan/ir.ts";
import type { EventBus } from "./events.ts";
import type { TaskResult } from "./result.ts";
import type { SkipReason } from "./scheduler.ts";

/** The store's spend ledger as a run reads it (lib/store/ledger.ts implements it). */
export interface SpendLedger {
  /**
   * USD the ledger holds for a plan since a time, from runs other than one.
   *
   * @param query plan name, ledger time (`YYYY-MM-DDTHH:MM:SSZ`), the run to leave out
   */
  spentSince(query: { plan: string; since: string; excludeRunId: string }): Promise<number>;
}

/** runPlan's `budget` option: what the budget needs from outside the run directory. */
export interface BudgetOptions {
  /** Past costs of the plan's tasks (the store's history), newest first, for estimates. */
  history?: readonly CostSample[];
  /** The store's spend ledger, for `budget_period`. */
  ledger?: SpendLedger;
  /** Why there is no ledger although a store was meant to be used (shown in `budget_start`). */
  ledgerProblem?: string;
  /** The clock (tests). @default {() => new Date()} */
  now?: () => Date;
}

/** The manifest's `budget` block (present when the plan has `max_cost_usd`). */
export interface ManifestBudget {
  /** `max_cost_usd`. */
  limit: number;
  /** `budget_period`, or null. */
  period: BudgetPeriod | null;
  /** ISO-8601 UTC start of the period, or null. */
  since: string | null;
  /** `budget_mode`. */
  mode: "soft" | "hard";
  /** `budget_warning_pct`. */
  warning_pct: number;
  /**
   * USD counted besides this run's spend: the period's spend by other runs (as last read from
   * the ledger), or, without a period, the cost of results a resume reused.
   */
  spent_other: number;
  /** USD this run spent. */
  run_spent: number;
  /** USD counted against the limit at the end: spent_other + run_spent. */
  spent: number;
  /** Whether the warning fired. */
  warned: boolean;
  /** Whether the spend went over the limit. */
  exceeded: boolean;
  /** Tasks the budget kept from running or cancelled (their dependents not counted). */
  tasks_stopped: number;
}

/** Result messages the budget writes (prefixes). */
const BUDGET_MESSAGE = /^(Budget[ :]|Cancelled: budget)/;

/** Everything {@linkcode BudgetGuard.start} needs from the run. */
export interface BudgetGuardInput {
  ir: PlanIR;
  /** The run's tasks (groups flattened). */
  tasks: readonly TaskIR[];
  bus: EventBus;
  runId: string;
  /** Results reused by a resume or decided before the run (never executed). */
  preset: ReadonlyMap<string, TaskResult>;
  /** Environment with pricing overrides. */
  env: Readonly<Record<string, string>>;
  options?: BudgetOptions;
}

/** The budget of one run; see the module doc. */
export class BudgetGuard {
  readonly #tracker: BudgetTracker;
  readonly #estimates: Map<string, TaskEstimate>;
  readonly #hard: AbortController;
  readonly #ledger: SpendLedger | undefined;
  readonly #ir: PlanIR;
  readonly #runId: string;
  #stopped = 0;
  #refreshing: Promise<void> | undefined;
  #again = false;

  private constructor(
    tracker: BudgetTracker,
    estimates: Map<string, TaskEstimate>,
    ledger: SpendLedger | undefined,
    ir: PlanIR,
    runId: string,
    hard: AbortController,
  ) {
    this.#hard = hard;
    this.#tracker = tracker;
    this.#estimates = estimates;
    this.#ledger = ledger;
    this.#ir = ir;
    this.#runId = runId;
  }

  /**
   * Sets the budget up for a run, or returns undefined when the plan has no `max_cost_usd`.
   * Reads the period's spend (when there is a period and a ledger), emits `budget_start`, and
   * starts counting the run's costs from its events.
   */
  static async start(input: BudgetGuardInput): Promise<BudgetGuard | undefined> {
    const { ir, bus, options = {} } = input;
    const limit = ir.max_cost_usd;
    if (limit === null || limit === undefined) return undefined;
    const period = isBudgetPeriod(ir.budget_period) ? ir.budget_period : null;
    const since = period ? periodStart(period, options.now?.() ?? new Date()) : null;
    let ledger: SpendLedger | undefined;
    let ledgerState: string | null = null;
    let prior = 0;
    if (period && since) {
      if (options.ledger) {
        try {
          prior = await options.ledger.spentSince({
            plan: ir.name,
            since: ledgerTime(since),
            excludeRunId: input.runId,
          });
          ledger = options.ledger;
          ledgerState = "store";
        } catch (error) {
          ledgerState = `unreadable: ${error instanceof Error ? error.message : String(error)}`;
        }
      } else {
        ledgerState = options.ledgerProblem ? `unreadable: ${options.ledgerProblem}` : "none";
      }
    }
    // without the ledger, results a resume reused count against this run's limit
    if (!ledger) {
      for (const result of input.preset.values()) prior += Math.max(0, result.cost_usd ?? 0);
    }
    const mode = ir.budget_mode === "hard" ? "hard" : "soft";
    const config = { limit, warningPct: ir.budget_warning_pct, mode, period, since } as const;
    const hard = new AbortController();
    const tracker = new BudgetTracker(config, prior, {
      onWarning: (spent) => {
        bus.emit("budget_warning", { spent, limit, pct: config.warningPct, period });
      },
      onExceeded: (spent, taskId) => {
        bus.emit("budget_exceeded", { spent, limit, period, mode, task_id: taskId });
        if (mode === "hard") hard.abort();
      },
    });
    const estimates = new Map(
      estimateTasks(input.tasks, options.history, input.env).map((e) => [e.task_id, e]),
    );
    const guard = new BudgetGuard(tracker, estimates, ledger, ir, input.runId, hard);
    bus.emit("budget_start", {
      limit,
      period,
      since: since ? since.toISOString() : null,
      mode,
      warning_pct: config.warningPct,
      spent: tracker.spent,
      ledger: ledgerState,
    });
    bus.subscribe(({ event }) => {
      if (event.event === "attempt_usage" || (event.event === "side_call" && !event.cached)) {
        tracker.add(event.task_id, event.cost_usd);
        guard.#refresh();
      }
    });
    tracker.start();
    return guard;
  }

  /** The estimate the budget uses for a task. */
  estimate(taskId: string): TaskEstimate | undefined {
    return this.#estimates.get(taskId);
  }

  /** The scheduler's admission check (see lib/cost/budget.ts). */
  admit(task: TaskIR, running: number): SkipReason | "wait" | undefined {
    const estimate = this.#estimates.get(task.id) ??
      {
        task_id: task.id,
        engine: null,
        model: null,
        cost_usd: 0,
        source: "shell",
        runs: 0,
        basis: "",
      };
    const admission = this.#tracker.admit(estimate, running);
    if (admission.kind === "run") return undefined;
    if (admission.kind === "wait") return "wait";
    return { status: "skipped", message: admission.message, blocked: true };
  }

  /** Why dispatching stops (the limit was crossed), or null. */
  stopReason(): string | null {
    return this.#tracker.exceeded ? this.#tracker.stopMessage() : null;
  }

  /** The signal a task runs with: engine tasks also stop on a hard budget. */
  signalFor(task: TaskIR, signal: AbortSignal): AbortSignal {
    if (this.#tracker.config.mode !== "hard" || task.kind !== "engine") return signal;
    return AbortSignal.any([signal, this.#hard.signal]);
  }

  /** Names the budget in the message of a task it cancelled. */
  explain(result: TaskResult, signal: AbortSignal): void {
    if (result.status === "cancelled" && this.#hard.signal.aborted && !signal.aborted) {
      result.message = this.#tracker.cancelMessage();
    }
  }

  /** A task is final: release its reservation, reconcile its cost. */
  settle(result: TaskResult, preset: boolean): void {
    if (preset) return;
    if (
      (result.status === "skipped" || result.status === "cancelled") &&
      BUDGET_MESSAGE.test(result.message)
    ) this.#stopped++;
    // a cache hit restores an earlier result's cost: nothing was spent now
    const hit = (result as { from_cache?: unknown }).from_cache === true;
    this.#tracker.settle(result.task_id, hit ? null : result.cost_usd);
    this.#refresh();
  }

  /** Whether the budget kept any task from running or cancelled one. */
  get stoppedAny(): boolean {
    return this.#stopped > 0;
  }

  /** Re-reads the period's spend by other runs (coalesced: one read in flight at most). */
  #refresh(): void {
    const ledger = this.#ledger;
    const since = this.#tracker.config.since;
    if (!ledger || !since) return;
    if (this.#refreshing) {
      this.#again = true;
      return;
    }
    this.#refreshing = (async () => {
      do {
        this.#again = false;
        try {
          this.#tracker.setPrior(
            await ledger.spentSince({
              plan: this.#ir.name,
              since: ledgerTime(since),
              excludeRunId: this.#runId,
            }),
          );
        } catch {
          // keep the last known value: the start already told whether the ledger works
        }
      } while (this.#again);
      this.#refreshing = undefined;
    })();
  }

  /**
   * The ledger read in flight, if any: the scheduler awaits it before dispatching, so a task
   * does not start on a spend that another run has already pushed over the limit.
   */
  settling(): Promise<void> | undefined {
    return this.#refreshing;
  }

  /** Waits for a ledger read still in flight. */
  async close(): Promise<void> {
    while (this.#refreshing) await this.#refreshing;
  }

  /** The manifest's `budget` block. */
  report(): ManifestBudget {
    const t = this.#tracker;
    return {
      limit: t.config.limit,
      period: t.config.period,
      since: t.config.since ? t.config.since.toISOString() : null,
      mode: t.config.mode,
      warning_pct: t.config.warningPct,
      spent_other: t.prior,
      run_spent: t.own,
      spent: t.spent,
      warned: t.warned,
      exceeded: t.exceeded,
      tasks_stopped: this.#stopped,
    };
  }
}

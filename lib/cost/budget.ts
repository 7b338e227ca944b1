/**
 * The budget of a run (`max_cost_usd`), as plain bookkeeping: what was spent, what running
 * tasks are expected to spend, whether a task may start, when the warning and the limit are
 * crossed. The run wires it to its events, scheduler and signals (lib/run/budget_guard.ts).
 *
 * Amounts counted against the limit:
 * - `prior`: spend before this run that counts too: the period's spend by other runs in the
 *   store's ledger (`budget_period`), or, without a period, the cost of the results a resume
 *   reused;
 * - this run's spend, added as each engine attempt and side call reports its cost, and
 *   reconciled with each task's final `cost_usd`.
 *
 * Admission of a task with estimate `e` when `spent` is counted and running tasks still
 * expect `reserved` (their estimate minus what they already spent):
 * - `spent + reserved + e <= limit`: it starts, and reserves `e`;
 * - otherwise, if it would fit once the running tasks are done (`spent + e <= limit` and
 *   something is running): it waits for them;
 * - otherwise it is skipped (and its dependents with it). An engine task is never started once
 *   `spent >= limit`, whatever its estimate.
 *
 * @module
 */
import { type BudgetPeriod, localMinute } from "./period.ts";
import type { TaskEstimate } from "./estimate.ts";

/** `budget_mode`: soft stops dispatching at the limit; hard also cancels running engine tasks. */
export type BudgetMode = "soft" | "hard";

/** A plan's budget settings. */
export interface BudgetConfig {
  /** `max_cost_usd`. */
  limit: number;
  /** `budget_warning_pct` (a fraction, 0–1). */
  warningPct: number;
  /** `budget_mode`. */
  mode: BudgetMode;
  /** `budget_period`, or null: the limit is per run. */
  period: BudgetPeriod | null;
  /** Local start of the period, when there is one. */
  since: Date | null;
}

/** What {@linkcode BudgetTracker.admit} decided. */
export type Admission =
  | { kind: "run" }
  | { kind: "wait" }
  | { kind: "skip"; message: string };

/** Called when a threshold is crossed (once each). */
export interface BudgetCallbacks {
  /** `spent` reached `limit × warningPct`. */
  onWarning?: (spent: number) => void;
  /** `spent` went over `limit`; `taskId` is the task whose cost crossed it (null: another run). */
  onExceeded?: (spent: number, taskId: string | null) => void;
}

/** Rounds USD sums to 1e-9, as the manifest's totals. */
function round(usd: number): number {
  return Math.round(usd * 1e9) / 1e9;
}

/** Slack for float noise in comparisons with the limit. */
const EPSILON = 1e-9;

/**
 * A USD amount for messages: 2 to 4 decimals (`$1.00`, `$0.30`, `$0.0123`).
 *
 * @example Usage
 * ```ts
 * import { formatUsd } from "./budget.ts";
 * import assert from "node:assert/strict";
 * assert.equal(formatUsd(1), "$1.00");
 * assert.equal(formatUsd(0.0123), "$0.0123");
 * ```
 */
export function formatUsd(usd: number): string {
  return `$${usd.toFixed(4).replace(/0{1,2}$/, "")}`;
}

/** The running account of one run's budget. */
export class BudgetTracker {
  readonly config: BudgetConfig;
  #prior: number;
  #own = 0;
  /** This run's spend per task. */
  #byTask = new Map<string, number>();
  /** Estimates of the tasks admitted and not settled yet. */
  #reserved = new Map<string, number>();
  #warned = false;
  #exceeded = false;
  #callbacks: BudgetCallbacks;

  /**
   * @param config the plan's budget
   * @param prior spend before this run that counts against the limit
   * @param callbacks told when the warning or the limit is crossed
   */
  constructor(config: BudgetConfig, prior: number, callbacks: BudgetCallbacks = {}) {
    this.config = config;
    this.#prior = Math.max(0, prior);
    this.#callbacks = callbacks;
  }

  /** Spend counted against the limit: prior plus this run's. */
  get spent(): number {
    return round(this.#prior + this.#own);
  }

  /** Spend before this run that counts (see the module doc). */
  get prior(): number {
    return round(this.#prior);
  }

  /** This run's own spend so far. */
  get own(): number {
    return round(this.#own);
  }

  /** Whether the warning fired. */
  get warned(): boolean {
    return this.#warned;
  }

  /** Whether the spend went over the limit. */
  get exceeded(): boolean {
    return this.#exceeded;
  }

  /** What running tasks are still expected to spend. */
  get reserved(): number {
    let sum = 0;
    for (const [id, estimate] of this.#reserved) {
      sum += Math.max(0, estimate - (this.#byTask.get(id) ?? 0));
    }
    return round(sum);
  }

  /** ` (daily budget since 2026-11-24 00:00)`, or "" without a period. */
  #periodNote(): string {
    const { period, since } = this.config;
    return period && since ? ` (${period} budget since ${localMinute(since)})` : "";
  }

  /** The message of tasks not started because the limit was crossed. */
  stopMessage(): string {
    return `Budget exceeded (${formatUsd(this.spent)} / ${
      formatUsd(this.config.limit)
    } limit${this.#periodNote()})`;
  }

  /** The message of engine tasks cancelled by `budget_mode: hard`. */
  cancelMessage(): string {
    return `Cancelled: budget exceeded (${formatUsd(this.spent)} / ${
      formatUsd(this.config.limit)
    } limit${this.#periodNote()}, budget_mode: hard)`;
  }

  /** Checks the thresholds after the spend changed. */
  #check(taskId: string | null): void {
    const spent = this.spent;
    const { limit, warningPct } = this.config;
    if (!this.#warned && spent > 0 && spent + EPSILON >= limit * warningPct) {
      this.#warned = true;
      this.#callbacks.onWarning?.(spent);
    }
    if (!this.#exceeded && spent > limit + EPSILON) {
      this.#exceeded = true;
      this.#callbacks.onExceeded?.(spent, taskId);
    }
  }

  /** Checks the thresholds once at the start (a period may be spent already). */
  start(): void {
    this.#check(null);
  }

  /**
   * Whether a task may start now (see the module doc). `run` reserves its estimate until
   * {@linkcode settle}.
   *
   * @param estimate the task's estimate
   * @param running how many tasks are running (a task waits only for running ones)
   */
  admit(estimate: TaskEstimate, running: number): Admission {
    if (this.#exceeded) return { kind: "skip", message: this.stopMessage() };
    const engine = estimate.engine !== null;
    if (!engine && estimate.cost_usd <= 0) return { kind: "run" };
    const { limit } = this.config;
    const spent = this.spent;
    const e = Math.max(0, estimate.cost_usd);
    if (engine && spent + EPSILON >= limit) {
      return {
        kind: "skip",
        message: `Budget exhausted: ${formatUsd(spent)} of max_cost_usd ${
          formatUsd(limit)
        } already spent${this.#periodNote()}`,
      };
    }
    const reserved = this.reserved;
    if (spent + reserved + e <= limit + EPSILON) {
      this.#reserved.set(estimate.task_id, e);
      return { kind: "run" };
    }
    if (running > 0 && reserved > 0 && spent + e <= limit + EPSILON) return { kind: "wait" };
    return {
      kind: "skip",
      message: `Budget: estimated ${formatUsd(e)} (${estimate.basis}) would exceed max_cost_usd ${
        formatUsd(limit)
      }: ${formatUsd(spent)} spent${
        reserved > 0 ? `, ${formatUsd(reserved)} expected by running tasks` : ""
      }${this.#periodNote()}`,
    };
  }

  /**
   * Adds spend of this run as it happens (an engine attempt, a side call).
   *
   * @param taskId the task it was spent for
   * @param usd the amount (ignored unless positive)
   */
  add(taskId: string, usd: number | null): void {
    if (usd === null || !(usd > 0)) return;
    this.#own += usd;
    this.#byTask.set(taskId, round((this.#byTask.get(taskId) ?? 0) + usd));
    this.#check(taskId);
  }

  /**
   * A task is final: its reservation is released and its spend reconciled with the result's
   * `cost_usd` (the part no event reported is added).
   *
   * @param taskId the task
   * @param cost its final `cost_usd`
   */
  settle(taskId: string, cost: number | null): void {
    this.#reserved.delete(taskId);
    const seen = this.#byTask.get(taskId) ?? 0;
    if (cost !== null && cost > seen + EPSILON) this.add(taskId, cost - seen);
  }

  /**
   * Replaces the prior spend (another run spent in the same period meanwhile).
   *
   * @param usd the new prior spend
   */
  setPrior(usd: number): void {
    if (!(usd >= 0) || Math.abs(usd - this.#prior) < EPSILON) return;
    this.#prior = usd;
    this.#check(null);
  }
}

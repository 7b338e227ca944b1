/**
 * Budget periods (`budget_period`): where the current day, week or month began, in the local
 * time of the machine asking (as the reference tool: daily = local midnight, weekly = Monday,
 * monthly = the 1st). Ledger times are UTC; a period start is compared with them as UTC too.
 *
 * @module
 */

/** A `budget_period` value. */
export type BudgetPeriod = "daily" | "weekly" | "monthly";

/** Every budget period, shortest first. */
export const BUDGET_PERIODS: readonly BudgetPeriod[] = ["daily", "weekly", "monthly"];

/** Whether `value` is a budget period. */
export function isBudgetPeriod(value: unknown): value is BudgetPeriod {
  return typeof value === "string" && (BUDGET_PERIODS as readonly string[]).includes(value);
}

/**
 * The local start of the period that contains `now`: midnight today, midnight of the last
 * Monday, or midnight of the 1st.
 *
 * @example Usage
 * ```ts
 * import { periodStart } from "./period.ts";
 * import assert from "node:assert/strict";
 * const start = periodStart("weekly", new Date(2026, 10, 26, 15, 30)); // a Thursday
 * assert.equal(start.getDay(), 1);
 * assert.equal(start.getDate(), 23);
 * ```
 */
export function periodStart(period: BudgetPeriod, now: Date = new Date()): Date {
  const y = now.getFullYear();
  const m = now.getMonth();
  const d = now.getDate();
  switch (period) {
    case "daily":
      return new Date(y, m, d);
    case "weekly":
      // getDay(): 0 = Sunday; Monday starts the week
      return new Date(y, m, d - (now.getDay() + 6) % 7);
    case "monthly":
      return new Date(y, m, 1);
  }
}

/** The ledger's time format (the event log's): `YYYY-MM-DDTHH:MM:SSZ`, UTC. */
export function ledgerTime(date: Date): string {
  return date.toISOString().slice(0, 19) + "Z";
}

/** `YYYY-MM-DD HH:MM` in local time, for messages. */
export function localMinute(date: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())} ` +
    `${p(date.getHours())}:${p(date.getMinutes())}`;
}

/** How a period is named in messages: today, this week, this month. */
export function periodName(period: BudgetPeriod): string {
  return period === "daily" ? "today" : period === "weekly" ? "this week" : "this month";
}

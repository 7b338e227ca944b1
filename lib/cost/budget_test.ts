import assert from "node:assert/strict";
import { type BudgetConfig, BudgetTracker, formatUsd } from "./budget.ts";
import type { TaskEstimate } from "./estimate.ts";

const CONFIG: BudgetConfig = { limit: 1, warningPct: 0.8, mode: "soft", period: null, since: null };

function est(id: string, usd: number, engine: string | null = "claude"): TaskEstimate {
  return {
    task_id: id,
    engine,
    model: null,
    cost_usd: usd,
    source: "history",
    runs: 1,
    basis: "median of 1 successful run",
  };
}

function tracker(prior = 0, config: Partial<BudgetConfig> = {}) {
  const calls: string[] = [];
  const t = new BudgetTracker({ ...CONFIG, ...config }, prior, {
    onWarning: (spent) => calls.push(`warning ${spent}`),
    onExceeded: (spent, id) => calls.push(`exceeded ${spent} ${id}`),
  });
  return { t, calls };
}

Deno.test("formatUsd() shows 2 to 4 decimals", () => {
  assert.deepEqual([1, 0.3, 0.0123, 0.123456, 12.5].map(formatUsd), [
    "$1.00",
    "$0.30",
    "$0.0123",
    "$0.1235",
    "$12.50",
  ]);
});

Deno.test("BudgetTracker.admit() runs what fits, waits for running tasks, skips the rest", () => {
  const { t } = tracker();
  assert.deepEqual(t.admit(est("a", 0.5), 0), { kind: "run" });
  // 0.5 reserved by a: 0.6 does not fit now, but would once a is done
  assert.deepEqual(t.admit(est("b", 0.6), 1), { kind: "wait" });
  t.add("a", 0.2);
  t.settle("a", 0.2);
  assert.deepEqual(t.admit(est("b", 0.6), 0), { kind: "run" });
  assert.equal(t.reserved, 0.6);
  // 0.2 spent + 0.6 reserved + 0.3 > 1, and 0.2 + 0.3 fits: wait; nothing running: skip
  assert.deepEqual(t.admit(est("c", 0.3), 1), { kind: "wait" });
  const skip = t.admit(est("c", 0.9), 1);
  assert.equal(skip.kind, "skip");
  assert.match(
    (skip as { message: string }).message,
    /^Budget: estimated \$0\.90 \(median of 1 successful run\) would exceed max_cost_usd \$1\.00: \$0\.20 spent, \$0\.60 expected by running tasks$/,
  );
});

Deno.test("BudgetTracker.admit() never starts an engine task once the limit is spent", () => {
  const { t } = tracker(1);
  const skip = t.admit(est("a", 0), 0);
  assert.equal(skip.kind, "skip");
  assert.match((skip as { message: string }).message, /^Budget exhausted: \$1\.00 of/);
  // a shell task costs nothing and still runs
  assert.deepEqual(t.admit(est("s", 0, null), 0), { kind: "run" });
});

Deno.test("BudgetTracker fires the warning once and the limit once, as costs come", () => {
  const { t, calls } = tracker();
  t.start();
  t.add("a", 0.5);
  assert.deepEqual(calls, []);
  t.add("a", 0.3);
  t.add("b", 0.1);
  assert.deepEqual(calls, ["warning 0.8"]);
  t.add("b", 0.2);
  t.add("b", 0.5);
  assert.deepEqual(calls, ["warning 0.8", "exceeded 1.1 b"]);
  assert.equal(t.stopMessage(), "Budget exceeded ($1.60 / $1.00 limit)");
  assert.equal(t.admit(est("c", 0, null), 0).kind, "skip");
});

Deno.test("BudgetTracker.settle() adds the part of a result's cost no event reported", () => {
  const { t } = tracker();
  t.add("a", 0.25);
  t.settle("a", 0.4);
  assert.equal(t.own, 0.4);
  t.settle("b", null);
  t.settle("a", 0.1); // never less than what was seen
  assert.equal(t.spent, 0.4);
});

Deno.test("BudgetTracker.setPrior() counts another run's spend in the same period", () => {
  const since = new Date(2026, 10, 24);
  const { t, calls } = tracker(0.5, { period: "daily", since });
  t.start();
  t.add("a", 0.2);
  t.setPrior(0.95);
  assert.deepEqual(calls, ["warning 1.15", "exceeded 1.15 null"]);
  assert.equal(
    t.stopMessage(),
    "Budget exceeded ($1.15 / $1.00 limit (daily budget since 2026-11-24 00:00))",
  );
});

Deno.test("BudgetTracker.start() warns at once when the period is already mostly spent", () => {
  const { t, calls } = tracker(0.9, { period: "weekly", since: new Date() });
  t.start();
  assert.deepEqual(calls, ["warning 0.9"]);
});

import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CostSample } from "../cost/estimate.ts";
import { loadPlan } from "../plan/load.ts";
import type { SpendLedger } from "./budget_guard.ts";
import type { RunEvent } from "./events.ts";
import { runPlan } from "./run_plan.ts";
import type { TaskResult } from "./result.ts";
import { type AttemptLog, pricedEngine } from "./_priced_engine.ts";

interface Outcome {
  events: RunEvent[];
  results: Record<string, TaskResult>;
  manifest: Awaited<ReturnType<typeof runPlan>>;
  attempts: AttemptLog;
}

/** Runs a YAML plan with the priced engine standing in for claude. */
async function run(
  yaml: string,
  budget: { history?: CostSample[]; ledger?: SpendLedger } = {},
): Promise<Outcome> {
  const dir = await mkdtemp(join(tmpdir(), "maestro-budget-"));
  try {
    await writeFile(join(dir, "plan.yaml"), yaml);
    const loaded = await loadPlan(join(dir, "plan.yaml"));
    assert.ok(loaded.plan, JSON.stringify(loaded.errors));
    const events: RunEvent[] = [];
    const attempts: Outcome["attempts"] = [];
    const engine = pricedEngine(attempts);
    const manifest = await runPlan(loaded.plan, {
      engines: (name) => name === "claude" ? engine : undefined,
      runDir: join(dir, "runs"),
      onEvent: (r) => events.push(r.event),
      budget,
      graceMs: 200,
    });
    return { events, results: manifest.task_results, manifest, attempts };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function history(costs: Record<string, number>): CostSample[] {
  return Object.entries(costs).map(([task_id, cost_usd]) => ({
    task_id,
    engine: "claude",
    model: null,
    cost_usd,
  }));
}

function ofKind<K extends RunEvent["event"]>(events: RunEvent[], kind: K) {
  return events.filter((e): e is Extract<RunEvent, { event: K }> => e.event === kind);
}

Deno.test("runPlan() does not start a task whose estimate would cross max_cost_usd, nor its dependents", async () => {
  const { results, attempts, manifest, events } = await run(
    `name: pre
max_cost_usd: 1
fail_fast: false
tasks:
  - { id: a, engine: claude, prompt: "costs=0.5" }
  - { id: b, engine: claude, prompt: "costs=0.6" }
  - { id: c, engine: claude, prompt: "costs=0.1", depends_on: [b] }
  - { id: d, command: "true" }
`,
    { history: history({ a: 0.5, b: 0.6, c: 0.1 }) },
  );
  assert.equal(results.a!.status, "success");
  assert.equal(results.b!.status, "skipped");
  assert.equal(
    results.b!.message,
    "Budget: estimated $0.60 (median of 1 successful run) would exceed max_cost_usd $1.00: " +
      "$0.50 spent",
  );
  assert.equal(results.c!.status, "skipped");
  assert.equal(results.c!.message, "Skipped because dependency failed: b");
  assert.equal(results.d!.status, "success");
  assert.deepEqual([...new Set(attempts.map((a) => a.id))], ["a"], "b and c never started");
  assert.equal(manifest.success, false);
  assert.equal(manifest.budget_exceeded, false);
  assert.equal(manifest.budget?.tasks_stopped, 1);
  assert.equal(manifest.budget?.spent, 0.5);
  const start = ofKind(events, "budget_start")[0]!;
  assert.deepEqual([start.limit, start.period, start.mode, start.spent], [1, null, "soft", 0]);
});

Deno.test("runPlan() lets a task wait for a running one instead of skipping it", async () => {
  // a is expected to cost 0.5 and costs 0.2: b (0.6) fits once a is done
  const { results, attempts } = await run(
    `name: wait
max_cost_usd: 1
max_parallel: 2
tasks:
  - { id: a, engine: claude, prompt: "costs=0.2 sleep=0.3" }
  - { id: b, engine: claude, prompt: "costs=0.6" }
`,
    { history: history({ a: 0.5, b: 0.6 }) },
  );
  assert.equal(results.a!.status, "success");
  assert.equal(results.b!.status, "success", results.b!.message);
  const aEnd = attempts.find((x) => x.id === "a" && x.what === "end")!.at;
  const bStart = attempts.find((x) => x.id === "b" && x.what === "start")!.at;
  assert.ok(bStart >= aEnd, "b started only after a ended");
});

Deno.test("runPlan() stops dispatching once the spend crosses the limit", async () => {
  const { results, events, manifest } = await run(
    `name: cross
max_cost_usd: 1
fail_fast: false
tasks:
  - { id: a, engine: claude, prompt: "costs=1.5" }
  - { id: b, command: "true" }
  - { id: c, engine: claude, prompt: "costs=0.1" }
`,
    { history: history({ a: 0.1, c: 0.1 }) },
  );
  assert.equal(results.a!.status, "success");
  for (const id of ["b", "c"]) {
    assert.equal(results[id]!.status, "skipped");
    assert.equal(results[id]!.message, "Budget exceeded ($1.50 / $1.00 limit)");
  }
  const exceeded = ofKind(events, "budget_exceeded");
  assert.equal(exceeded.length, 1);
  assert.deepEqual(
    { ...exceeded[0], ts: undefined },
    {
      ts: undefined,
      event: "budget_exceeded",
      plan_name: "cross",
      spent: 1.5,
      limit: 1,
      period: null,
      mode: "soft",
      task_id: "a",
    },
  );
  assert.equal(manifest.budget_exceeded, true);
  assert.equal(manifest.success, false);
  assert.equal(ofKind(events, "run_complete")[0]!.budget_exceeded, true);
});

Deno.test("runPlan() with budget_mode: hard cancels running engine tasks, not shell tasks", async () => {
  const started = performance.now();
  const { results, events } = await run(
    `name: hard
max_cost_usd: 1
budget_mode: hard
max_parallel: 3
fail_fast: false
tasks:
  - { id: a, engine: claude, prompt: "costs=1.5 sleep=0.2" }
  - { id: slow, engine: claude, prompt: "costs=0.1 sleep=20" }
  - { id: sh, command: "sleep 1; echo done" }
  - { id: after, depends_on: [slow], command: "true" }
`,
    { history: history({ a: 0.1, slow: 0.1 }) },
  );
  assert.ok(performance.now() - started < 10_000, "the slow task was not waited for");
  assert.equal(results.slow!.status, "cancelled");
  assert.equal(
    results.slow!.message,
    "Cancelled: budget exceeded ($1.50 / $1.00 limit, budget_mode: hard)",
  );
  assert.equal(results.sh!.status, "success");
  assert.equal(results.after!.status, "skipped");
  assert.equal(ofKind(events, "budget_exceeded")[0]!.mode, "hard");
  // a hard budget's cancellations are not an interruption
  assert.equal(ofKind(events, "run_complete")[0]!.budget_exceeded, true);
});

Deno.test("runPlan() fires budget_warning exactly once, with the spend at that moment", async () => {
  const { events } = await run(
    `name: warn
max_cost_usd: 10
budget_warning_pct: 0.3
tasks:
  - { id: a, engine: claude, prompt: "costs=2" }
  - { id: b, engine: claude, prompt: "costs=2", depends_on: [a] }
  - { id: c, engine: claude, prompt: "costs=2", depends_on: [b] }
`,
    { history: history({ a: 2, b: 2, c: 2 }) },
  );
  const warnings = ofKind(events, "budget_warning");
  assert.equal(warnings.length, 1);
  assert.deepEqual([warnings[0]!.spent, warnings[0]!.limit, warnings[0]!.pct], [4, 10, 0.3]);
  assert.equal(ofKind(events, "budget_exceeded").length, 0);
});

Deno.test("runPlan() counts each attempt's cost when it ends, before the task completes", async () => {
  const { events, results } = await run(
    `name: attempts
max_cost_usd: 1
budget_mode: hard
tasks:
  - { id: a, engine: claude, prompt: "costs=0.7 fails=1", max_retries: 2 }
`,
    { history: history({ a: 0.1 }) },
  );
  const usage = ofKind(events, "attempt_usage");
  assert.deepEqual(usage.map((u) => [u.attempt, u.cost_usd]), [[1, 0.7], [2, 0.7]]);
  const kinds = events.map((e) => e.event);
  assert.ok(kinds.indexOf("budget_exceeded") < kinds.indexOf("task_complete"));
  assert.equal(results.a!.cost_usd, 1.4);
  assert.equal(results.a!.status, "success");
});

Deno.test("runPlan() with a spent period budget starts no engine task, shell tasks still run", async () => {
  const asked: { plan: string; since: string }[] = [];
  const ledger: SpendLedger = {
    spentSince(query) {
      asked.push(query);
      return Promise.resolve(1.2);
    },
  };
  const { results, events, manifest } = await run(
    `name: daily
max_cost_usd: 1
budget_period: daily
fail_fast: false
tasks:
  - { id: a, engine: claude, prompt: "costs=0.1" }
  - { id: b, command: "true" }
`,
    { ledger },
  );
  assert.equal(asked[0]?.plan, "daily");
  assert.match(asked[0]!.since, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal(results.a!.status, "skipped");
  assert.match(
    results.a!.message,
    /^Budget exceeded \(\$1\.20 \/ \$1\.00 limit \(daily budget since /,
  );
  assert.equal(results.b!.status, "skipped", "the budget was exceeded before anything ran");
  const start = ofKind(events, "budget_start")[0]!;
  assert.deepEqual([start.period, start.spent, start.ledger], ["daily", 1.2, "store"]);
  assert.equal(ofKind(events, "budget_exceeded")[0]!.task_id, null);
  assert.equal(manifest.budget?.spent_other, 1.2);
});

Deno.test("runPlan() with a period budget exactly spent skips engine tasks and runs shell ones", async () => {
  const ledger: SpendLedger = { spentSince: () => Promise.resolve(1) };
  const { results } = await run(
    `name: exact
max_cost_usd: 1
budget_period: weekly
fail_fast: false
tasks:
  - { id: a, engine: claude, prompt: "costs=0.1" }
  - { id: b, command: "true" }
`,
    { ledger },
  );
  assert.equal(results.a!.status, "skipped");
  assert.match(
    results.a!.message,
    /^Budget exhausted: \$1\.00 of max_cost_usd \$1\.00 already spent/,
  );
  assert.equal(results.b!.status, "success");
});

Deno.test("runPlan() re-reads the period's spend: another run's spend stops dispatching", async () => {
  let calls = 0;
  const ledger: SpendLedger = { spentSince: () => Promise.resolve(calls++ === 0 ? 0 : 5) };
  const { results, events } = await run(
    `name: shared
max_cost_usd: 1
budget_period: monthly
fail_fast: false
tasks:
  - { id: a, engine: claude, prompt: "costs=0.1" }
  - { id: b, command: "sleep 0.2", depends_on: [a] }
  - { id: c, engine: claude, prompt: "costs=0.1", depends_on: [b] }
`,
    { ledger },
  );
  assert.equal(results.a!.status, "success");
  assert.equal(results.b!.status, "skipped");
  assert.equal(results.b!.message.startsWith("Budget exceeded ($5.10 / $1.00 limit"), true);
  assert.equal(results.c!.status, "skipped");
  assert.equal(ofKind(events, "budget_exceeded")[0]!.task_id, null);
});

Deno.test("runPlan() waits for a ledger read in flight before it starts the next task", async () => {
  // the first read (at the start) finds nothing; every later one is slow and finds another
  // run's spend over the limit: no task may start on the stale figure meanwhile
  let calls = 0;
  const ledger: SpendLedger = {
    spentSince: () =>
      calls++ === 0
        ? Promise.resolve(0)
        : new Promise((resolve) => setTimeout(() => resolve(5), 150)),
  };
  const { results, events } = await run(
    `name: shared
max_cost_usd: 1
budget_period: daily
fail_fast: false
tasks:
  - { id: a, engine: claude, prompt: "costs=0.1" }
  - { id: b, command: "true", depends_on: [a] }
  - { id: c, engine: claude, prompt: "costs=0.1", depends_on: [b] }
`,
    { ledger },
  );
  assert.equal(results.a!.status, "success");
  assert.equal(results.b!.status, "skipped", results.b!.message);
  assert.equal(results.c!.status, "skipped");
  const started = ofKind(events, "task_start").map((e) => e.task_id);
  assert.deepEqual(started, ["a"]);
});

Deno.test("runPlan() without a period ledger applies a period budget to the run alone", async () => {
  const { events, results } = await run(
    `name: alone
max_cost_usd: 1
budget_period: daily
tasks:
  - { id: a, engine: claude, prompt: "costs=0.1" }
`,
  );
  assert.equal(results.a!.status, "success");
  assert.equal(ofKind(events, "budget_start")[0]!.ledger, "none");
});

Deno.test("runPlan() without max_cost_usd emits no budget event and writes no budget block", async () => {
  const { events, manifest } = await run(
    `name: free
tasks:
  - { id: a, engine: claude, prompt: "costs=5" }
`,
  );
  assert.ok(!events.some((e) => e.event.startsWith("budget_")));
  assert.equal(manifest.budget, undefined);
  assert.equal(manifest.total_cost_usd, 5);
  assert.equal(ofKind(events, "attempt_usage").length, 1);
});

import assert from "node:assert/strict";
import { join } from "node:path";
import { estimateTasks } from "../cost/estimate.ts";
import { ledgerTime, periodStart } from "../cost/period.ts";
import { pricedEngine } from "../run/_priced_engine.ts";
import { RUN_FILES } from "../run/artifacts.ts";
import { runPlan } from "../run/run_plan.ts";
import { createCacheStore } from "./cache_store.ts";
import { createRunIndexer } from "./indexer.ts";
import {
  costHistory,
  type LedgerRow,
  ledgerRowsFromEvents,
  spendReport,
  storeLedger,
  upsertLedgerRow,
} from "./ledger.ts";
import type { StoreLocation } from "./location.ts";
import { reindexRunDirs } from "./reindex.ts";
import { openStore, type Store } from "./store.ts";
import { planIn, withTempDir } from "./_test_support.ts";

const PRICED_PLAN = `name: priced
fail_fast: false
tasks:
  - { id: a, engine: claude, prompt: "costs=0.25,0.5 fails=1", max_retries: 1 }
  - { id: b, engine: claude, prompt: "costs=0" }
  - { id: c, command: "true" }
`;

async function ledgerRows(store: Store): Promise<Record<string, unknown>[]> {
  return (await store.read("SELECT * FROM budget_ledger ORDER BY run_id, entry")).map((r) => ({
    ...r,
  }));
}

function row(extra: Partial<LedgerRow>): LedgerRow {
  return {
    run_id: "r1",
    entry: 1,
    at: "2026-01-01T00:00:00Z",
    plan_name: "p",
    task_id: "t",
    kind: "attempt",
    purpose: null,
    engine: "claude",
    model: null,
    cost_usd: 0.1,
    ...extra,
  };
}

Deno.test("the indexer writes each priced attempt to the ledger; reindex writes the same rows", async () => {
  await withTempDir(async (dir) => {
    const location: StoreLocation = { kind: "file", path: join(dir, ".maestro", "maestro.db") };
    const plan = await planIn(dir, PRICED_PLAN);
    const indexer = createRunIndexer(location, { planPath: plan.source });
    const engine = pricedEngine();
    const manifest = await runPlan(plan, {
      engines: (name) => name === "claude" ? engine : undefined,
      store: indexer,
    });
    assert.equal(indexer.status.behind, null);
    const store = await openStore(location);
    try {
      const live = await ledgerRows(store);
      // two attempts of a (0.25 then 0.5); b cost nothing; c is a shell task
      assert.deepEqual(
        live.map((r) => [r["entry"], r["task_id"], r["kind"], r["engine"], r["cost_usd"]]),
        [[1, "a", "attempt", "claude", 0.25], [2, "a", "attempt", "claude", 0.5]],
      );
      assert.equal(live[0]!["run_id"], manifest.run_id);
      assert.equal(live[0]!["plan_name"], "priced");
      assert.match(String(live[0]!["at"]), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      const events = await Deno.readTextFile(join(manifest.run_path, RUN_FILES.events));
      assert.deepEqual(
        ledgerRowsFromEvents(events, { runId: manifest.run_id, planName: "priced" }),
        live,
      );
      // rebuilt from the run directory: the same rows
      await store.write([{ sql: "DELETE FROM budget_ledger", args: [] }]);
      await reindexRunDirs(store, [manifest.run_path]);
      assert.deepEqual(await ledgerRows(store), live);
      // and reindexing again adds nothing
      await reindexRunDirs(store, [manifest.run_path]);
      assert.equal((await ledgerRows(store)).length, 2);
      // the task's history now gives estimates
      const history = await costHistory(store, "priced");
      assert.deepEqual(history.map((h) => [h.task_id, h.cost_usd]), [["a", 0.75], ["b", 0]]);
    } finally {
      store.close();
    }
  });
});

Deno.test("ledgerRowsFromEvents() counts uncached side calls with a cost, skips torn lines", () => {
  const lines = [
    {
      event: "side_call",
      ts: "2026-01-01T00:00:01Z",
      task_id: "t",
      purpose: "judge",
      engine: "claude",
      model: "haiku",
      cost_usd: 0.01,
      cached: false,
    },
    {
      event: "side_call",
      ts: "2026-01-01T00:00:02Z",
      task_id: "t",
      purpose: "judge",
      engine: "claude",
      model: "haiku",
      cost_usd: 0,
      cached: true,
    },
    {
      event: "attempt_usage",
      ts: "2026-01-01T00:00:03Z",
      task_id: "t",
      attempt: 1,
      engine: "claude",
      model: null,
      cost_usd: null,
    },
    {
      event: "attempt_usage",
      ts: "2026-01-01T00:00:04Z",
      task_id: "t",
      attempt: 2,
      engine: "claude",
      model: null,
      cost_usd: 0.2,
    },
  ].map((e) => JSON.stringify(e));
  const rows = ledgerRowsFromEvents(lines.join("\n") + '\n{"event":"attempt_usage","ts', {
    runId: "r",
    planName: "p",
  });
  assert.deepEqual(rows.map((r) => [r.entry, r.kind, r.purpose, r.cost_usd]), [
    [1, "side_call", "judge", 0.01],
    [2, "attempt", null, 0.2],
  ]);
});

Deno.test("storeLedger() sums a plan's spend since a time, leaving a run out", async () => {
  await withTempDir(async (dir) => {
    const store = await openStore({ kind: "file", path: join(dir, "s.db") });
    try {
      await store.write([
        upsertLedgerRow(row({ run_id: "old", at: "2026-01-01T00:00:00Z", cost_usd: 5 })),
        upsertLedgerRow(row({ run_id: "r1", at: "2026-01-02T10:00:00Z", cost_usd: 0.5 })),
        upsertLedgerRow(row({ run_id: "r2", at: "2026-01-02T11:00:00Z", cost_usd: 0.25 })),
        upsertLedgerRow(row({ run_id: "r3", at: "2026-01-02T12:00:00Z", plan_name: "other" })),
      ]);
      const ledger = storeLedger(store);
      const since = "2026-01-02T00:00:00Z";
      assert.equal(await ledger.spentSince({ plan: "p", since, excludeRunId: "" }), 0.75);
      assert.equal(await ledger.spentSince({ plan: "p", since, excludeRunId: "r2" }), 0.5);
      assert.equal(await ledger.spentSince({ plan: "q", since, excludeRunId: "" }), 0);
    } finally {
      store.close();
    }
  });
});

Deno.test("spendReport() gives today, this week and this month, per plan", async () => {
  await withTempDir(async (dir) => {
    const store = await openStore({ kind: "file", path: join(dir, "s.db") });
    try {
      const now = new Date(2026, 10, 26, 15); // a Thursday
      const at = (d: Date) => ledgerTime(d);
      await store.write([
        upsertLedgerRow(row({ run_id: "t1", at: at(new Date(2026, 10, 26, 9)), cost_usd: 1 })),
        upsertLedgerRow(row({ run_id: "w1", at: at(new Date(2026, 10, 24, 9)), cost_usd: 2 })),
        upsertLedgerRow(row({ run_id: "m1", at: at(new Date(2026, 10, 3, 9)), cost_usd: 4 })),
        upsertLedgerRow(
          row({ run_id: "m1", entry: 2, at: at(new Date(2026, 10, 3)), cost_usd: 4 }),
        ),
        upsertLedgerRow(row({ run_id: "old", at: at(new Date(2026, 9, 30)), cost_usd: 100 })),
        upsertLedgerRow(
          row({ run_id: "x", plan_name: "b", at: at(new Date(2026, 10, 26, 8)), cost_usd: 0.5 }),
        ),
      ]);
      const report = await spendReport(store, { now });
      assert.deepEqual(report.periods.map((p) => [p.period, p.spent_usd]), [
        ["daily", 1.5],
        ["weekly", 3.5],
        ["monthly", 11.5],
      ]);
      assert.equal(report.periods[1]!.since, periodStart("weekly", now).toISOString());
      assert.deepEqual(
        report.plans.map((
          p,
        ) => [p.plan_name, p.today_usd, p.week_usd, p.month_usd, p.runs_this_month]),
        [["b", 0.5, 0.5, 0.5, 1], ["p", 1, 3, 11, 3]],
      );
      const only = await spendReport(store, { now, plan: "b" });
      assert.deepEqual(only.plans.map((p) => p.plan_name), ["b"]);
      assert.equal(only.periods[2]!.spent_usd, 0.5);
    } finally {
      store.close();
    }
  });
});

Deno.test("costHistory() keeps the last successful, non-resumed costs per task and route", async () => {
  await withTempDir(async (dir) => {
    const store = await openStore({ kind: "file", path: join(dir, "s.db") });
    try {
      const insert = (
        run: string,
        task: string,
        status: string,
        cost: number | null,
        extra = {},
      ) => {
        const values = { model: "sonnet", resumed: 0, ...extra };
        return {
          sql: `INSERT INTO task_results (run_id, task_id, plan_name, status, engine, model,
            cost_usd, started_at, resumed) VALUES (?, ?, 'p', ?, 'claude', ?, ?, ?, ?)`,
          args: [run, task, status, values.model, cost, `2026-01-01T00:00:0${run}`, values.resumed],
        };
      };
      await store.write([
        ...[1, 2, 3, 4, 5, 6].map((n) => insert(String(n), "a", "success", n / 10)),
        insert("7", "a", "failed", 9),
        insert("8", "a", "success", 9, { resumed: 1 }),
        insert("9", "a", "success", null),
        insert("1", "b", "success", 0.3, { model: "opus" }),
      ]);
      const history = await costHistory(store, "p");
      assert.deepEqual(
        history.filter((h) => h.task_id === "a").map((h) => h.cost_usd),
        [0.6, 0.5, 0.4, 0.3, 0.2],
      );
      assert.deepEqual(history.find((h) => h.task_id === "b"), {
        task_id: "b",
        engine: "claude",
        model: "opus",
        cost_usd: 0.3,
      });
    } finally {
      store.close();
    }
  });
});

const REVIEW_PLAN = `name: review
fail_fast: false
tasks:
  - { id: a, engine: claude, prompt: "costs=0.3 a" }
  - { id: b, engine: claude, prompt: "costs=0.3 b", depends_on: [a] }
`;

Deno.test("cache hits are left out of the cost history, so max_cost_usd still stops overspending", async () => {
  await withTempDir(async (dir) => {
    const location: StoreLocation = { kind: "file", path: join(dir, ".maestro", "maestro.db") };
    const plan = await planIn(dir, REVIEW_PLAN);
    const engine = pricedEngine();
    const engines = (name: string) => name === "claude" ? engine : undefined;
    // one real run, then two whose tasks are all restored from the cache ($0 rows)
    const sources: (boolean | undefined)[] = [];
    for (let n = 0; n < 3; n++) {
      const manifest = await runPlan(plan, {
        engines,
        store: createRunIndexer(location, { planPath: plan.source }),
        cache: createCacheStore(location, { flushIntervalMs: 1, versionMemo: null }),
      });
      sources.push(...Object.values(manifest.task_results).map((r) => r.from_cache));
    }
    assert.deepEqual(sources, [false, false, true, true, true, true], "the later runs were hits");
    const store = await openStore(location);
    let history;
    try {
      const rows = await store.read(
        "SELECT cost_source, COUNT(*) AS n FROM task_results GROUP BY cost_source ORDER BY 1",
      );
      assert.deepEqual(rows.map((r) => [r["cost_source"], Number(r["n"])]), [
        ["cache", 4],
        ["reported", 2],
      ]);
      history = await costHistory(store, "review");
    } finally {
      store.close();
    }
    assert.deepEqual(history.map((h) => [h.task_id, h.cost_usd]), [["a", 0.3], ["b", 0.3]]);
    const estimates = estimateTasks(plan.ir.tasks, history);
    assert.deepEqual(estimates.map((e) => [e.task_id, e.cost_usd, e.source]), [
      ["a", 0.3, "history"],
      ["b", 0.3, "history"],
    ]);
    // a budget that only fits one task: the history must keep the second from running
    const budgeted = await planIn(
      dir,
      REVIEW_PLAN.replace("fail_fast", "max_cost_usd: 0.5\nfail_fast"),
    );
    const run = await runPlan(budgeted, { engines, noCache: true, budget: { history } });
    assert.equal(run.task_results["a"]!.status, "success");
    assert.equal(run.task_results["b"]!.status, "skipped");
    assert.match(run.task_results["b"]!.message, /would exceed max_cost_usd/);
    assert.ok((run.total_cost_usd ?? 0) <= 0.5, `spent ${run.total_cost_usd}`);
  });
});

import assert from "node:assert/strict";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { runPlan, type RunSink } from "../run/run_plan.ts";
import { createRunIndexer } from "./indexer.ts";
import { reindexRunDirs } from "./reindex.ts";
import { listRuns } from "./runs_query.ts";
import { openStore, type Store } from "./store.ts";
import { MIXED_PLAN, planIn, withTempDir } from "./_test_support.ts";
import type { StoreLocation } from "./location.ts";

const quiet = { parentEnv: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" } };

async function rows(store: Store, table: string): Promise<Record<string, unknown>[]> {
  const order = table === "attempts" ? "task_id, attempt" : "task_id";
  return (await store.read(`SELECT * FROM ${table} ORDER BY ${order}`)).map((r) => ({ ...r }));
}

Deno.test("createRunIndexer() indexes the run, its tasks and attempts; reindex gives the same rows", async () => {
  await withTempDir(async (dir) => {
    const location: StoreLocation = { kind: "file", path: join(dir, ".maestro", "maestro.db") };
    const plan = await planIn(dir, MIXED_PLAN);
    const warnings: string[] = [];
    const indexer = createRunIndexer(location, {
      planPath: plan.source,
      onWarning: (m) => warnings.push(m),
    });
    const manifest = await runPlan(plan, { ...quiet, store: indexer });
    assert.deepEqual(warnings, []);
    assert.deepEqual(indexer.status, { tasks: 4, finished: true, behind: null });

    const store = await openStore(location);
    try {
      const [run] = await listRuns(store);
      assert.equal(run?.run_id, manifest.run_id);
      assert.equal(run?.status, "failed");
      assert.equal(run?.plan_path, plan.source);
      assert.equal(run?.plan_hash, manifest.plan_hash);
      assert.equal(run?.started_at, manifest.started_at);
      assert.equal(run?.finished_at, manifest.finished_at);
      assert.deepEqual(run?.tasks, {
        total: 4,
        success: 1,
        soft_failed: 1,
        failed: 1,
        skipped: 1,
        cancelled: 0,
      });
      const tasks = await rows(store, "task_results");
      const flaky = tasks.find((t) => t["task_id"] === "flaky")!;
      assert.equal(flaky["attempts"], 2);
      assert.equal(flaky["exit_code"], 3);
      assert.equal(flaky["engine"], "shell");
      assert.equal(flaky["error"], "Task failed with exit code 3");
      const skipped = tasks.find((t) => t["task_id"] === "after")!;
      assert.equal(skipped["attempts"], 0);
      assert.equal(skipped["engine"], null);
      const attempts = await rows(store, "attempts");
      assert.deepEqual(
        attempts.filter((a) => a["task_id"] === "flaky").map((a) => [a["attempt"], a["status"]]),
        [[1, "failed"], [2, "failed"]],
      );

      // the run directory is the source of truth: reindexing it changes no task or attempt row
      const liveTasks = tasks;
      const liveAttempts = attempts;
      await store.write([{ sql: "DELETE FROM task_results", args: [] }, {
        sql: "DELETE FROM attempts",
        args: [],
      }]);
      await reindexRunDirs(store, [manifest.run_path]);
      assert.deepEqual(await rows(store, "task_results"), liveTasks);
      assert.deepEqual(await rows(store, "attempts"), liveAttempts);
    } finally {
      store.close();
    }
  });
});

Deno.test("createRunIndexer() writes tasks while the run is still going", async () => {
  await withTempDir(async (dir) => {
    const location: StoreLocation = { kind: "file", path: join(dir, "m.db") };
    const plan = await planIn(
      dir,
      `name: slow
tasks:
  - id: quick
    command: "true"
  - id: slow
    depends_on: [quick]
    command: sleep 1.5
`,
    );
    const indexer = createRunIndexer(location, { flushIntervalMs: 20 });
    let finished = false;
    const running = runPlan(plan, { ...quiet, store: indexer }).then(() => finished = true);
    const reader = await openStore(location);
    try {
      let seenWhileRunning = false;
      const until = Date.now() + 5000;
      while (!finished && Date.now() < until) {
        const found = await reader.read("SELECT status FROM task_results WHERE task_id = 'quick'");
        if (found.length === 1 && !finished) {
          seenWhileRunning = true;
          break;
        }
        await new Promise((r) => setTimeout(r, 25));
      }
      await running;
      assert.ok(seenWhileRunning, "task 'quick' should be in the store before the run ended");
      const [run] = await listRuns(reader);
      assert.equal(run?.status, "success");
    } finally {
      reader.close();
    }
  });
});

Deno.test("a store that cannot be opened never fails the run: one warning with the reindex command", async () => {
  await withTempDir(async (dir) => {
    const plan = await planIn(dir, "name: p\ntasks:\n  - id: a\n    command: 'true'\n");
    // a file where the store's folder should be: the store cannot be created
    writeFileSync(join(dir, "blocker"), "");
    const warnings: string[] = [];
    const indexer = createRunIndexer({ kind: "file", path: join(dir, "blocker", "m.db") }, {
      onWarning: (m) => warnings.push(m),
    });
    const manifest = await runPlan(plan, { ...quiet, store: indexer });
    assert.equal(manifest.success, true);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /blocker\/m\.db is behind: \S/);
    assert.doesNotMatch(warnings[0]!, /cannot open the run store/);
    assert.ok(warnings[0]!.includes(`maestro reindex --db `), warnings[0]!);
    assert.ok(warnings[0]!.includes(manifest.run_path), warnings[0]!);
    assert.ok(indexer.status.behind);
  });
});

Deno.test("a store locked by another writer during the run: the indexer waits and loses nothing", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "m.db");
    (await openStore({ kind: "file", path })).close();
    const { createClient } = await import("@libsql/client/sqlite3");
    const holder = createClient({ url: pathToFileURL(path).href });
    const plan = await planIn(
      dir,
      `name: many
max_parallel: 4
tasks:
${Array.from({ length: 12 }, (_, i) => `  - id: t${i}\n    command: "true"\n`).join("")}`,
    );
    try {
      const tx = await holder.transaction("write");
      const locked = performance.now();
      setTimeout(() => tx.commit(), 700);
      const warnings: string[] = [];
      const indexer = createRunIndexer({ kind: "file", path }, {
        flushIntervalMs: 20,
        onWarning: (m) => warnings.push(m),
      });
      await runPlan(plan, { ...quiet, store: indexer });
      // runPlan waited for the store (its close) until the lock was released
      assert.ok(performance.now() - locked >= 650);
      assert.deepEqual(warnings, []);
      const store = await openStore({ kind: "file", path });
      try {
        const [run] = await listRuns(store);
        assert.equal(run?.tasks.success, 12);
        assert.equal(run?.status, "success");
      } finally {
        store.close();
      }
    } finally {
      holder.close();
    }
  });
});

Deno.test("a dry run opens no store", async () => {
  await withTempDir(async (dir) => {
    const plan = await planIn(dir, "name: p\ntasks:\n  - id: a\n    command: 'true'\n");
    const path = join(dir, "store", "m.db");
    const indexer = createRunIndexer({ kind: "file", path });
    await runPlan(plan, { ...quiet, dryRun: true, store: indexer });
    assert.ok(!existsSync(join(dir, "store")));
    assert.deepEqual(indexer.status, { tasks: 0, finished: false, behind: null });
  });
});

Deno.test("closing a run takes its row from the manifest the run handed over, not the file", async () => {
  await withTempDir(async (dir) => {
    const location: StoreLocation = { kind: "file", path: join(dir, ".maestro", "maestro.db") };
    const plan = await planIn(dir, MIXED_PLAN);
    const indexer = createRunIndexer(location, { planPath: plan.source });
    let runPath = "";
    // the manifest file is gone when the store closes: only the handed-over fields are left
    const sink: RunSink = {
      subscriber: indexer.subscriber,
      result: (id, json) => indexer.result(id, json),
      finished: (manifest) => {
        runPath = manifest.run_path;
        indexer.finished(manifest);
      },
      close: async () => {
        Deno.removeSync(join(runPath, "run_manifest.json"));
        await indexer.close();
      },
    };
    const manifest = await runPlan(plan, { ...quiet, store: sink });
    assert.deepEqual(indexer.status, { tasks: 4, finished: true, behind: null });
    const store = await openStore(location);
    try {
      const [run] = await listRuns(store);
      assert.equal(run?.status, "failed");
      assert.equal(run?.plan_hash, manifest.plan_hash);
      assert.equal(run?.finished_at, manifest.finished_at);
      assert.equal(run?.tasks.total, 4);
    } finally {
      store.close();
    }
  });
});

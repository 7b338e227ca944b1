import assert from "node:assert/strict";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { runPlan } from "../run/run_plan.ts";
import { collectRunDirs, reindexRunDirs } from "./reindex.ts";
import { listRuns } from "./runs_query.ts";
import { openStore } from "./store.ts";
import { MIXED_PLAN, planIn, withTempDir } from "./_test_support.ts";

const quiet = { parentEnv: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" } };

async function count(store: Awaited<ReturnType<typeof openStore>>, table: string): Promise<number> {
  return Number((await store.read(`SELECT COUNT(*) AS n FROM ${table}`))[0]!["n"]);
}

Deno.test("reindexRunDirs() is idempotent: the same runs twice give the same rows", async () => {
  await withTempDir(async (dir) => {
    const plan = await planIn(dir, MIXED_PLAN);
    await runPlan(plan, quiet);
    await runPlan(plan, quiet);
    const { dirs, problems } = await collectRunDirs([join(dir, ".maestro-runs")]);
    assert.deepEqual(problems, []);
    assert.equal(dirs.length, 2);
    const store = await openStore({ kind: "file", path: join(dir, "m.db") });
    try {
      const first = await reindexRunDirs(store, dirs);
      assert.deepEqual([first.runs, first.tasks, first.problems], [2, 8, []]);
      const snapshot = await listRuns(store);
      const second = await reindexRunDirs(store, dirs);
      assert.deepEqual([second.runs, second.tasks], [2, 8]);
      assert.deepEqual(
        [
          await count(store, "runs"),
          await count(store, "task_results"),
          await count(store, "attempts"),
        ],
        [2, 8, 8],
      );
      const again = await listRuns(store);
      assert.deepEqual(
        again.map((r) => [r.run_id, r.tasks]),
        snapshot.map((r) => [r.run_id, r.tasks]),
      );
      assert.ok(again[0]!.started_at >= again[1]!.started_at, "newest first");
    } finally {
      store.close();
    }
  });
});

Deno.test("a run killed before its manifest is reindexed as incomplete, with its finished tasks", async () => {
  await withTempDir(async (dir) => {
    const plan = await planIn(dir, MIXED_PLAN);
    const manifest = await runPlan(plan, quiet);
    const store = await openStore({ kind: "file", path: join(dir, "m.db") });
    try {
      // finished first: a later read of the same run without its manifest must not undo that
      await reindexRunDirs(store, [manifest.run_path]);
      rmSync(join(manifest.run_path, "run_manifest.json"));
      await reindexRunDirs(store, [manifest.run_path]);
      assert.equal((await listRuns(store))[0]!.status, "failed");

      await store.write([{ sql: "DELETE FROM runs", args: [] }]);
      const report = await reindexRunDirs(store, [manifest.run_path]);
      assert.deepEqual(report.problems, []);
      const [run] = await listRuns(store);
      assert.equal(run!.status, "incomplete");
      assert.equal(run!.finished_at, null);
      assert.equal(run!.started_at, manifest.started_at);
      assert.equal(run!.tasks.total, 4);
      assert.equal(run!.tasks.failed, 1);
    } finally {
      store.close();
    }
  });
});

Deno.test("collectRunDirs() expands run roots and reports folders without runs", async () => {
  await withTempDir(async (dir) => {
    const plan = await planIn(dir, "name: p\ntasks:\n  - id: a\n    command: 'true'\n");
    const manifest = await runPlan(plan, quiet);
    mkdirSync(join(dir, "empty"));
    const result = await collectRunDirs([
      join(dir, ".maestro-runs"),
      manifest.run_path,
      join(dir, "empty"),
      join(dir, "missing"),
    ]);
    assert.deepEqual(result.dirs, [manifest.run_path]);
    assert.deepEqual(result.problems, [
      `${join(dir, "empty")}: no run directories in it`,
      `${join(dir, "missing")}: not a folder`,
    ]);
  });
});

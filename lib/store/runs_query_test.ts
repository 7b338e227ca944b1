import assert from "node:assert/strict";
import { join } from "node:path";
import { RUN_FILES } from "../run/artifacts.ts";
import type { RunRecord, RunStatus } from "./records.ts";
import { listRuns } from "./runs_query.ts";
import { refreshRunTotals, upsertRun, upsertTask } from "./statements.ts";
import { openStore } from "./store.ts";
import { withTempDir } from "./_test_support.ts";

function run(id: string, plan: string, status: RunStatus, minute: number): RunRecord {
  const started = `2026-01-01T00:${String(minute).padStart(2, "0")}:00.000000+00:00`;
  return {
    run_id: id,
    plan_name: plan,
    plan_path: null,
    plan_hash: null,
    status,
    started_at: started,
    finished_at: status === "running" ? null : started,
    duration_sec: status === "running" ? null : 0,
    tasks_total: 1,
    run_dir: `/runs/${id}`,
    resumed_from: null,
  };
}

Deno.test("listRuns() lists newest first, filters by plan and status, and limits", async () => {
  await withTempDir(async (dir) => {
    const store = await openStore({ kind: "file", path: join(dir, "m.db") });
    try {
      await store.write([
        upsertRun(run("r1", "alpha", "success", 1), "now"),
        upsertRun(run("r2", "beta", "failed", 2), "now"),
        upsertRun(run("r3", "alpha", "failed", 3), "now"),
        upsertRun(run("r4", "alpha", "running", 4), "now"),
        upsertTask({
          run_id: "r3",
          task_id: "t",
          plan_name: "alpha",
          status: "failed",
          engine: "claude",
          model: null,
          attempts: 1,
          exit_code: 1,
          duration_sec: 1,
          tokens_input: 1,
          tokens_cached: 2,
          tokens_output: 3,
          tokens_total: 6,
          cost_usd: 0.5,
          cost_source: "priced",
          started_at: null,
          finished_at: null,
          error: "boom",
          resumed: false,
        }),
        refreshRunTotals("r3"),
      ]);
      assert.deepEqual((await listRuns(store)).map((r) => r.run_id), ["r4", "r3", "r2", "r1"]);
      assert.deepEqual((await listRuns(store, { plan: "alpha" })).map((r) => r.run_id), [
        "r4",
        "r3",
        "r1",
      ]);
      assert.deepEqual((await listRuns(store, { status: "failed" })).map((r) => r.run_id), [
        "r3",
        "r2",
      ]);
      assert.deepEqual((await listRuns(store, { limit: 1 })).map((r) => r.run_id), ["r4"]);
      const r3 = (await listRuns(store, { plan: "alpha", status: "failed" }))[0]!;
      assert.deepEqual(r3.tasks, {
        total: 1,
        success: 0,
        soft_failed: 0,
        failed: 1,
        skipped: 0,
        cancelled: 0,
      });
      assert.deepEqual(r3.tokens, { input: 1, cached: 2, output: 3, total: 6 });
      assert.equal(r3.cost_usd, 0.5);
      const r4 = (await listRuns(store, { limit: 1 }))[0]!;
      assert.deepEqual([r4.finished_at, r4.duration_sec, r4.cost_usd], [null, null, null]);
    } finally {
      store.close();
    }
  });
});

Deno.test({
  name: "listRuns() shows a running row nothing holds any more (killed) as incomplete",
  // liveness is read from /proc
  ignore: Deno.build.os !== "linux",
  async fn() {
    await withTempDir(async (dir) => {
      // run directories as a run leaves them before its manifest: an event log only
      const runDir = (id: string) => {
        const path = join(dir, `${id}_p`);
        Deno.mkdirSync(path);
        Deno.writeTextFileSync(join(path, RUN_FILES.events), `{"event":"run_start"}\n`);
        return path;
      };
      const at = (id: string, status: RunStatus, minute: number, path: string): RunRecord => ({
        ...run(id, "p", status, minute),
        run_dir: path,
      });
      const killed = at("killed", "running", 1, runDir("killed"));
      const live = at("live", "running", 2, runDir("live"));
      const elsewhere = at("elsewhere", "running", 3, "/nowhere/elsewhere_p");
      const done = at("done", "success", 4, runDir("done"));
      // a task process of the live run still carries its id; the killed run has none
      const holder = new Deno.Command("sleep", {
        args: ["30"],
        env: { MAESTRO_RUN_ID: "live" },
        stdout: "null",
        stderr: "null",
      }).spawn();
      // until it has exec'd, the child shows the parent's environment
      const environ = `/proc/${holder.pid}/environ`;
      while (!Deno.readTextFileSync(environ).includes("MAESTRO_RUN_ID=live")) {
        await new Promise((r) => setTimeout(r, 5));
      }
      const store = await openStore({ kind: "file", path: join(dir, "m.db") });
      try {
        await store.write([killed, live, elsewhere, done].map((r) => upsertRun(r, "now")));
        const shown = async (filter: Parameters<typeof listRuns>[1]) =>
          (await listRuns(store, filter)).map((r) => [r.run_id, r.status]);
        assert.deepEqual(await shown({}), [
          ["done", "success"],
          ["elsewhere", "running"],
          ["live", "running"],
          ["killed", "incomplete"],
        ]);
        assert.deepEqual(await shown({ status: "running" }), [
          ["elsewhere", "running"],
          ["live", "running"],
        ]);
        assert.deepEqual(await shown({ status: "running", limit: 1 }), [["elsewhere", "running"]]);
        assert.deepEqual(await shown({ status: "incomplete" }), [["killed", "incomplete"]]);
        // the store itself is not rewritten by a read
        const stored = await store.read("SELECT status FROM runs WHERE run_id = 'killed'");
        assert.equal(stored[0]!["status"], "running");
      } finally {
        store.close();
        holder.kill("SIGKILL");
        await holder.status;
      }
    });
  },
});

/**
 * Several processes writing one store at once, through the store API: they open a new file
 * together (racing to switch it to WAL and to migrate it), then each commits many small
 * transactions as fast as it can. Nothing may be lost and no busy error may escape.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { listRuns } from "./runs_query.ts";
import { openStore } from "./store.ts";
import { withTempDir } from "./_test_support.ts";

const CONFIG = new URL("../../deno.json", import.meta.url).pathname;
const here = (file: string) => new URL(`./${file}`, import.meta.url).href;

const WRITER = `
import { openStore } from "${here("store.ts")}";
import { refreshRunTotals, upsertRun, upsertTask } from "${here("statements.ts")}";
const [path, who, count] = Deno.args;
const store = await openStore({ kind: "file", path }, { busyTimeoutMs: 5 });
for (let i = 0; i < Number(count); i++) {
  const runId = who + "_" + String(i).padStart(4, "0");
  const started = new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString();
  await store.write([
    upsertRun({ run_id: runId, plan_name: who, plan_path: null, plan_hash: null, status: "success",
      started_at: started, finished_at: started, duration_sec: 0, tasks_total: 2,
      run_dir: "/runs/" + runId, resumed_from: null }, started),
    ...["a", "b"].map((task) => upsertTask({ run_id: runId, task_id: task, plan_name: who,
      status: "success", engine: "shell", model: null, attempts: 1, exit_code: 0, duration_sec: 0,
      tokens_input: null, tokens_cached: null, tokens_output: null, tokens_total: null,
      cost_usd: null, cost_source: null, started_at: null, finished_at: null, error: null,
      resumed: false })),
    refreshRunTotals(runId),
  ]);
}
store.close();
`;

Deno.test("four processes writing one new store at once lose nothing", async () => {
  await withTempDir(async (dir) => {
    const script = join(dir, "writer.ts");
    writeFileSync(script, WRITER);
    const path = join(dir, "shared", "maestro.db");
    const writers = ["w1", "w2", "w3", "w4"].map((who) =>
      new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          "--no-prompt",
          "--frozen",
          "--config",
          CONFIG,
          script,
          path,
          who,
          "150",
        ],
        stdout: "piped",
        stderr: "piped",
      }).output()
    );
    const outputs = await Promise.all(writers);
    for (const output of outputs) {
      assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
    }
    const store = await openStore({ kind: "file", path });
    try {
      const runs = await listRuns(store, { limit: 10_000 });
      assert.equal(runs.length, 600);
      for (const who of ["w1", "w2", "w3", "w4"]) {
        const mine = runs.filter((r) => r.plan_name === who);
        assert.equal(mine.length, 150, who);
        assert.ok(mine.every((r) => r.tasks.success === 2), `${who}: totals`);
      }
      const versions = await store.read("SELECT COUNT(*) AS n FROM schema_migrations");
      assert.equal(versions[0]!["n"], store.schemaVersion);
    } finally {
      store.close();
    }
  });
});

/**
 * The least an all-hit re-run must do beyond `maestro validate`, with the cache in the libSQL
 * store as issue 6 asks: load and check the plan exactly as `validate` does, then load
 * `@libsql/client`, open the plan's store and read its cache entries in one query. No key is
 * computed, nothing restored, no run directory, event or result file written: a real re-run
 * does all of that on top. `bench/cache_bench.ts` runs it beside `validate` in the same rounds.
 *
 * With `--worker` the store is opened in a Worker while the main thread loads the plan, the
 * one way to overlap the two inside one process.
 *
 * Usage: `deno run -A bench/floor_hit_run.ts <plan.yaml> [--worker]` (the plan's store must
 * exist: run the plan once first).
 *
 * @module
 */
import { loadPlan } from "../lib/plan/load.ts";
import { dirname, join, resolve } from "../lib/path.ts";

const path = Deno.args.find((arg) => !arg.startsWith("--"));
if (!path) {
  console.error("usage: floor_hit_run.ts <plan.yaml> [--worker]");
  Deno.exit(2);
}
const dbFile = join(dirname(resolve(path)), ".maestro", "maestro.db");

if (Deno.args.includes("--worker")) {
  const worker = new Worker(new URL("./floor_store_worker.ts", import.meta.url), {
    type: "module",
  });
  const rows = new Promise<number>((resolve, reject) => {
    worker.onmessage = (event: MessageEvent<number>) => resolve(event.data);
    worker.onerror = (event) => reject(new Error(event.message));
  });
  worker.postMessage(dbFile);
  const outcome = await loadPlan(path);
  if (!outcome.plan) Deno.exit(1);
  console.log(`${outcome.plan.ir.tasks.length} tasks, ${await rows} cache entries`);
  worker.terminate();
} else {
  const outcome = await loadPlan(path);
  if (!outcome.plan) Deno.exit(1);
  const { readCacheEntries } = await import("./floor_store.ts");
  console.log(`${outcome.plan.ir.tasks.length} tasks, ${await readCacheEntries(dbFile)} entries`);
}

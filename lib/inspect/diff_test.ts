import assert from "node:assert/strict";
import { join } from "node:path";
import { pricedEngine } from "../run/_priced_engine.ts";
import { runPlan } from "../run/run_plan.ts";
import { createCacheStore } from "../store/cache_store.ts";
import type { StoreLocation } from "../store/location.ts";
import { planIn, withTempDir } from "../store/_test_support.ts";
import { diffRuns } from "./diff.ts";
import { loadRunView, type RunView } from "./run_view.ts";

// long enough that a restore (milliseconds) against a real run crosses the 1 s duration floor
const SLOW_PRICED = `name: slow
tasks:
  - { id: review, engine: claude, prompt: "costs=0.3 sleep=1.2" }
`;

/** Three runs of one plan: a real one, a cache hit of it, and a real one without the cache. */
async function threeRuns(dir: string): Promise<{ hit: RunView; fresh: RunView }> {
  const location: StoreLocation = { kind: "file", path: join(dir, ".maestro", "maestro.db") };
  const plan = await planIn(dir, SLOW_PRICED);
  const engine = pricedEngine();
  const engines = (name: string) => name === "claude" ? engine : undefined;
  const run = (noCache: boolean) =>
    runPlan(plan, {
      engines,
      noCache,
      cache: createCacheStore(location, { flushIntervalMs: 1, versionMemo: null }),
    });
  await run(false);
  const hit = loadRunView((await run(false)).run_path);
  const fresh = loadRunView((await run(true)).run_path);
  return { hit, fresh };
}

Deno.test("diffRuns() compares a cache hit at the cost and duration of the run that produced it", async () => {
  await withTempDir(async (dir) => {
    const { hit, fresh } = await threeRuns(dir);
    const restored = hit.tasks[0]!.result!;
    assert.equal(restored.from_cache, true);
    assert.equal(restored.cost_usd, 0, "a hit spends nothing");
    const original = restored.cache!;
    assert.equal(original.cost_usd, 0.3);
    assert.ok(original.duration_sec >= 1.2, `original took ${original.duration_sec}s`);

    const diff = diffRuns(hit, fresh);
    assert.deepEqual(diff.regressions, [], "the hit is not cheaper or faster work");
    const task = diff.tasks[0]!;
    assert.equal(task.a!.from_cache, true);
    assert.equal(task.b!.from_cache, false);
    assert.equal(task.a!.cost_usd, original.cost_usd);
    assert.equal(task.a!.duration_sec, original.duration_sec);
    assert.equal(task.cost_delta_usd, 0);
    assert.equal(
      task.duration_delta_sec,
      Math.round((task.b!.duration_sec - original.duration_sec) * 1000) / 1000,
    );
    assert.equal(task.notes.length, 1);
    assert.match(task.notes[0]!, /^cache hit in A: compared at .*run /);
    // the run's own total stays what it spent
    assert.equal(diff.a.cost_usd, 0);
    assert.equal(diff.b.cost_usd, 0.3);

    // the other way round: a hit in B is not an improvement either
    const back = diffRuns(fresh, hit);
    assert.equal(back.tasks[0]!.cost_delta_usd, 0);
    assert.match(back.tasks[0]!.notes[0]!, /^cache hit in B: /);
  });
});

Deno.test("diffRuns() leaves a cache hit without its original figures out of cost and duration", async () => {
  await withTempDir(async (dir) => {
    const { hit, fresh } = await threeRuns(dir);
    // results written before hits recorded what the original run took
    const bare = structuredClone(hit);
    delete bare.tasks[0]!.result!.cache;
    const diff = diffRuns(bare, fresh);
    assert.deepEqual(diff.regressions, []);
    const task = diff.tasks[0]!;
    assert.equal(task.a!.from_cache, true);
    assert.equal(task.a!.cost_usd, null, "what the task costs is unknown");
    assert.equal(task.cost_delta_usd, null);
    assert.equal(task.duration_delta_sec, null);
    assert.deepEqual(task.notes, [
      "cache hit in A without the original run's figures: cost and duration not compared",
    ]);

    // the same result read as a real run would have been a regression on both counts
    const ran = structuredClone(bare);
    delete ran.tasks[0]!.result!.from_cache;
    ran.tasks[0]!.result!.message = "";
    assert.deepEqual(diffRuns(ran, fresh).regressions.map((r) => r.kinds), [[
      "duration",
      "cost",
    ]]);
  });
});

import assert from "node:assert/strict";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempPlanDir } from "../../tests/helpers.ts";
import { loadPlan } from "../plan/load.ts";
import type { CacheBackend, CacheEntry, NewCacheEntry } from "./cache.ts";
import { explainCache } from "./cache_explain.ts";
import { builtinEngines } from "./engine_executor.ts";
import type { EventRecord } from "./events.ts";
import type { TaskResult } from "./result.ts";
import { runPlan } from "./run_plan.ts";

/** A cache backend in memory, counting what it was asked. */
class MemoryCache implements CacheBackend {
  entries = new Map<string, CacheEntry>();
  lookups = 0;
  hits: string[] = [];
  lookup(key: string, options: { withLog?: boolean } = {}) {
    this.lookups++;
    const entry = this.entries.get(key);
    return Promise.resolve(
      entry && (options.withLog === false ? { ...entry, log: null } : structuredClone(entry)),
    );
  }
  latest(planName: string, taskId: string) {
    const all = [...this.entries.values()].filter((e) =>
      e.plan_name === planName && e.task_id === taskId
    );
    return Promise.resolve(all.sort((a, b) => a.created_at.localeCompare(b.created_at)).at(-1));
  }
  lastResult() {
    return Promise.resolve(undefined);
  }
  put(entry: NewCacheEntry) {
    const { result_json, log_path, ...rest } = entry;
    this.entries.set(entry.key, {
      ...rest,
      result: JSON.parse(result_json) as TaskResult,
      log: log_path ? readFileSync(log_path) : null,
    });
  }
  hit(key: string) {
    this.hits.push(key);
  }
  engineVersion() {
    return Promise.resolve("1.0.0");
  }
  close() {
    return Promise.resolve();
  }
}

const PLAN = `name: chain
fail_fast: false
tasks:
  - id: a
    command: cat in.txt
    inputs: [in.txt]
  - id: b
    depends_on: [a]
    command: echo "b saw {{ a.stdout_tail }}"
    cache: true
  - id: c
    depends_on: [b]
    command: echo c
    cache: true
  - id: plain
    command: echo plain
  - id: broken
    command: "echo no; exit 3"
    cache: true
`;

async function run(dir: string, cache: MemoryCache, noCache = false) {
  const { plan } = await loadPlan(join(dir, "plan.yaml"));
  const events: EventRecord["event"][] = [];
  const manifest = await runPlan(plan!, {
    cache,
    noCache,
    onEvent: ({ event }) => events.push(event),
    parentEnv: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
  });
  const results = manifest.task_results;
  const fromCache = Object.values(results).filter((r) => r.from_cache).map((r) => r.task_id);
  return { manifest, results, fromCache, events };
}

function withPlan(fn: (dir: string, cache: MemoryCache) => Promise<void>) {
  return async () => {
    const dir = tempPlanDir({ "plan.yaml": PLAN, "in.txt": "one" });
    try {
      await fn(dir, new MemoryCache());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

Deno.test(
  "runPlan() with a cache: a second run restores successful cached tasks without running them",
  withPlan(async (dir, cache) => {
    const first = await run(dir, cache);
    assert.deepEqual(first.fromCache, []);
    assert.deepEqual([...cache.entries.values()].map((e) => e.task_id).sort(), ["a", "b", "c"]);
    const second = await run(dir, cache);
    assert.deepEqual(second.fromCache, ["a", "b", "c"]);
    const a = second.results["a"]!;
    assert.equal(a.status, "success");
    assert.match(a.message, /^Cache hit \[[0-9a-f]{12}\]$/);
    assert.equal(a.message.slice(11, 23), a.task_hash!.slice(0, 12));
    assert.equal(a.stdout_tail, "one");
    assert.equal(a.cache?.run_id, first.manifest.run_id);
    // the log is restored byte for byte, in this run's directory
    assert.equal(
      readFileSync(a.log_path!, "utf8"),
      readFileSync(first.results["a"]!.log_path!, "utf8"),
    );
    assert.ok(a.log_path!.startsWith(second.manifest.run_path));
    const complete = second.events.find((e) => e.event === "task_complete" && e.task_id === "a");
    assert.equal((complete as { from_cache?: boolean }).from_cache, true);
    // not cached: a shell task without inputs, and a failure
    assert.equal(second.results["plain"]!.from_cache, undefined);
    assert.equal(second.results["broken"]!.from_cache, false);
    assert.equal(second.results["broken"]!.status, "failed");
    assert.equal(cache.hits.length, 3);
    assert.ok(
      readFileSync(join(second.manifest.run_path, "run_summary.md"), "utf8")
        .includes("| a | success (cache hit) |"),
    );
  }),
);

Deno.test(
  "runPlan() with a cache: a changed input re-runs its task and, through the keys, its dependents",
  withPlan(async (dir, cache) => {
    await run(dir, cache);
    writeFileSync(join(dir, "in.txt"), "two");
    const changed = await run(dir, cache);
    assert.deepEqual(changed.fromCache, []);
    assert.equal(changed.results["b"]!.stdout_tail, "b saw two");
    const again = await run(dir, cache);
    assert.deepEqual(again.fromCache, ["a", "b", "c"]);
  }),
);

Deno.test(
  "runPlan() with noCache runs every task and refreshes the entries",
  withPlan(async (dir, cache) => {
    const first = await run(dir, cache);
    const lookups = cache.lookups;
    const fresh = await run(dir, cache, true);
    assert.deepEqual(fresh.fromCache, []);
    assert.equal(cache.lookups, lookups);
    const runs = new Set([...cache.entries.values()].map((e) => e.run_id));
    assert.deepEqual([...runs], [fresh.manifest.run_id]);
    assert.notEqual(fresh.manifest.run_id, first.manifest.run_id);
  }),
);

Deno.test(
  "runPlan() remembers a failure for negative_cache_ttl_sec when a task sets it",
  withPlan(async (dir, cache) => {
    writeFileSync(
      join(dir, "plan.yaml"),
      PLAN.replace(
        'command: "echo no; exit 3"',
        'command: "echo no; exit 3"\n    negative_cache_ttl_sec: 60',
      ),
    );
    await run(dir, cache);
    const second = await run(dir, cache);
    const broken = second.results["broken"]!;
    assert.equal(broken.from_cache, true);
    assert.equal(broken.status, "failed");
    assert.equal(broken.cache?.kind, "negative");
    assert.match(broken.message, /^Cache hit \[[0-9a-f]{12}\] \(remembered failure\): Task failed/);
    assert.equal(second.manifest.success, false);
  }),
);

Deno.test(
  "explainCache() names the changed input file and the upstream that will re-run",
  withPlan(async (dir, cache) => {
    await run(dir, cache);
    const { plan } = await loadPlan(join(dir, "plan.yaml"));
    const options = {
      backend: cache,
      engines: builtinEngines,
      parentEnv: {},
      baseDir: dir,
    };
    const fresh = await explainCache(plan!.ir, options);
    assert.deepEqual(fresh.map((t) => [t.id, t.state]), [
      ["a", "hit"],
      ["b", "hit"],
      ["c", "hit"],
      ["plain", "off"],
      ["broken", "miss"],
    ]);
    writeFileSync(join(dir, "in.txt"), "two");
    const stale = await explainCache(plan!.ir, options);
    const a = stale.find((t) => t.id === "a")!;
    assert.equal(a.state, "miss");
    assert.equal(a.reason, "input in.txt changed");
    const b = stale.find((t) => t.id === "b")!;
    assert.equal(b.state, "miss");
    assert.deepEqual(b.upstream_reruns, ["a"]);
    assert.equal(b.reason, "upstream a will re-run");
    assert.deepEqual(stale.find((t) => t.id === "c")!.upstream_reruns, ["b"]);
    assert.equal(stale.find((t) => t.id === "broken")!.reason, "no cached result yet");
  }),
);

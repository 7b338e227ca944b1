import assert from "node:assert/strict";
import { join } from "node:path";
import type { PlanIR, TaskIR } from "../plan/ir.ts";
import { mulberry32 } from "../../bench/gen_plan.ts";
import { buildManifest, sha256Hex } from "./artifacts.ts";
import {
  ManifestSpool,
  objectKeyOrder,
  streamedEntry,
  writeStreamedJsonAtomic,
  writeStreamedManifest,
} from "./manifest_writer.ts";
import { makeResult, type TaskResult } from "./result.ts";
import { TaskFacts } from "./task_facts.ts";
import { renderSummary } from "./summary.ts";
import { fixtureTask } from "./_task_fixture.ts";

function task(id: string, deps: string[] = []): TaskIR {
  // a description with a quote and a newline exercises the manifest's string escaping
  return fixtureTask(id, deps, { description: `task "${id}"\nsecond line` });
}

const STATUSES = ["success", "failed", "soft_failed", "skipped", "cancelled"] as const;

/** Writes a manifest both ways (kept in memory / streamed) from the same results. */
function bothWays(ids: string[], seed: number) {
  const dir = Deno.makeTempDirSync();
  const tasks = ids.map((id, i) => task(id, i > 0 ? [ids[i - 1]!] : []));
  const random = mulberry32(seed);
  const results = new Map<string, TaskResult>();
  for (const id of ids) {
    const status = STATUSES[Math.floor(random() * STATUSES.length)]!;
    results.set(
      id,
      makeResult({
        task_id: id,
        status,
        message: `done "${id}" ✓\n\ttab`,
        duration_sec: Math.round(random() * 1e5) / 1e3,
        stdout_tail: random() < 0.5 ? "" : "line 1\nline \u2028 2\u0000",
        exit_code: status === "failed" ? 1 : 0,
      }),
    );
  }
  const input = {
    plan: { name: "p", tasks } as unknown as PlanIR,
    planHash: "h",
    runId: "r",
    runPath: dir,
    startedAt: "2026-01-01T00:00:00.000000+00:00",
    finishedAt: "2026-01-01T00:00:09.000000+00:00",
    wallSec: 9,
    resumedFrom: null,
    interrupted: false,
    executed: true,
  };
  const expected = JSON.stringify(buildManifest({ ...input, results }), null, 2) + "\n";
  // results arrive in a shuffled (completion) order
  const order = ids.map((_, i) => i).sort(() => random() - 0.5);
  const facts = new TaskFacts(ids);
  const spool = new ManifestSpool(join(dir, ".spool"), ids.length);
  for (const i of order) {
    const result = results.get(ids[i]!)!;
    spool.add(i, streamedEntry(ids[i]!, JSON.stringify(result, null, 2)));
    facts.record(i, result);
  }
  const path = join(dir, "run_manifest.json");
  const written = writeStreamedManifest(path, input, facts, spool);
  spool.close();
  const bytes = Deno.readFileSync(path);
  return { dir, expected, bytes, written, results, tasks, facts, input };
}

Deno.test("a streamed manifest is byte for byte the manifest built in memory", () => {
  // numeric ids come first in a JS object: the streamed order must follow that rule too
  const ids = ["build", "10", "a/b.c", "2", "x-y", "0", "007", "4294967295", "z"];
  for (const seed of [1, 2, 3]) {
    const { dir, expected, bytes, written, results } = bothWays(ids, seed);
    assert.equal(new TextDecoder().decode(bytes), expected);
    assert.equal(written.hash, sha256Hex(bytes));
    const parsed = JSON.parse(expected);
    assert.deepEqual(Object.keys(written.manifest), Object.keys(parsed));
    assert.deepEqual(written.manifest.task_results, Object.fromEntries(results));
    assert.deepEqual(Object.keys(written.manifest.task_graph), Object.keys(parsed.task_graph));
    // nothing left but the manifest: no temp file, no spool
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["run_manifest.json"]);
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("a streamed manifest of many tasks and of none matches too", () => {
  for (const n of [0, 1, 3000]) {
    const ids = Array.from({ length: n }, (_, i) => `t${i}`);
    const { dir, expected, bytes } = bothWays(ids, n + 7);
    assert.equal(new TextDecoder().decode(bytes), expected, `${n} tasks`);
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("the summary from compact facts equals the summary from full results", () => {
  const ids = ["b", "1", "a", "0"];
  const { dir, results, tasks, facts, written } = bothWays(ids, 11);
  const full = { ...written.manifest, task_results: Object.fromEntries(results) };
  assert.equal(renderSummary(written.manifest, tasks, facts), renderSummary(full, tasks));
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("objectKeyOrder puts array-index keys first, numerically, like a JS object", () => {
  const keys = ["b", "10", "2", "01", "a", "4294967294", "4294967295", "0"];
  const object: Record<string, number> = {};
  for (const key of keys) object[key] = 1;
  assert.deepEqual(objectKeyOrder(keys).map((i) => keys[i]), Object.keys(object));
});

Deno.test("writeStreamedJsonAtomic leaves no file when an entry fails", () => {
  const dir = Deno.makeTempDirSync();
  const path = join(dir, "out.json");
  function* boom(): Generator<string> {
    yield streamedEntry("a", "1");
    throw new Error("boom");
  }
  assert.throws(
    () => writeStreamedJsonAtomic(path, { x: {} }, [{ key: "x", entries: boom() }]),
    /boom/,
  );
  assert.deepEqual([...Deno.readDirSync(dir)], []);
  const ok = writeStreamedJsonAtomic(path, { x: {}, y: 1 }, [{
    key: "x",
    entries: [streamedEntry("a", "1")],
  }]);
  assert.equal(Deno.readTextFileSync(path), JSON.stringify({ x: { a: 1 }, y: 1 }, null, 2) + "\n");
  assert.equal(ok.size, Deno.statSync(path).size);
  Deno.removeSync(dir, { recursive: true });
});

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { NewCacheEntry } from "../run/cache.ts";
import { makeResult } from "../run/result.ts";
import { createCacheStore, LOG_TAIL_BYTES, MAX_LOG_BYTES } from "./cache_store.ts";
import type { StoreLocation } from "./location.ts";
import { openStore } from "./store.ts";
import { withTempDir } from "./_test_support.ts";

function entry(dir: string, n: number, extra: Partial<NewCacheEntry> = {}): NewCacheEntry {
  const log = join(dir, `t${n}.log`);
  writeFileSync(log, `task=t\nline ${n}\n`);
  const result = makeResult({
    task_id: "t",
    status: "success",
    message: "ok",
    stdout_tail: `${n}`,
  });
  return {
    key: String(n).padStart(64, "0"),
    plan_name: "p",
    task_id: "t",
    kind: "success",
    outcome: "f".repeat(64),
    components: { v: 1, task: { id: '"t"' }, env: {}, upstream: {}, inputs: null },
    run_id: `run${n}`,
    created_at: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
    expires_at: null,
    result_json: JSON.stringify(result),
    log_path: log,
    ...extra,
  };
}

function fileStore(dir: string): StoreLocation {
  return { kind: "file", path: join(dir, ".maestro", "maestro.db") };
}

Deno.test("CacheStore keeps an entry's result and components, its log as a hard link beside the store", async () => {
  await withTempDir(async (dir) => {
    const cache = createCacheStore(fileStore(dir), { flushIntervalMs: 1 });
    assert.equal(await cache.lookup("0".repeat(64)), undefined);
    cache.put(entry(dir, 1));
    await cache.close();
    const again = createCacheStore(fileStore(dir));
    await again.warm("p");
    const found = await again.lookup(entry(dir, 1).key);
    assert.ok(found);
    assert.equal(found.result?.stdout_tail, "1");
    assert.deepEqual(found.components.task, { id: '"t"' });
    assert.equal(found.log, null);
    const sha = createHash("sha256").update("task=t\nline 1\n").digest("hex");
    assert.equal(found.log_file, join(dir, ".maestro", "cache", sha.slice(0, 2), sha));
    assert.equal(found.log_size, 14);
    // the same file as the run's log: nothing was copied
    assert.equal(statSync(found.log_file!).ino, statSync(join(dir, "t1.log")).ino);
    assert.equal((await again.latest("p", "t"))?.run_id, "run1");
    await again.close();
  });
});

Deno.test("CacheStore keeps logs in the rows (gzip) when it has no log folder, as with a server", async () => {
  await withTempDir(async (dir) => {
    const cache = createCacheStore(fileStore(dir), { flushIntervalMs: 1, logFolder: null });
    assert.equal(await cache.lookup("0".repeat(64)), undefined);
    cache.put(entry(dir, 1));
    await cache.close();
    const again = createCacheStore(fileStore(dir), { logFolder: null });
    const found = await again.lookup(entry(dir, 1).key);
    assert.ok(found);
    assert.equal(found.result?.stdout_tail, "1");
    assert.equal(new TextDecoder().decode(found.log!), "task=t\nline 1\n");
    assert.deepEqual(found.components.task, { id: '"t"' });
    const light = await again.lookup(entry(dir, 1).key, { withLog: false });
    assert.equal(light?.log, null);
    assert.equal((await again.latest("p", "t"))?.run_id, "run1");
    again.hit(entry(dir, 1).key);
    await again.close();
    const store = await openStore(fileStore(dir));
    const rows = await store.read("SELECT hits, log_size FROM cache_entries");
    store.close();
    assert.deepEqual(rows.map((r) => [r["hits"], r["log_size"]]), [[1, 14]]);
  });
});

Deno.test("CacheStore keeps the newest entries of a task, drops expired failures and their logs", async () => {
  await withTempDir(async (dir) => {
    const cache = createCacheStore(fileStore(dir), { keepPerTask: 3 });
    for (let n = 1; n <= 5; n++) cache.put(entry(dir, n));
    cache.put(entry(dir, 6, {
      task_id: "u",
      kind: "negative",
      expires_at: "2000-01-01T00:00:00.000Z",
    }));
    await cache.close();
    const store = await openStore(fileStore(dir));
    const rows = await store.read("SELECT run_id FROM cache_entries ORDER BY run_id");
    store.close();
    assert.deepEqual(rows.map((r) => r["run_id"]), ["run3", "run4", "run5"]);
    const logs = readdirSync(join(dir, ".maestro", "cache"), { recursive: true })
      .filter((p) => String(p).length > 3 && !String(p).startsWith("keys"));
    assert.equal(logs.length, 3);
    // the kept keys are marked, the dropped ones not
    const markers = readdirSync(join(dir, ".maestro", "cache", "keys", "00")).sort();
    assert.deepEqual(markers, [3, 4, 5].map((n) => String(n).padStart(64, "0")));
  });
});

Deno.test("a store from before key markers still hits, and is marked when a run opens it", async () => {
  await withTempDir(async (dir) => {
    const stored = createCacheStore(fileStore(dir));
    stored.put(entry(dir, 1));
    await stored.close();
    // what an earlier maestro left: entries, no key markers
    const keys = join(dir, ".maestro", "cache", "keys");
    Deno.removeSync(keys, { recursive: true });
    const key = String(1).padStart(64, "0");
    const cache = createCacheStore(fileStore(dir));
    assert.equal((await cache.lookup(key))?.run_id, "run1");
    await cache.close();
    assert.ok(existsSync(join(keys, "00", key)) && existsSync(join(keys, ".complete")));
  });
});

Deno.test("CacheStore answers a miss on an unmarked key without opening the store", async () => {
  await withTempDir(async (dir) => {
    const stored = createCacheStore(fileStore(dir));
    stored.put(entry(dir, 1));
    await stored.close();
    // a store file that is not a database: any query would fail and disable the cache
    const db = join(dir, ".maestro", "maestro.db");
    const real = Deno.readFileSync(db);
    writeFileSync(db, "not a database");
    let warned = "";
    const cache = createCacheStore(fileStore(dir), { onWarning: (m) => warned = m });
    await cache.warm("p");
    assert.equal(await cache.lookup("9".repeat(64)), undefined);
    assert.equal(warned, "", "an unmarked key must not touch the store");
    Deno.writeFileSync(db, real);
    await cache.close();
    const again = createCacheStore(fileStore(dir));
    assert.equal((await again.lookup(String(1).padStart(64, "0")))?.run_id, "run1");
    await again.close();
  });
});

Deno.test("CacheStore keeps the tail of a very large log in a row", async () => {
  await withTempDir(async (dir) => {
    const cache = createCacheStore(fileStore(dir), { logFolder: null });
    const big = entry(dir, 1);
    writeFileSync(big.log_path!, "x".repeat(MAX_LOG_BYTES) + "THE END\n");
    cache.put(big);
    await cache.close();
    const log = new TextDecoder().decode(
      (await createCacheStore(fileStore(dir), { logFolder: null }).lookup(big.key))!.log!,
    );
    assert.match(log, /^\[maestro\] log cut by the cache: its first \d+ bytes were not kept\n/);
    assert.ok(log.endsWith("THE END\n"));
    assert.ok(log.length < LOG_TAIL_BYTES + 200);
  });
});

Deno.test("CacheStore.engineVersion() probes a binary once and remembers it on this machine", async () => {
  await withTempDir(async (dir) => {
    const versionMemo = join(dir, "memo", "engine-versions.json");
    const binary = join(dir, "fake-cli");
    writeFileSync(binary, "#!/bin/sh\necho 1.2.3\n", { mode: 0o755 });
    let probes = 0;
    const probeVersion = () => {
      probes++;
      return Promise.resolve("1.2.3");
    };
    const first = createCacheStore(fileStore(dir), { probeVersion, versionMemo });
    assert.equal(await first.engineVersion(binary), "1.2.3");
    await first.close();
    const second = createCacheStore(fileStore(dir), { probeVersion, versionMemo });
    assert.equal(await second.engineVersion(binary), "1.2.3");
    await second.close();
    assert.equal(probes, 1);
    // a new binary (another size) is probed again
    writeFileSync(binary, "#!/bin/sh\necho 1.2.4 upgraded\n", { mode: 0o755 });
    const third = createCacheStore(fileStore(dir), { probeVersion, versionMemo });
    await third.engineVersion(binary);
    await third.close();
    assert.equal(probes, 2);
    // a reinstall with the same size and mtime (as npm writes files) is a new binary too
    // a later change time (Deno reports ctime in whole seconds)
    await new Promise((done) => setTimeout(done, 1100));
    const { mtime } = Deno.statSync(binary);
    const body = Deno.readFileSync(binary);
    Deno.removeSync(binary);
    Deno.writeFileSync(binary, body, { mode: 0o755 });
    Deno.utimeSync(binary, mtime!, mtime!);
    const fourth = createCacheStore(fileStore(dir), { probeVersion, versionMemo });
    await fourth.engineVersion(binary);
    await fourth.close();
    assert.equal(probes, 3);
    assert.ok(JSON.parse(Deno.readTextFileSync(versionMemo))[Deno.realPathSync(binary)]);
  });
});

Deno.test("CacheStore read-only on a plan that never ran: an empty cache, no file created", async () => {
  await withTempDir(async (dir) => {
    const warnings: string[] = [];
    const cache = createCacheStore(fileStore(dir), {
      readOnly: true,
      onWarning: (m) => warnings.push(m),
    });
    assert.equal(await cache.lookup("0".repeat(64)), undefined);
    assert.equal(await cache.latest("p", "t"), undefined);
    cache.put(entry(dir, 1));
    await cache.close();
    assert.equal(existsSync(join(dir, ".maestro")), false);
    assert.deepEqual(warnings, []);
  });
});

Deno.test("CacheStore that cannot open its store warns once and behaves as an empty cache", async () => {
  await withTempDir(async (dir) => {
    writeFileSync(join(dir, "not-a-db"), "this is not SQLite ".repeat(100));
    const warnings: string[] = [];
    const cache = createCacheStore({ kind: "file", path: join(dir, "not-a-db") }, {
      onWarning: (m) => warnings.push(m),
    });
    assert.equal(await cache.lookup("0".repeat(64)), undefined);
    assert.equal(await cache.lookup("1".repeat(64)), undefined);
    cache.put(entry(dir, 1));
    await cache.close();
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /^cache disabled: run store .*not-a-db: /);
  });
});

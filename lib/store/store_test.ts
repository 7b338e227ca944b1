import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { MaestroError } from "../errors.ts";
import { migrate, type Migration } from "./migrations.ts";
import { isBusyError } from "./retry.ts";
import { openStore } from "./store.ts";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "maestro-store-"));
  try {
    await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const insertRun = (id: string) => ({
  sql: `INSERT INTO runs (run_id, plan_name, status, started_at, run_dir, indexed_at)
        VALUES (?, 'p', 'running', '2026-01-01T00:00:00.000000+00:00', '/r', 'now')`,
  args: [id],
});

Deno.test("openStore() creates the file in WAL mode, its folder and a .gitignore", async () => {
  await withDir(async (dir) => {
    const path = join(dir, ".maestro", "maestro.db");
    const store = await openStore({ kind: "file", path });
    try {
      assert.ok(existsSync(path));
      assert.equal(readFileSync(join(dir, ".maestro", ".gitignore"), "utf8"), "*\n");
      const mode = await store.read("PRAGMA journal_mode");
      assert.equal(mode[0]!["journal_mode"], "wal");
      await store.write([insertRun("r1")]);
      assert.equal((await store.read("SELECT run_id FROM runs"))[0]!["run_id"], "r1");
    } finally {
      store.close();
    }
  });
});

Deno.test("openStore() with create: false does not create a missing file (E122)", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "nope", "m.db");
    await assert.rejects(
      () => openStore({ kind: "file", path }, { create: false }),
      (error: unknown) =>
        error instanceof MaestroError && error.code === "E122" &&
        /no such file/.test(error.message),
    );
    assert.ok(!existsSync(join(dir, "nope")));
  });
});

Deno.test("openStore() reports a file that is not a database as E122", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "junk.db");
    Deno.writeTextFileSync(
      path,
      "this is not a database, just text that is long enough ".repeat(20),
    );
    await assert.rejects(
      () => openStore({ kind: "file", path }),
      (error: unknown) => error instanceof MaestroError && error.code === "E122",
    );
  });
});

Deno.test("openStore() refuses a store written by a newer maestro (E123)", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "m.db");
    const newer: Migration[] = [
      { version: 1, name: "a", statements: ["CREATE TABLE a (x)"] },
      { version: 2, name: "b", statements: ["CREATE TABLE b (x)"] },
    ];
    (await openStore({ kind: "file", path }, { migrations: newer })).close();
    await assert.rejects(
      () => openStore({ kind: "file", path }, { migrations: newer.slice(0, 1) }),
      (error: unknown) => error instanceof MaestroError && error.code === "E123",
    );
  });
});

Deno.test("Store.write() waits for another process's write lock instead of failing", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "m.db");
    const store = await openStore({ kind: "file", path }, { busyTimeoutMs: 0 });
    const { createClient } = await import("@libsql/client/sqlite3");
    const holder = createClient({ url: pathToFileURL(path).href });
    try {
      const tx = await holder.transaction("write"); // BEGIN IMMEDIATE: holds the write lock
      await tx.execute(insertRun("held"));
      let retries = 0;
      const writing = store.write([insertRun("waiting")], {
        deadlineMs: 10_000,
        onRetry: () => retries++,
      });
      await new Promise((resolve) => setTimeout(resolve, 150));
      await tx.commit();
      await writing;
      assert.ok(retries > 0, "the write should have met a busy database");
      const ids = (await store.read("SELECT run_id FROM runs ORDER BY run_id")).map((r) =>
        r["run_id"]
      );
      assert.deepEqual(ids, ["held", "waiting"]);
    } finally {
      holder.close();
      store.close();
    }
  });
});

Deno.test("Store.write() gives up with a busy error after its deadline", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "m.db");
    const store = await openStore({ kind: "file", path }, { busyTimeoutMs: 0 });
    const { createClient } = await import("@libsql/client/sqlite3");
    const holder = createClient({ url: pathToFileURL(path).href });
    try {
      const tx = await holder.transaction("write");
      await assert.rejects(
        () => store.write([insertRun("x")], { deadlineMs: 100 }),
        (error: unknown) => isBusyError(error),
      );
      await tx.rollback();
    } finally {
      holder.close();
      store.close();
    }
  });
});

Deno.test("openStore() on a libSQL URL whose port is closed fails clearly (E122)", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const url = `http://127.0.0.1:${port}`;
  await assert.rejects(
    () => openStore({ kind: "remote", url, authToken: "secret-token" }),
    (error: unknown) => {
      assert.ok(error instanceof MaestroError);
      assert.equal(error.code, "E122");
      assert.match(
        error.message,
        new RegExp(`cannot open the run store http://127\\.0\\.0\\.1:${port}/`),
      );
      assert.doesNotMatch(error.message, /secret-token/);
      assert.match(error.hint ?? "", /libSQL server/);
      return true;
    },
  );
});

Deno.test("migrate() on a fresh file is what openStore() applies", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "m.db");
    const store = await openStore({ kind: "file", path });
    store.close();
    const { createClient } = await import("@libsql/client/sqlite3");
    const client = createClient({ url: pathToFileURL(path).href, intMode: "number" });
    try {
      assert.equal(await migrate(client), store.schemaVersion);
    } finally {
      client.close();
    }
  });
});

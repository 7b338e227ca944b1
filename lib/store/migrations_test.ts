import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Client } from "@libsql/client";
import { MaestroError } from "../errors.ts";
import {
  migrate,
  type Migration,
  MIGRATIONS,
  SCHEMA_VERSION,
  schemaVersion,
} from "./migrations.ts";

/** Calls `fn` with a function opening a client on a file of a temp folder (a new file per
 * call unless a name is given), and closes everything afterwards. */
async function withClients(
  fn: (open: (name?: string) => Promise<Client>) => Promise<void>,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "maestro-migrate-"));
  const clients: Client[] = [];
  let n = 0;
  try {
    await fn(async (name) => {
      const { createClient } = await import("@libsql/client/sqlite3");
      const client = createClient({
        url: pathToFileURL(join(dir, name ?? `db${n++}.db`)).href,
        intMode: "number",
      });
      clients.push(client);
      return client;
    });
  } finally {
    for (const client of clients) client.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Tables, indexes and their SQL, whitespace-normalised: two equal schemas compare equal. */
async function schemaOf(client: Client): Promise<string[]> {
  const result = await client.execute(
    "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name",
  );
  return result.rows.map((r) =>
    `${r["type"]} ${r["name"]}: ${String(r["sql"]).replace(/\s+/g, " ")}`
  );
}

async function rowCounts(client: Client): Promise<Record<string, number>> {
  const tables = await client.execute(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
  );
  const counts: Record<string, number> = {};
  for (const row of tables.rows) {
    const name = String(row["name"]);
    counts[name] = Number(
      (await client.execute(`SELECT COUNT(*) AS n FROM "${name}"`)).rows[0]!["n"],
    );
  }
  return counts;
}

Deno.test("migrate() brings an empty database to SCHEMA_VERSION with the store's tables", async () => {
  await withClients(async (open) => {
    const client = await open();
    assert.equal(await schemaVersion(client), 0);
    assert.equal(await migrate(client), SCHEMA_VERSION);
    assert.equal(await schemaVersion(client), SCHEMA_VERSION);
    const tables = (await schemaOf(client)).filter((s) => s.startsWith("table "));
    for (
      const name of [
        "attempts",
        "cache_entries",
        "engine_versions",
        "runs",
        "schema_migrations",
        "task_results",
      ]
    ) {
      assert.ok(tables.some((t) => t.startsWith(`table ${name}:`)), `missing table ${name}`);
    }
    // a second open applies nothing
    assert.equal(await migrate(client), SCHEMA_VERSION);
    const versions = await client.execute("SELECT version FROM schema_migrations ORDER BY version");
    assert.deepEqual(versions.rows.map((r) => r["version"]), MIGRATIONS.map((m) => m.version));
  });
});

// Walks MIGRATIONS: a new migration is tested from every older schema without a new test.
for (let from = 0; from < SCHEMA_VERSION; from++) {
  Deno.test(`migrate() upgrades a version ${from} store to the fresh schema, keeping its rows`, async () => {
    await withClients(async (open) => {
      const fresh = await open();
      await migrate(fresh);
      const old = await open();
      assert.equal(await migrate(old, { target: from }), from);
      for (const migration of MIGRATIONS.slice(0, from)) {
        for (const sql of migration.sample ?? []) await old.execute(sql);
      }
      const before = await rowCounts(old);
      assert.equal(await migrate(old), SCHEMA_VERSION);
      assert.deepEqual(await schemaOf(old), await schemaOf(fresh));
      const after = await rowCounts(old);
      for (const [table, count] of Object.entries(before)) {
        if (table === "schema_migrations") continue;
        assert.equal(after[table], count, `rows of ${table} lost by the upgrade`);
      }
    });
  });
}

const STEPS: Migration[] = [
  { version: 1, name: "t", statements: ["CREATE TABLE t (a INTEGER)"] },
  { version: 2, name: "t.b", statements: ["ALTER TABLE t ADD COLUMN b TEXT"] },
  { version: 3, name: "fill b", statements: ["UPDATE t SET b = 'x' || a"] },
];

Deno.test("migrate() applies only the pending steps of a list, in order", async () => {
  await withClients(async (open) => {
    const client = await open();
    await migrate(client, { migrations: STEPS, target: 1 });
    await client.execute("INSERT INTO t (a) VALUES (1), (2)");
    assert.equal(await migrate(client, { migrations: STEPS }), 3);
    const rows = await client.execute("SELECT a, b FROM t ORDER BY a");
    assert.deepEqual(rows.rows.map((r) => [r["a"], r["b"]]), [[1, "x1"], [2, "x2"]]);
  });
});

Deno.test("migrate() rolls back a failing step entirely", async () => {
  await withClients(async (open) => {
    const client = await open();
    const broken: Migration[] = [
      STEPS[0]!,
      { version: 2, name: "bad", statements: ["ALTER TABLE t ADD COLUMN c", "SELECT * FROM nope"] },
    ];
    await assert.rejects(() => migrate(client, { migrations: broken }), /nope/);
    assert.equal(await schemaVersion(client), 0);
    assert.equal((await schemaOf(client)).length, 0);
  });
});

Deno.test("migrate() refuses a store whose schema is newer than it knows (E123)", async () => {
  await withClients(async (open) => {
    const client = await open();
    await migrate(client, { migrations: STEPS });
    await assert.rejects(
      () => migrate(client, { migrations: STEPS.slice(0, 2) }),
      (error: unknown) => error instanceof MaestroError && error.code === "E123",
    );
  });
});

Deno.test("migrate() that loses the race to another migrator reads the version again", async () => {
  await withClients(async (open) => {
    const mine = await open("race.db");
    // a second connection to the same file migrates just before our transaction
    const other = await open("race.db");
    let raced = false;
    const racing = new Proxy(mine, {
      get(target, key, receiver) {
        if (key === "batch") {
          return async (...args: Parameters<Client["batch"]>) => {
            if (!raced) {
              raced = true;
              await migrate(other, { migrations: STEPS });
            }
            return await target.batch(...args);
          };
        }
        const value = Reflect.get(target, key, receiver);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    assert.equal(await migrate(racing, { migrations: STEPS }), 3);
    assert.ok(raced);
    const versions = await mine.execute("SELECT COUNT(*) AS n FROM schema_migrations");
    assert.equal(versions.rows[0]!["n"], 3);
  });
});

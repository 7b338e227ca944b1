/**
 * The store's schema, as numbered migrations applied on open.
 *
 * Rules for adding one: append to {@linkcode MIGRATIONS} with the next version; never edit or
 * reorder a released migration; give it `sample` rows (valid right after it) so the test that
 * upgrades from every earlier version proves existing data survives. That test walks the list,
 * so a new migration is tested from every older schema without writing a new test.
 *
 * Applying is optimistic and atomic: the pending migrations and their `schema_migrations` rows
 * go in one write transaction whose first statements insert those rows. If another process
 * migrated first, the primary key rejects the insert, the transaction rolls back, and the
 * version is read again. So two `maestro run`s opening a new store at once are safe, locally
 * and on a server (no interactive transaction is needed).
 *
 * @module
 */
import type { Client, InStatement } from "@libsql/client";
import { EXIT, MaestroError } from "../errors.ts";
import { retryBusy, type RetryOptions } from "./retry.ts";

/** One schema step. */
export interface Migration {
  /** 1, 2, 3 … in order, without gaps. */
  version: number;
  /** What it does, in a few words (stored in `schema_migrations`). */
  name: string;
  /** DDL and data statements, run in order inside the transaction. */
  statements: readonly string[];
  /** Test data valid right after this migration (used by the upgrade test only). */
  sample?: readonly string[];
}

/** Every migration, oldest first. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "runs, task results and attempts",
    statements: [
      `CREATE TABLE runs (
        run_id TEXT PRIMARY KEY NOT NULL,
        plan_name TEXT NOT NULL,
        plan_path TEXT,
        plan_hash TEXT,
        status TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        duration_sec REAL,
        tasks_total INTEGER NOT NULL DEFAULT 0,
        tasks_success INTEGER NOT NULL DEFAULT 0,
        tasks_soft_failed INTEGER NOT NULL DEFAULT 0,
        tasks_failed INTEGER NOT NULL DEFAULT 0,
        tasks_skipped INTEGER NOT NULL DEFAULT 0,
        tasks_cancelled INTEGER NOT NULL DEFAULT 0,
        tokens_input INTEGER,
        tokens_cached INTEGER,
        tokens_output INTEGER,
        tokens_total INTEGER,
        cost_usd REAL,
        run_dir TEXT NOT NULL,
        resumed_from TEXT,
        indexed_at TEXT NOT NULL
      )`,
      "CREATE INDEX runs_by_start ON runs (started_at DESC)",
      "CREATE INDEX runs_by_plan ON runs (plan_name, started_at DESC)",
      `CREATE TABLE task_results (
        run_id TEXT NOT NULL,
        task_id TEXT NOT NULL,
        plan_name TEXT NOT NULL,
        status TEXT NOT NULL,
        engine TEXT,
        model TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        exit_code INTEGER,
        duration_sec REAL NOT NULL DEFAULT 0,
        tokens_input INTEGER,
        tokens_cached INTEGER,
        tokens_output INTEGER,
        tokens_total INTEGER,
        cost_usd REAL,
        cost_source TEXT,
        started_at TEXT,
        finished_at TEXT,
        error TEXT,
        resumed INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (run_id, task_id)
      )`,
      // a task's history across runs: what cost estimates and `maestro diff` will read
      "CREATE INDEX task_results_history ON task_results (plan_name, task_id, started_at)",
      `CREATE TABLE attempts (
        run_id TEXT NOT NULL,
        task_id TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        status TEXT NOT NULL,
        category TEXT,
        exit_code INTEGER,
        duration_sec REAL,
        message TEXT,
        PRIMARY KEY (run_id, task_id, attempt)
      )`,
    ],
    sample: [
      `INSERT INTO runs (run_id, plan_name, status, started_at, run_dir, indexed_at)
        VALUES ('20260101_000000_000000_abcdef', 'sample', 'success',
        '2026-01-01T00:00:00.000000+00:00', '/runs/x', '2026-01-01T00:00:01Z')`,
      `INSERT INTO task_results (run_id, task_id, plan_name, status, attempts)
        VALUES ('20260101_000000_000000_abcdef', 'a', 'sample', 'success', 1)`,
      `INSERT INTO attempts (run_id, task_id, attempt, status)
        VALUES ('20260101_000000_000000_abcdef', 'a', 1, 'success')`,
    ],
  },
  {
    version: 2,
    name: "budget ledger",
    statements: [
      // one row per cost as it happened (an engine attempt, a side call): lib/store/ledger.ts
      `CREATE TABLE budget_ledger (
        run_id TEXT NOT NULL,
        entry INTEGER NOT NULL,
        at TEXT NOT NULL,
        plan_name TEXT NOT NULL,
        task_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        purpose TEXT,
        engine TEXT,
        model TEXT,
        cost_usd REAL NOT NULL,
        PRIMARY KEY (run_id, entry)
      )`,
      "CREATE INDEX budget_ledger_by_time ON budget_ledger (at)",
      "CREATE INDEX budget_ledger_by_plan ON budget_ledger (plan_name, at)",
    ],
    sample: [
      `INSERT INTO budget_ledger (run_id, entry, at, plan_name, task_id, kind, engine, model,
        cost_usd) VALUES ('20260101_000000_000000_abcdef', 1, '2026-01-01T00:00:01Z', 'sample',
        'a', 'attempt', 'claude', 'sonnet', 0.25)`,
    ],
  },
  {
    version: 3,
    name: "cache entries and engine versions",
    statements: [
      // one row per cached result, addressed by its key: lib/store/cache_store.ts
      `CREATE TABLE cache_entries (
        key TEXT PRIMARY KEY NOT NULL,
        plan_name TEXT NOT NULL,
        task_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        outcome TEXT NOT NULL,
        components TEXT NOT NULL,
        result TEXT NOT NULL,
        log BLOB,
        log_sha256 TEXT,
        log_size INTEGER,
        run_id TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT,
        hits INTEGER NOT NULL DEFAULT 0,
        last_hit_at TEXT
      )`,
      // a task's entries, newest first: what explain compares with, what pruning keeps
      "CREATE INDEX cache_entries_by_task ON cache_entries (plan_name, task_id, created_at)",
      // logs kept as files (content-addressed, beside a local store): which entries use one
      "CREATE INDEX cache_entries_by_log ON cache_entries (log_sha256)",
      // `--version` of engine CLIs, per binary: probing a node CLI takes a second
      `CREATE TABLE engine_versions (
        path TEXT PRIMARY KEY NOT NULL,
        size INTEGER NOT NULL,
        mtime_ms REAL NOT NULL,
        version TEXT,
        probed_at TEXT NOT NULL
      )`,
    ],
    sample: [
      `INSERT INTO cache_entries (key, plan_name, task_id, kind, status, outcome, components,
        result, run_id, created_at) VALUES ('${"0".repeat(64)}', 'sample', 'a', 'success',
        'success', '${"1".repeat(64)}', '{"v":1}', '{"task_id":"a"}',
        '20260101_000000_000000_abcdef', '2026-01-01T00:00:01Z')`,
      `INSERT INTO engine_versions (path, size, mtime_ms, version, probed_at)
        VALUES ('/usr/bin/claude', 10, 1700000000000, '2.0.1 (Claude Code)', '2026-01-01T00:00:01Z')`,
    ],
  },
];

/** The schema version this maestro writes. */
export const SCHEMA_VERSION: number = MIGRATIONS.length;

const CREATE_VERSION_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY NOT NULL,
  name TEXT NOT NULL,
  applied_at TEXT NOT NULL
)`;

/**
 * The schema version of a database: 0 for an empty one (no `schema_migrations` table).
 *
 * @param client an open libSQL client
 */
export async function schemaVersion(client: Client): Promise<number> {
  const table = await client.execute(
    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'",
  );
  if (table.rows.length === 0) return 0;
  const result = await client.execute(
    "SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations",
  );
  return Number(result.rows[0]?.["v"] ?? 0);
}

/** Options of {@linkcode migrate}. */
export interface MigrateOptions {
  /** The migration list. @default {MIGRATIONS} */
  migrations?: readonly Migration[];
  /** Stop at this version (tests build older schemas with it). @default {all} */
  target?: number;
  /** Retry policy while another process holds the write lock. */
  retry?: RetryOptions;
}

/**
 * Brings the database up to date: applies every pending migration in one write transaction.
 *
 * @param client an open libSQL client
 * @param options migration list, target version, retry policy
 * @returns the schema version afterwards
 * @throws {MaestroError} E123 when the database is newer than this maestro
 */
export async function migrate(client: Client, options: MigrateOptions = {}): Promise<number> {
  const migrations = options.migrations ?? MIGRATIONS;
  const target = options.target ?? migrations.length;
  for (const [index, migration] of migrations.entries()) {
    if (migration.version !== index + 1) {
      throw new Error(`Migration list is broken: entry ${index} has version ${migration.version}`);
    }
  }
  for (let round = 0;; round++) {
    const current = await retryBusy(() => schemaVersion(client), options.retry);
    if (current > migrations.length) {
      throw new MaestroError(
        "E123",
        `the run store has schema version ${current}; this maestro knows up to ${migrations.length}`,
        { exitCode: EXIT.failed, hint: "upgrade maestro (a newer version wrote this store)" },
      );
    }
    if (current >= target) return current;
    const pending = migrations.slice(current, target);
    const appliedAt = new Date().toISOString();
    const statements: InStatement[] = [
      CREATE_VERSION_TABLE,
      // first, so that a concurrent migrator's commit makes this transaction fail at once
      ...pending.map((m) => ({
        sql: "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
        args: [m.version, m.name, appliedAt],
      })),
      ...pending.flatMap((m) => m.statements),
    ];
    try {
      await retryBusy(() => client.batch(statements, "write"), options.retry);
    } catch (error) {
      // lost the race to another process: read the version again (a few times at most)
      const now = await retryBusy(() => schemaVersion(client), options.retry);
      if (now > current && round < 5) continue;
      throw error;
    }
  }
}

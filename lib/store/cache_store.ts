/**
 * The task result cache in the run store (the {@linkcode CacheBackend} of lib/run/cache.ts).
 *
 * - `cache_entries`: one row per key, holding the result JSON, the key's components (for
 *   `maestro explain`), the outcome hash dependents' keys include, and where the log is.
 * - Logs: beside a local store, in a content-addressed folder (`.maestro/cache/<sha[0:2]>/<sha>`,
 *   {@linkcode logFolder}) as hard links of the run's own log file: storing copies no byte, and
 *   a hit links the file into the new run directory (a copy only across file systems). With a
 *   libSQL server the log goes in the row (gzip), so every machine of a team can restore it.
 * - Key markers: a local store also marks each key it holds with an empty file
 *   (`.maestro/cache/keys/<key[0:2]>/<key>`), so a miss — every first run of a changed prompt —
 *   is known from one `stat`, without loading libSQL (≈ 70 ms) before the task can start. A
 *   store written before markers existed is marked by the first run that opens it (until then
 *   lookups go to the store); an entry whose marker is missing after that (a crash between the
 *   commit and the marker) is a miss and is stored again; a marker without an entry costs one
 *   query.
 * - Engine CLI versions (part of every engine task's key) are remembered on this machine, not
 *   in the store (version_memo.ts): a lookup-free run (`--no-cache`) then needs no store before
 *   its first task starts. The schema's `engine_versions` table (version 3) is no longer used.
 *
 * Writes are queued and flushed in one transaction every 200 ms (as the run indexer does), so
 * a run of thousands of tasks writes a few transactions, not one per task. When the store
 * cannot be used (cannot be opened, schema too new, disk full), the cache says so once and
 * then behaves as an empty cache: a run never fails because of it.
 *
 * @module
 */
import { pathExists } from "../fs.ts";
import { basename, dirname, join } from "../path.ts";
import type { InStatement, Row } from "@libsql/client";
import type { CacheBackend, CacheEntry, NewCacheEntry, RecordedResult } from "../run/cache.ts";
import type { CacheComponents } from "../run/cache_key.ts";
import { sha256Hex, taskFiles } from "../run/artifacts.ts";
import { linkOrCopyAsync } from "../run/cache_files.ts";
import type { TaskResult } from "../run/result.ts";
import { displayLocation, type StoreLocation } from "./location.ts";
import { firstLine } from "./records.ts";
import { isBusyError } from "./retry.ts";
import { openStore, type Store } from "./store.ts";
import {
  binaryFingerprint,
  rememberedVersion,
  rememberVersion,
  versionMemoPath,
} from "./version_memo.ts";

/**
 * gzip for logs kept in the row (libSQL servers only), loaded when such a store is opened:
 * `node:zlib` pulls in Deno's Node layer, which a run on a local file must not wait for.
 */
let zlib: typeof import("node:zlib") | undefined;

/** Options of {@linkcode createCacheStore}. */
export interface CacheStoreOptions {
  /** Told once when the cache cannot be used (the run goes on without it). */
  onWarning?: (message: string) => void;
  /** Runs `<path> --version` (lib/cli/doctor_checks.ts `probeVersion`); absent: versions unknown. */
  probeVersion?: (path: string) => Promise<string | null>;
  /** Read commands: never create the file, write nothing (versions are probed, not saved). */
  readOnly?: boolean;
  /** Milliseconds between flushes. @default {200} */
  flushIntervalMs?: number;
  /** Entries kept per plan and task (newest first). @default {10} */
  keepPerTask?: number;
  /**
   * Where log files go; null keeps logs in the rows, as for a server (tests). @default
   * {logFolder(location)}
   */
  logFolder?: string | null;
  /**
   * The file remembering engine CLI versions; null: probe every time (tests). @default
   * {versionMemoPath(Deno.env)}
   */
  versionMemo?: string | null;
}

/** Logs above this size are kept cut to their last {@linkcode LOG_TAIL_BYTES}. */
export const MAX_LOG_BYTES = 8 * 1024 * 1024;
/** What is kept of a log above {@linkcode MAX_LOG_BYTES}. */
export const LOG_TAIL_BYTES = 1024 * 1024;

const ENTRY_COLUMNS = "key, plan_name, task_id, kind, outcome, components, run_id, created_at, " +
  "expires_at, log_sha256, log_size";

/**
 * The folder of a local store's log files: `cache/` beside the default `maestro.db`, else
 * `<file>.cache/`; undefined for a libSQL server (logs go in the rows).
 *
 * @param location the store
 */
export function logFolder(location: StoreLocation): string | undefined {
  if (location.kind !== "file") return undefined;
  const name = basename(location.path);
  return name === "maestro.db" ? join(dirname(location.path), "cache") : `${location.path}.cache`;
}

function bytesOf(value: unknown): Uint8Array | null {
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  return null;
}

function entryOf(row: Row, withBody: boolean, logs: string | undefined): CacheEntry {
  const entry: CacheEntry = {
    key: String(row["key"]),
    plan_name: String(row["plan_name"]),
    task_id: String(row["task_id"]),
    kind: row["kind"] === "negative" ? "negative" : "success",
    outcome: String(row["outcome"]),
    components: JSON.parse(String(row["components"])) as CacheComponents,
    run_id: String(row["run_id"]),
    created_at: String(row["created_at"]),
    expires_at: row["expires_at"] === null ? null : String(row["expires_at"]),
  };
  if (withBody) {
    entry.result = JSON.parse(String(row["result"])) as TaskResult;
    const log = bytesOf(row["log"]);
    entry.log = log ? new Uint8Array(zlib!.gunzipSync(log)) : null;
    const sha = row["log_sha256"];
    if (!log && logs && typeof sha === "string") {
      entry.log_file = join(logs, sha.slice(0, 2), sha);
      entry.log_size = Number(row["log_size"]);
    }
  }
  return entry;
}

/**
 * Whether a stored log file is as it was stored: there, of its size, and hashing to its name.
 * A hit hard-links it into the run directory, so an edit of any run's `<task>.log` edits it.
 */
function logIntact(file: string, size: number): boolean {
  try {
    const bytes = Deno.readFileSync(file);
    return bytes.length === size && sha256Hex(bytes) === basename(file);
  } catch {
    return false;
  }
}

/** A log as kept: whole, or its tail with a first line saying what was dropped. */
function keptLog(bytes: Uint8Array): Uint8Array {
  if (bytes.length <= MAX_LOG_BYTES) return bytes;
  const dropped = bytes.length - LOG_TAIL_BYTES;
  const head = new TextEncoder().encode(
    `[maestro] log cut by the cache: its first ${dropped} bytes were not kept\n`,
  );
  const out = new Uint8Array(head.length + LOG_TAIL_BYTES);
  out.set(head);
  out.set(bytes.subarray(dropped), head.length);
  return out;
}

/** The cache in a run store (see the module doc). */
export class CacheStore implements CacheBackend {
  readonly #location: StoreLocation;
  readonly #options: CacheStoreOptions;
  readonly #logs: string | undefined;
  #store: Promise<Store | undefined> | undefined;
  #broken = false;
  #queue: NewCacheEntry[] = [];
  #hits: string[] = [];
  #plans = new Set<string>();
  /** Set once a missing key marker is known to mean a miss (#markersComplete). */
  #markersTrusted = false;
  /** The plan whose entries the first store lookup reads ahead (warm()). */
  #warmPlan: string | undefined;
  #warming: Promise<void> | undefined;
  /** Rows read ahead by warm(), by key; each is used once. */
  #ahead = new Map<string, Row>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Folders made by this process (see #folder). */
  #folders = new Set<string>();
  #chain: Promise<void> = Promise.resolve();
  #closed = false;

  /**
   * A cache over a run store; nothing is opened until it is first used.
   *
   * @param location the run store
   * @param options warnings, version probe, read-only, timings
   */
  constructor(location: StoreLocation, options: CacheStoreOptions = {}) {
    this.#location = location;
    this.#options = options;
    this.#logs = options.logFolder === null ? undefined : options.logFolder ?? logFolder(location);
  }

  /** The marker file of a key (local stores only). */
  #marker(key: string): string | undefined {
    return this.#logs === undefined ? undefined : join(this.#logs, "keys", key.slice(0, 2), key);
  }

  /**
   * Whether a missing marker means a miss: the keys folder says every entry is marked
   * (`keys/.complete`, written once the store is opened for writing and its older entries are
   * marked), or there is no store yet. A store written by a maestro before key markers has its
   * entries looked up in the store until a run marks them, so an upgrade re-runs nothing.
   */
  #markersComplete(): boolean {
    if (this.#markersTrusted) return true;
    const logs = this.#logs;
    if (logs === undefined) return false;
    const complete = pathExists(join(logs, "keys", ".complete")) ||
      (this.#location.kind === "file" && !pathExists(this.#location.path));
    this.#markersTrusted = complete;
    return complete;
  }

  /** Marks the store's existing entries once (a store from before key markers). */
  async #markExisting(store: Store): Promise<void> {
    const logs = this.#logs;
    if (logs === undefined || this.#options.readOnly === true) return;
    const complete = join(logs, "keys", ".complete");
    if (pathExists(complete)) return;
    try {
      const rows = await store.read("SELECT key FROM cache_entries");
      await this.#mark(rows.map((row) => String(row["key"])), true);
      Deno.mkdirSync(dirname(complete), { recursive: true });
      Deno.writeFileSync(complete, new Uint8Array());
    } catch { /* tried again by the next run that opens the store */ }
  }

  /**
   * Creates or removes key markers (best effort: a missing marker only costs a re-run). The
   * file system calls run off the JS thread: creating a file can take 0.5 ms on a busy disk,
   * and a flush marks every task that finished in the last interval, in the middle of a run.
   */
  async #mark(keys: readonly string[], present: boolean): Promise<void> {
    await Promise.all(keys.map(async (key) => {
      const marker = this.#marker(key);
      if (marker === undefined) return;
      try {
        if (present) {
          await this.#folder(dirname(marker));
          await Deno.writeFile(marker, new Uint8Array());
        } else await Deno.remove(marker);
      } catch { /* see above */ }
    }));
  }

  /** Creates a folder once per process (the marker and log folders are 256 prefixes each). */
  async #folder(path: string): Promise<void> {
    if (this.#folders.has(path)) return;
    await Deno.mkdir(path, { recursive: true });
    this.#folders.add(path);
  }

  #open(): Promise<Store | undefined> {
    this.#store ??= (async () => {
      const readOnly = this.#options.readOnly === true;
      // a read command on a plan that never ran: an empty cache, not an error
      if (readOnly && this.#location.kind === "file" && !pathExists(this.#location.path)) {
        return undefined;
      }
      try {
        // logs go in the rows (gzip) where there is no log folder: libSQL servers, tests
        if (this.#logs === undefined) zlib ??= await import("node:zlib");
        const store = await openStore(this.#location, {
          // short native waits during a run: they block the event loop (see retry.ts)
          busyTimeoutMs: readOnly ? 1_000 : 20,
          create: !readOnly,
        });
        await this.#markExisting(store);
        return store;
      } catch (error) {
        this.#giveUp(error);
        return undefined;
      }
    })();
    return this.#store;
  }

  #giveUp(error: unknown): void {
    if (this.#broken) return;
    this.#broken = true;
    this.#queue = [];
    this.#hits = [];
    const where = displayLocation(this.#location);
    const message = error instanceof Error ? error.message : String(error);
    const reason = firstLine(message.replace(`cannot open the run store ${where}: `, ""));
    this.#options.onWarning?.(
      `cache disabled: run store ${where}: ${reason} (tasks run without the cache)`,
    );
  }

  async #read(sql: string, args: (string | number | null)[]): Promise<Row[]> {
    if (this.#broken) return [];
    const store = await this.#open();
    if (!store) return [];
    try {
      return await store.read(sql, args);
    } catch (error) {
      this.#giveUp(error);
      return [];
    }
  }

  /**
   * Reads each task's newest entry of the plan in one query (a run's hits then cost no query
   * each), when the first lookup of a marked key opens the store: a run whose keys are all
   * unmarked never loads libSQL for the cache. Large logs kept in rows (a server) are not read
   * ahead.
   */
  warm(planName: string): Promise<void> {
    // read ahead with the first lookup that needs the store (a marked key), not before
    this.#warmPlan = planName;
    return Promise.resolve();
  }

  #warmUp(): Promise<void> {
    const plan = this.#warmPlan;
    if (plan === undefined) return this.#warming ?? Promise.resolve();
    this.#warmPlan = undefined;
    this.#warming = this.#readAhead(plan);
    return this.#warming;
  }

  async #readAhead(planName: string): Promise<void> {
    const rows = await this.#read(
      `SELECT ${ENTRY_COLUMNS}, result,
          CASE WHEN length(log) <= 65536 THEN log ELSE NULL END AS log,
          length(log) > 65536 AS big
        FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY task_id ORDER BY created_at DESC) AS n
          FROM cache_entries WHERE plan_name = ?) WHERE n = 1`,
      [planName],
    );
    for (const row of rows) if (!row["big"]) this.#ahead.set(String(row["key"]), row);
  }

  /** The entry under `key`, with its result and (unless `withLog` is false) its log. */
  async lookup(
    key: string,
    options: { withLog?: boolean } = {},
  ): Promise<CacheEntry | undefined> {
    const marker = this.#marker(key);
    if (marker !== undefined && !pathExists(marker) && this.#markersComplete()) return undefined;
    await this.#warmUp();
    const log = options.withLog === false ? "NULL AS log" : "log";
    const ahead = this.#ahead.get(key);
    if (ahead) this.#ahead.delete(key);
    const rows = ahead ? [ahead] : await this.#read(
      `SELECT ${ENTRY_COLUMNS}, result, ${log} FROM cache_entries WHERE key = ?`,
      [key],
    );
    if (rows.length === 0) return undefined;
    try {
      const entry = entryOf(rows[0]!, true, this.#logs);
      // removed by another run's pruning, or edited through a run's link: not restorable
      if (entry.log_file && !logIntact(entry.log_file, entry.log_size ?? -1)) return undefined;
      return entry;
    } catch {
      // an entry that does not parse is as good as none: the task runs and replaces it
      return undefined;
    }
  }

  /** The newest entry of a task (components only). */
  async latest(planName: string, taskId: string): Promise<CacheEntry | undefined> {
    const rows = await this.#read(
      `SELECT ${ENTRY_COLUMNS} FROM cache_entries WHERE plan_name = ? AND task_id = ?
        ORDER BY created_at DESC LIMIT 1`,
      [planName, taskId],
    );
    try {
      return rows[0] ? entryOf(rows[0], false, undefined) : undefined;
    } catch {
      return undefined;
    }
  }

  /** The task's last finished result in the run history, read from its run directory. */
  async lastResult(planName: string, taskId: string): Promise<RecordedResult | undefined> {
    const rows = await this.#read(
      `SELECT t.run_id AS run_id, r.run_dir AS run_dir FROM task_results t
        JOIN runs r ON r.run_id = t.run_id
        WHERE t.plan_name = ? AND t.task_id = ? AND t.status IN ('success', 'soft_failed')
        ORDER BY t.run_id DESC LIMIT 1`,
      [planName, taskId],
    );
    const row = rows[0];
    if (!row) return undefined;
    try {
      const path = taskFiles(String(row["run_dir"]), taskId).result;
      const result = JSON.parse(await Deno.readTextFile(path)) as TaskResult;
      return { result, run_id: String(row["run_id"]) };
    } catch {
      return undefined;
    }
  }

  /** Queues an entry. */
  put(entry: NewCacheEntry): void {
    if (this.#broken || this.#closed || this.#options.readOnly) return;
    this.#queue.push(entry);
    this.#plans.add(entry.plan_name);
    this.#schedule();
  }

  /** Counts a hit (written with the next flush). */
  hit(key: string): void {
    if (this.#broken || this.#closed || this.#options.readOnly) return;
    this.#hits.push(key);
    this.#schedule();
  }

  /**
   * `--version` of the CLI at `path`: remembered on this machine (version_memo.ts) while the
   * binary is unchanged, else probed. No store query: keying a task must not wait for libSQL.
   */
  async engineVersion(path: string): Promise<string | null> {
    const memo = this.#options.versionMemo === undefined
      ? versionMemoPath(Deno.env.toObject())
      : this.#options.versionMemo;
    const binary = binaryFingerprint(path);
    if (binary && memo) {
      const known = rememberedVersion(memo, binary);
      if (known !== undefined) return known;
    }
    const version = await (this.#options.probeVersion?.(path) ?? Promise.resolve(null))
      .catch(() => null);
    if (binary && memo) rememberVersion(memo, binary, version);
    return version;
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      // a flush that throws disables the cache (one warning); it never fails the run
      this.#chain = this.#chain.then(() => this.#flush(false)).catch((error) =>
        this.#giveUp(error)
      );
    }, this.#options.flushIntervalMs ?? 200);
  }

  async #entryStatement(entry: NewCacheEntry): Promise<InStatement> {
    let log: Uint8Array | null = null;
    let sha: string | null = null;
    let size: number | null = null;
    if (entry.log_path) {
      try {
        const bytes = await Deno.readFile(entry.log_path);
        if (this.#logs) {
          // a local store keeps the run's own file (hard link), whole
          sha = sha256Hex(bytes);
          size = bytes.length;
          const dir = join(this.#logs, sha.slice(0, 2));
          await this.#folder(dir);
          await linkOrCopyAsync(entry.log_path, join(dir, sha));
        } else {
          log = keptLog(bytes);
          sha = sha256Hex(log);
          size = log.length;
        }
      } catch { /* no log to keep: a hit then writes none */ }
    }
    return {
      sql: `INSERT INTO cache_entries (key, plan_name, task_id, kind, status, outcome,
          components, result, log, log_sha256, log_size, run_id, created_at, expires_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (key) DO UPDATE SET plan_name = excluded.plan_name,
          task_id = excluded.task_id, kind = excluded.kind, status = excluded.status,
          outcome = excluded.outcome, components = excluded.components,
          result = excluded.result, log = excluded.log, log_sha256 = excluded.log_sha256,
          log_size = excluded.log_size, run_id = excluded.run_id,
          created_at = excluded.created_at, expires_at = excluded.expires_at`,
      args: [
        entry.key,
        entry.plan_name,
        entry.task_id,
        entry.kind,
        (JSON.parse(entry.result_json) as TaskResult).status,
        entry.outcome,
        JSON.stringify(entry.components),
        entry.result_json,
        log ? zlib!.gzipSync(log) : null,
        sha,
        size,
        entry.run_id,
        entry.created_at,
        entry.expires_at,
      ],
    };
  }

  async #flush(final: boolean): Promise<void> {
    const entries = this.#queue;
    const hits = this.#hits;
    this.#queue = [];
    this.#hits = [];
    if (entries.length === 0 && hits.length === 0 && !final) return;
    if (this.#broken) return;
    // opened before the statements are built: opening picks where logs go (files or rows)
    const store = await this.#open();
    if (!store) return;
    const now = new Date().toISOString();
    try {
      const sql: InStatement[] = [];
      sql.push(...await Promise.all(entries.map((entry) => this.#entryStatement(entry))));
      for (let i = 0; i < hits.length; i += 500) {
        const keys = hits.slice(i, i + 500);
        sql.push({
          sql: `UPDATE cache_entries SET hits = hits + 1, last_hit_at = ?
          WHERE key IN (${keys.map(() => "?").join(", ")})`,
          args: [now, ...keys],
        });
      }
      await store.write(sql, { deadlineMs: final ? 30_000 : 2_000 });
      await this.#mark(entries.map((e) => e.key), true);
      if (final && this.#plans.size > 0) {
        // after the new entries are in: what each task keeps counts them
        const doomed = await this.#doomed(now);
        if (doomed.length > 0) {
          await store.write([{
            sql: `DELETE FROM cache_entries WHERE key IN (${doomed.map(() => "?").join(", ")})`,
            args: doomed.map((d) => d.key),
          }]);
          await this.#mark(doomed.map((d) => d.key), false);
          await this.#removeUnusedLogs(doomed);
        }
      }
    } catch (error) {
      if (!final && isBusyError(error)) {
        // still busy: keep the work for the next flush
        this.#queue.unshift(...entries);
        this.#hits.unshift(...hits);
        this.#schedule();
        return;
      }
      this.#giveUp(error);
    }
  }

  /**
   * Entries to drop at the end of a run that stored some: each task's entries beyond
   * `keepPerTask` (newest kept), and remembered failures that expired.
   */
  async #doomed(now: string): Promise<{ key: string; log: string | null }[]> {
    const keep = this.#options.keepPerTask ?? 10;
    const doomed: { key: string; log: string | null }[] = [];
    for (const plan of this.#plans) {
      const rows = await this.#read(
        `SELECT key, log_sha256 FROM (SELECT key, log_sha256, expires_at, ROW_NUMBER() OVER (
            PARTITION BY task_id ORDER BY created_at DESC) AS n
            FROM cache_entries WHERE plan_name = ?)
          WHERE n > ? OR (expires_at IS NOT NULL AND expires_at < ?)`,
        [plan, keep, now],
      );
      for (const row of rows) {
        const log = row["log_sha256"];
        doomed.push({ key: String(row["key"]), log: typeof log === "string" ? log : null });
      }
    }
    return doomed;
  }

  /** Deletes the log files of dropped entries that no other entry uses. */
  async #removeUnusedLogs(doomed: readonly { log: string | null }[]): Promise<void> {
    if (!this.#logs) return;
    for (const sha of new Set(doomed.map((d) => d.log).filter((l) => l !== null))) {
      const used = await this.#read("SELECT 1 FROM cache_entries WHERE log_sha256 = ? LIMIT 1", [
        sha,
      ]);
      if (used.length > 0) continue;
      try {
        Deno.removeSync(join(this.#logs, sha.slice(0, 2), sha));
      } catch { /* already gone */ }
    }
  }

  /** Writes what is queued, prunes old entries, closes the store. Never rejects. */
  async close(): Promise<void> {
    if (this.#closed) return await this.#chain;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const pending = this.#queue.length + this.#hits.length > 0 ||
      this.#plans.size > 0;
    if (pending && !this.#options.readOnly) {
      this.#chain = this.#chain.then(() => this.#flush(true)).catch((error) => this.#giveUp(error));
    }
    this.#closed = true;
    await this.#chain;
    const store = await this.#store?.catch(() => undefined);
    store?.close();
  }
}

/**
 * The cache backend of a run store: pass it as `runPlan(plan, { cache })`. Nothing is opened
 * until the first lookup.
 *
 * @param location the store (lib/store/resolve.ts: `storeForRun`)
 * @param options warnings, version probe, read-only
 */
export function createCacheStore(
  location: StoreLocation,
  options: CacheStoreOptions = {},
): CacheStore {
  return new CacheStore(location, options);
}

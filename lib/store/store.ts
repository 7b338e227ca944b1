/**
 * Opening the run store: load the right libSQL client (lazily: the local one loads a native
 * addon, which costs tens of milliseconds, so nothing imports it until a store is opened),
 * set up a local file (WAL, a short busy timeout), and apply pending migrations.
 *
 * - A file uses `@libsql/client/sqlite3` (embedded libSQL). WAL lets readers (`maestro runs`)
 *   work while a run writes, and `synchronous=NORMAL` skips an fsync per commit: after a power
 *   loss the index may miss its last writes, which `maestro reindex` restores from the run
 *   directory (the source of truth).
 * - `http://`, `https://` and `libsql://` use `@libsql/client/http`, which has no native code
 *   (it needs only network access).
 *
 * @module
 */
import type { Client, InStatement, Row } from "@libsql/client";
import { pathExists } from "../fs.ts";
import { basename, dirname, join, toFileUrl } from "../path.ts";
import { EXIT, MaestroError } from "../errors.ts";
import { displayLocation, STORE_DIR, type StoreLocation } from "./location.ts";
import { migrate, type Migration } from "./migrations.ts";
import { firstLine } from "./records.ts";
import { retryBusy, type RetryOptions } from "./retry.ts";

/** Options of {@linkcode openStore}. */
export interface OpenStoreOptions {
  /**
   * SQLite's own busy wait, per statement, in milliseconds (files only). Kept short because
   * it blocks the event loop; longer waits are {@linkcode retryBusy}'s. @default {50}
   */
  busyTimeoutMs?: number;
  /** Retry policy while another process holds the write lock. */
  retry?: RetryOptions;
  /** Create the file (and its folder) when missing. @default {true} */
  create?: boolean;
  /** Migration list (tests). @default {MIGRATIONS} */
  migrations?: readonly Migration[];
  /** Migrate up to this version only (tests). */
  targetVersion?: number;
}

/** An open run store: atomic writes and reads, retried while the database is busy. */
export class Store {
  /** Where it is. */
  readonly location: StoreLocation;
  /** Its schema version after opening. */
  readonly schemaVersion: number;
  readonly #client: Client;
  readonly #retry: RetryOptions | undefined;

  /**
   * Wraps an open client (use {@linkcode openStore}).
   *
   * @param location where the store is
   * @param client the libSQL client
   * @param schemaVersion the schema version
   * @param retry retry policy for busy errors
   */
  constructor(
    location: StoreLocation,
    client: Client,
    schemaVersion: number,
    retry?: RetryOptions,
  ) {
    this.location = location;
    this.#client = client;
    this.schemaVersion = schemaVersion;
    this.#retry = retry;
  }

  /**
   * Runs statements as one write transaction (`BEGIN IMMEDIATE` locally): all or nothing,
   * retried as a whole while another writer holds the lock.
   *
   * @param statements SQL with positional or named arguments
   * @param retry overrides the store's retry policy for this call
   */
  async write(statements: readonly InStatement[], retry?: RetryOptions): Promise<void> {
    if (statements.length === 0) return;
    await retryBusy(
      () => this.#client.batch([...statements], "write"),
      { ...this.#retry, ...retry, onBusy: this.#retry?.onBusy },
    );
  }

  /**
   * Runs one query and returns its rows (numbers as JavaScript numbers).
   *
   * @param sql the query
   * @param args positional arguments
   */
  async read(sql: string, args: readonly (string | number | null)[] = []): Promise<Row[]> {
    const result = await retryBusy(
      () => this.#client.execute({ sql, args: [...args] }),
      this.#retry,
    );
    return result.rows;
  }

  /** Closes the connection. Safe to call twice. */
  close(): void {
    if (!this.#client.closed) this.#client.close();
  }
}

function openError(location: StoreLocation, error: unknown): MaestroError {
  if (error instanceof MaestroError) return error;
  const where = displayLocation(location);
  const cause = describe(error);
  const remote = location.kind === "remote";
  return new MaestroError("E122", `cannot open the run store ${where}: ${firstLine(cause)}`, {
    exitCode: EXIT.failed,
    hint: remote
      ? "check that the libSQL server is up and the URL is right (auth token: MAESTRO_DB_AUTH_TOKEN)"
      : "check that the folder is writable and the file is a libSQL/SQLite database",
  });
}

/**
 * An error's message followed by its causes' (fetch says only "fetch failed"; the reason,
 * e.g. "Connection refused", is in its cause).
 */
function describe(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error, depth = 0; e !== undefined && depth < 5; depth++) {
    const message = e instanceof Error ? e.message : String(e);
    if (message && !parts.some((p) => p.includes(message))) parts.push(message);
    e = e instanceof Error ? e.cause : undefined;
  }
  return parts.join(": ");
}

/** Creates the store's folder; a new `.maestro/` gets a `.gitignore` so it is not committed. */
function prepareFolder(path: string): void {
  const folder = dirname(path);
  if (pathExists(folder)) return;
  Deno.mkdirSync(folder, { recursive: true });
  if (basename(folder) === STORE_DIR) Deno.writeTextFileSync(join(folder, ".gitignore"), "*\n");
}

/** Per-connection settings of a local file (WAL itself is stored in the file). */
async function applyPragmas(client: Client, busyTimeoutMs: number): Promise<void> {
  // first, so the statements below wait briefly instead of failing on a busy database
  await client.execute(`PRAGMA busy_timeout = ${Math.max(0, busyTimeoutMs)}`);
  await client.execute("PRAGMA synchronous = NORMAL");
}

/** A connection and the retry policy that goes with it. */
interface Connection {
  client: Client;
  retry: RetryOptions;
}

async function connect(location: StoreLocation, options: OpenStoreOptions): Promise<Connection> {
  const retry = options.retry ?? {};
  if (location.kind === "remote") {
    const { createClient } = await import("@libsql/client/http");
    const client = createClient({
      url: location.url,
      authToken: location.authToken,
      intMode: "number",
    });
    return { client, retry };
  }
  if (options.create === false && !pathExists(location.path)) {
    throw new Error(`no such file: ${location.path}`);
  }
  prepareFolder(location.path);
  const { createClient } = await import("@libsql/client/sqlite3");
  const busyTimeoutMs = options.busyTimeoutMs ?? 50;
  // Opening reads the file, which another process may hold exclusively for a moment (while it
  // switches a new file to WAL): each try is a fresh connection.
  const client = await retryBusy(async () => {
    const client = createClient({ url: toFileUrl(location.path).href, intMode: "number" });
    try {
      await applyPragmas(client, busyTimeoutMs);
      // switching to WAL needs a moment's exclusive lock; once set it stays with the file
      await client.execute("PRAGMA journal_mode = WAL");
      return client;
    } catch (error) {
      client.close();
      throw error;
    }
  }, retry);
  // The native driver leaves a statement that hit SQLITE_BUSY active (SQLite keeps it ready
  // to be stepped again), and a later COMMIT on that connection then fails with "SQL
  // statements in progress". A fresh connection after each busy error avoids that.
  return {
    client,
    retry: {
      ...retry,
      onBusy: async () => {
        await retry.onBusy?.();
        client.reconnect();
        await applyPragmas(client, busyTimeoutMs);
      },
    },
  };
}

/**
 * Opens (and creates, for a file) the store and brings its schema up to date.
 *
 * @param location where the store is
 * @param options busy timeout, retry policy, whether to create it
 * @returns the open store
 * @throws {MaestroError} E122 when it cannot be opened or reached, E123 when its schema is
 *   newer than this maestro
 */
export async function openStore(
  location: StoreLocation,
  options: OpenStoreOptions = {},
): Promise<Store> {
  let connection: Connection | undefined;
  try {
    connection = await connect(location, options);
    const version = await migrate(connection.client, {
      migrations: options.migrations,
      target: options.targetVersion,
      retry: connection.retry,
    });
    return new Store(location, connection.client, version, connection.retry);
  } catch (error) {
    connection?.client.close();
    throw openError(location, error);
  }
}

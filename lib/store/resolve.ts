/**
 * Which store a command uses, the way git finds its repository: `--db` wins, then
 * `MAESTRO_DB_URL`; otherwise `maestro run` uses `.maestro/maestro.db` in the plan's folder
 * (created on first use), and read commands use the first `.maestro/maestro.db` found in the
 * current folder or one of its parents.
 *
 * @module
 */
import { isFile } from "../fs.ts";
import { dirname, join, resolve } from "../path.ts";
import { EXIT, MaestroError } from "../errors.ts";
import {
  DB_AUTH_TOKEN_ENV,
  DB_URL_ENV,
  parseStoreLocation,
  STORE_DIR,
  STORE_FILE,
  type StoreLocation,
} from "./location.ts";

/** What selects a store besides the defaults. */
export interface StoreSelection {
  /** The `--db` value, if given. */
  db?: string;
  /** Environment to read `MAESTRO_DB_URL` / `MAESTRO_DB_AUTH_TOKEN` from. @default {Deno.env} */
  env?: Readonly<Record<string, string | undefined>>;
  /** Folder relative paths are resolved against. @default {Deno.cwd()} */
  cwd?: string;
}

function envOf(selection: StoreSelection): Readonly<Record<string, string | undefined>> {
  return selection.env ?? {
    [DB_URL_ENV]: Deno.env.get(DB_URL_ENV),
    [DB_AUTH_TOKEN_ENV]: Deno.env.get(DB_AUTH_TOKEN_ENV),
  };
}

/**
 * The store named explicitly, by `--db` or else `MAESTRO_DB_URL` (an empty variable counts as
 * unset), or undefined when neither is given.
 *
 * @throws {MaestroError} E121 (exit 2) when the value is not a usable path or URL
 */
export function explicitStore(selection: StoreSelection): StoreLocation | undefined {
  const env = envOf(selection);
  const cwd = selection.cwd ?? Deno.cwd();
  const authToken = env[DB_AUTH_TOKEN_ENV] || undefined;
  if (selection.db !== undefined) {
    return parseStoreLocation(selection.db, { cwd, source: "--db", authToken });
  }
  const fromEnv = env[DB_URL_ENV];
  if (fromEnv) return parseStoreLocation(fromEnv, { cwd, source: DB_URL_ENV, authToken });
  return undefined;
}

/** `<folder>/.maestro/maestro.db`. */
export function defaultStorePath(folder: string): string {
  return join(folder, STORE_DIR, STORE_FILE);
}

/**
 * The store `maestro run <plan>` writes to: `--db`, else `MAESTRO_DB_URL`, else
 * `.maestro/maestro.db` in the plan's folder.
 *
 * @param planPath the plan file
 * @param selection `--db`, environment and current folder
 */
export function storeForRun(planPath: string, selection: StoreSelection = {}): StoreLocation {
  const explicit = explicitStore(selection);
  if (explicit) return explicit;
  const cwd = selection.cwd ?? Deno.cwd();
  return { kind: "file", path: defaultStorePath(dirname(resolve(cwd, planPath))) };
}

/**
 * The first `.maestro/maestro.db` in `start` or one of its parents, or undefined.
 *
 * @param start the folder to search from
 */
export function findStoreUpwards(start: string): string | undefined {
  let folder = resolve(start);
  while (true) {
    const candidate = defaultStorePath(folder);
    if (isFile(candidate)) return candidate;
    const parent = dirname(folder);
    if (parent === folder) return undefined;
    folder = parent;
  }
}

/**
 * The store a read command uses: `--db`, else `MAESTRO_DB_URL`, else the nearest
 * `.maestro/maestro.db` in the current folder or its parents.
 *
 * @throws {MaestroError} E120 (exit 2) when none is found, E121 for a bad `--db`/URL
 */
export function storeForRead(selection: StoreSelection = {}): StoreLocation {
  const explicit = explicitStore(selection);
  if (explicit) return explicit;
  const cwd = selection.cwd ?? Deno.cwd();
  const found = findStoreUpwards(cwd);
  if (found) return { kind: "file", path: found };
  throw new MaestroError(
    "E120",
    `no run store found in ${cwd} or its parents (looked for ${join(STORE_DIR, STORE_FILE)})`,
    {
      exitCode: EXIT.invalid,
      hint: `run a plan first (maestro run creates ${
        join(STORE_DIR, STORE_FILE)
      } beside the plan), cd into its folder, or pass --db <path|url> (or set ${DB_URL_ENV})`,
    },
  );
}

/**
 * The store `maestro reindex` writes to: like a read command, but when none is found it
 * creates `.maestro/maestro.db` in the current folder (rebuilding a deleted store).
 */
export function storeForReindex(selection: StoreSelection = {}): StoreLocation {
  const explicit = explicitStore(selection);
  if (explicit) return explicit;
  const cwd = selection.cwd ?? Deno.cwd();
  return { kind: "file", path: findStoreUpwards(cwd) ?? defaultStorePath(cwd) };
}

/**
 * What `maestro doctor` looks at, as data: each engine CLI (found on PATH or not, its
 * `--version`, which of its auth variables are set — names only, never values), the spawn
 * helper, the run store's location and the run folder. doctor_command.ts prints it.
 *
 * Probing is read-only, with two exceptions that a run would do anyway: the spawn helper is
 * compiled into maestro's cache folder when it is missing, and `--plan` imports the plan's
 * custom engine modules to check their shape.
 *
 * @module
 */
import { pathExists } from "../fs.ts";
import { dirname, resolve } from "../path.ts";
import { ENGINES } from "../../engines/registry.ts";
import type { Engine } from "../../engines/types.ts";
import type { MaestroError } from "../errors.ts";
import { findBinary, INSTALL_COMMANDS } from "../run/engine_executor.ts";
import { isolationPrefix, killGroup } from "../run/process.ts";
import { ensureSpawnHelper } from "../run/spawn_helper.ts";
import { ensureSpawnServer } from "../run/spawn_server.ts";
import { DB_URL_ENV, displayLocation, type StoreLocation } from "../store/location.ts";
import { explicitStore, findStoreUpwards, storeForRun } from "../store/resolve.ts";

/**
 * Environment variables that authenticate each built-in engine's CLI. A CLI may also be logged
 * in through its own config (`claude login`, `codex login`, `gh auth`), so none being set is a
 * warning, not a failure.
 */
export const AUTH_ENV: Readonly<Record<string, readonly string[]>> = {
  claude: ["ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN"],
  codex: ["OPENAI_API_KEY", "CODEX_API_KEY"],
  gemini: ["GEMINI_API_KEY", "GOOGLE_API_KEY", "GOOGLE_APPLICATION_CREDENTIALS"],
  qwen: ["DASHSCOPE_API_KEY", "OPENAI_API_KEY"],
  copilot: ["COPILOT_GITHUB_TOKEN", "GH_TOKEN", "GITHUB_TOKEN", "COPILOT_PROVIDER_API_KEY"],
  // local models: nothing to authenticate
  ollama: [],
  llama: [],
};

/** How long one `--version` call may take (node CLIs need seconds on a busy machine). */
export const VERSION_TIMEOUT_MS = 15_000;

/** One engine as doctor sees it. */
export interface EngineCheck {
  /** Engine name as plans write it. */
  name: string;
  /** `builtin`, or `custom` (declared under a plan's `engines:`). */
  kind: "builtin" | "custom";
  /** Custom engines: absolute path of the adapter module; else null. */
  module: string | null;
  /** The executable looked up (the one found, for engines with alternative names). */
  binary: string | null;
  /** Whether the executable is on PATH (custom engines: and the module loaded). */
  found: boolean;
  /** Where it is, or null. */
  path: string | null;
  /** First line of `--version` that names a version (null when not run or it failed). */
  version: string | null;
  /** Why there is no version (timeout, exit code), or null. */
  version_error: string | null;
  /** How to install the CLI, when known. */
  install: string | null;
  /** Auth variables: the names looked for and the names set (values are never read out). */
  auth: { vars: string[]; set: string[] };
  /** Custom engines: why the module cannot be used, or null. */
  error: string | null;
  /** Task ids of the `--plan` that run on this engine (empty without a plan). */
  used_by: string[];
  /** Task ids of the `--plan` that fall back to this engine (`fallback_engine`). */
  fallback_for: string[];
}

/** The spawn helper's state. */
export interface SpawnCheck {
  /** Whether the compiled helper is used. */
  available: boolean;
  /** Its path, or null. */
  path: string | null;
  /** Why it is not used, or null. */
  reason: string | null;
  /** What is used instead (the util-linux chain), or null when nothing isolates tasks. */
  fallback: string | null;
}

/** The spawn server's state (spawn_server.ts). */
export interface SpawnServerCheck {
  /** Whether tasks without a stdin start through it. */
  available: boolean;
  /** Its path, or null. */
  path: string | null;
  /** Why it is not used, or null. */
  reason: string | null;
}

/** Where the run store is. */
export interface StoreCheck {
  /** `file`, `remote`, or null when the location is invalid. */
  kind: "file" | "remote" | null;
  /** The location as printed (relative file path, or URL without credentials). */
  location: string | null;
  /** `--db`, `MAESTRO_DB_URL`, `plan` (beside the plan), `found` (in a parent folder) or `none`. */
  source: "--db" | "MAESTRO_DB_URL" | "plan" | "found" | "none";
  /** File stores: whether the file exists yet (remote: null, the server is not contacted). */
  exists: boolean | null;
  /** Why the location is invalid, or null. */
  error: string | null;
}

/** The folder runs are written to. */
export interface RunDirCheck {
  /** Absolute path. */
  path: string;
  /** Whether it exists yet. */
  exists: boolean;
  /** Whether maestro can create run directories in it (or create it). */
  writable: boolean;
  /** Why not, or null. */
  error: string | null;
}

/** What `maestro --version` reports: the first line of output that looks like a version. */
function versionLine(text: string): string | null {
  const lines = text.split("\n").map((l) => l.trim()).filter(Boolean);
  const line = lines.find((l) => /\d+\.\d+/.test(l)) ?? lines[0];
  return line ? line.slice(0, 200) : null;
}

/**
 * Runs `<path> --version` in its own process group and returns the version line, killing the
 * whole group when it takes longer than `timeoutMs`.
 *
 * @param path the executable
 * @param options time limit
 */
export async function probeVersion(
  path: string,
  options: { timeoutMs?: number } = {},
): Promise<{ version: string | null; error: string | null }> {
  const timeoutMs = options.timeoutMs ?? VERSION_TIMEOUT_MS;
  let child: Deno.ChildProcess;
  try {
    const [program, ...args] = [...isolationPrefix(), path, "--version"];
    child = new Deno.Command(program!, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { ...Deno.env.toObject(), NO_COLOR: "1" },
    }).spawn();
  } catch (error) {
    return { version: null, error: error instanceof Error ? error.message : String(error) };
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<"timeout">((done) => {
    timer = setTimeout(() => done("timeout"), timeoutMs);
  });
  const output = child.output();
  // a pending timer would keep maestro alive until it fires
  const outcome = await Promise.race([output, timedOut]).finally(() => clearTimeout(timer));
  if (outcome === "timeout") {
    if (!killGroup(child.pid, "SIGKILL")) {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
    }
    child.unref();
    output.catch(() => {});
    return { version: null, error: `--version took longer than ${timeoutMs / 1000}s` };
  }
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  const version = versionLine(decode(outcome.stdout)) ?? versionLine(decode(outcome.stderr));
  if (!outcome.success) {
    return { version: null, error: `--version exited with code ${outcome.code}` };
  }
  return { version, error: version ? null : "--version printed nothing" };
}

/** An engine's executable on PATH: its binary, else its alternative names. */
function locate(engine: Pick<Engine, "binary" | "altBinaries">, env: Record<string, string>) {
  const cwd = Deno.cwd();
  for (const name of [engine.binary, ...(engine.altBinaries ?? [])]) {
    const path = findBinary(name, env, cwd);
    if (path) return { binary: name, path };
  }
  return { binary: engine.binary, path: undefined };
}

/** Options of {@linkcode checkEngines}. */
export interface EngineCheckOptions {
  /** Environment to look in (PATH, auth variables). @default {Deno.env.toObject()} */
  env?: Record<string, string>;
  /** Custom engines of the plan: name -> module path, with the adapter or why it failed. */
  custom?: ReadonlyArray<{ name: string; module: string; engine?: Engine; error?: string }>;
  /** Task ids by engine name, for the plan's engines. */
  usedBy?: ReadonlyMap<string, string[]>;
  /** Task ids by fallback engine name. */
  fallbackFor?: ReadonlyMap<string, string[]>;
  /** Time limit of each `--version` call. @default {VERSION_TIMEOUT_MS} */
  timeoutMs?: number;
}

/**
 * Checks every built-in engine and the given custom ones, running the `--version` calls in
 * parallel.
 *
 * @param options environment, custom engines, the plan's use of each engine
 */
export async function checkEngines(options: EngineCheckOptions = {}): Promise<EngineCheck[]> {
  const env = options.env ?? Deno.env.toObject();
  const builtins = Object.values(ENGINES).map(async (engine): Promise<EngineCheck> => {
    const { binary, path } = locate(engine, env);
    const probe = path
      ? await probeVersion(path, { timeoutMs: options.timeoutMs })
      : { version: null, error: null };
    const vars = [...(AUTH_ENV[engine.name] ?? [])];
    return {
      name: engine.name,
      kind: "builtin",
      module: null,
      binary,
      found: path !== undefined,
      path: path ?? null,
      version: probe.version,
      version_error: probe.error,
      install: INSTALL_COMMANDS[engine.name] ?? null,
      auth: { vars, set: vars.filter((name) => Boolean(env[name])) },
      error: null,
      used_by: options.usedBy?.get(engine.name) ?? [],
      fallback_for: options.fallbackFor?.get(engine.name) ?? [],
    };
  });
  const custom = (options.custom ?? []).map((entry): EngineCheck => {
    const where = entry.engine ? locate(entry.engine, env) : undefined;
    return {
      name: entry.name,
      kind: "custom",
      module: entry.module,
      binary: where?.binary ?? null,
      found: where?.path !== undefined,
      path: where?.path ?? null,
      // custom CLIs are not asked for a version: `--version` may mean anything to them
      version: null,
      version_error: null,
      install: null,
      auth: { vars: [], set: [] },
      error: entry.error ?? null,
      used_by: options.usedBy?.get(entry.name) ?? [],
      fallback_for: options.fallbackFor?.get(entry.name) ?? [],
    };
  });
  return [...await Promise.all(builtins), ...custom];
}

/** The spawn helper, compiled on first use like a run would (never throws). */
export async function checkSpawnHelper(): Promise<SpawnCheck> {
  const helper = await ensureSpawnHelper();
  const chain = isolationPrefix();
  return {
    available: "path" in helper,
    path: "path" in helper ? helper.path : null,
    reason: "unavailable" in helper ? helper.unavailable : null,
    fallback: "path" in helper ? null : chain.length > 0 ? chain.join(" ") : null,
  };
}

/** The spawn server, compiled on first use like a run would (never throws). */
export async function checkSpawnServer(): Promise<SpawnServerCheck> {
  const server = await ensureSpawnServer();
  return {
    available: "path" in server,
    path: "path" in server ? server.path : null,
    reason: "unavailable" in server ? server.unavailable : null,
  };
}

/**
 * The run store the way `maestro run` (with a plan) or the read commands (without) find it:
 * `--db`, else `MAESTRO_DB_URL`, else `.maestro/maestro.db` beside the plan, or the nearest one
 * in the current folder and its parents.
 *
 * @param options the `--db` value and the plan file, if any
 */
export function checkStore(options: { db?: string; plan?: string } = {}): StoreCheck {
  const cwd = Deno.cwd();
  const fileExists = (location: StoreLocation) =>
    location.kind === "file" ? pathExists(location.path) : null;
  try {
    const explicit = explicitStore({ db: options.db });
    if (explicit) {
      return {
        kind: explicit.kind,
        location: displayLocation(explicit, cwd),
        source: options.db !== undefined ? "--db" : DB_URL_ENV,
        exists: fileExists(explicit),
        error: null,
      };
    }
  } catch (error) {
    return {
      kind: null,
      location: null,
      source: options.db !== undefined ? "--db" : DB_URL_ENV,
      exists: null,
      error: (error as MaestroError).message,
    };
  }
  if (options.plan) {
    const location = storeForRun(options.plan, { cwd });
    return {
      kind: location.kind,
      location: displayLocation(location, cwd),
      source: "plan",
      exists: fileExists(location),
      error: null,
    };
  }
  const found = findStoreUpwards(cwd);
  return found
    ? {
      kind: "file",
      location: displayLocation({ kind: "file", path: found }, cwd),
      source: "found",
      exists: true,
      error: null,
    }
    : { kind: null, location: null, source: "none", exists: null, error: null };
}

/**
 * Whether run directories can be created under `path`: it, or its nearest existing parent, is
 * a folder that a file can be created in (the probe file is removed at once).
 *
 * @param path the run folder (absolute)
 */
export async function checkRunDir(path: string): Promise<RunDirCheck> {
  const exists = pathExists(path);
  let folder = resolve(path);
  while (!pathExists(folder) && dirname(folder) !== folder) folder = dirname(folder);
  if (!Deno.statSync(folder).isDirectory) {
    return { path, exists, writable: false, error: `${folder} is not a folder` };
  }
  try {
    const probe = await Deno.makeTempFile({ dir: folder, prefix: ".maestro-doctor-" });
    await Deno.remove(probe);
    return { path, exists, writable: true, error: null };
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return { path, exists, writable: false, error: `cannot write in ${folder}: ${why}` };
  }
}

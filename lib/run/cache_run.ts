/**
 * The cache during one run: key each cacheable task when it is dispatched, restore a hit
 * (its result and log, no process), and store what succeeded once its result file is written.
 *
 * A hit writes exactly the two files every task writes (`<task>.result.json`, `<task>.log`):
 * the log's bytes come from the store, nothing else is copied. The restored result says
 * `from_cache: true`, `message: "Cache hit [<key12>]"`, `task_hash: <key>`, costs nothing in
 * this run (`cost_usd` 0, `token_usage` null) and keeps what the original run spent and took
 * under `cache`.
 *
 * @module
 */
import { canonicalJson } from "./canonical_json.ts";
import { basename } from "../path.ts";
import { rememberFileHash } from "./artifacts.ts";
import {
  type CacheBackend,
  type CacheEntry,
  cacheOffReason,
  isTainted,
  KeyBuilder,
  keyedDependencies,
  negativeTtlSec,
} from "./cache.ts";
import {
  type CacheComponents,
  cacheKey,
  maskComponents,
  outcomeHash,
  sha256,
  storedComponents,
  type UpstreamValue,
} from "./cache_key.ts";
import { LazyInputHasher } from "./lazy_input_hasher.ts";
import { linkOrCopy } from "./cache_files.ts";
import type { EngineRegistry } from "./engine_executor.ts";
import type { FlatPlan } from "./groups.ts";
import {
  CACHE_HIT_COST_SOURCE,
  type CacheSource,
  isoMicros,
  nowMicros,
  type TaskResult,
} from "./result.ts";
import type { TaskIR } from "../plan/ir.ts";

/** Options of {@linkcode RunCache}. */
export interface RunCacheOptions {
  /** Where entries live. */
  backend: CacheBackend;
  /** The plan's name (entries are listed per plan and task for explain). */
  planName: string;
  /** This run. */
  runId: string;
  /** The flattened plan. */
  flat: FlatPlan;
  /** Engine adapters (with the plan's custom engines). */
  engines: EngineRegistry;
  /** Maestro's environment. */
  parentEnv: Readonly<Record<string, string>>;
  /** The plan's folder. */
  baseDir: string;
  /** False with `--no-cache`: nothing is looked up (fresh results are still stored). */
  read: boolean;
  /** Masks secrets in the readable values of the stored components (the run's masker). */
  mask?: (text: string) => string;
}

/** Restores a stored result as this run's result of `task`. */
export function restoreResult(
  entry: CacheEntry,
  task: TaskIR,
  logPath: string | null,
  startMicros: number,
): TaskResult {
  const original = entry.result!;
  const result: TaskResult = structuredClone(original);
  const finished = nowMicros();
  const duration = Math.round((finished - startMicros) / 1000) / 1000;
  const source: CacheSource = {
    key: entry.key,
    kind: entry.kind,
    run_id: entry.run_id,
    cached_at: entry.created_at,
    duration_sec: original.duration_sec,
    cost_usd: original.cost_usd,
    tokens: original.token_usage?.total ?? null,
  };
  const hit = `Cache hit [${entry.key.slice(0, 12)}]`;
  Object.assign(result, {
    task_id: task.id,
    started_at: isoMicros(startMicros),
    finished_at: isoMicros(finished),
    duration_sec: duration,
    log_path: logPath,
    result_path: null,
    message: entry.kind === "negative" ? `${hit} (remembered failure): ${original.message}` : hit,
    // nothing was spent in this run
    cost_usd: original.cost_usd === null ? null : 0,
    token_usage: null,
    task_hash: entry.key,
  });
  result.structured_context = {
    ...result.structured_context,
    task_id: task.id,
    duration_sec: duration,
    cost_usd: result.cost_usd,
  };
  if (result.cost_source !== undefined) result.cost_source = CACHE_HIT_COST_SOURCE;
  delete result.pgid;
  delete result.side_calls;
  result.from_cache = true;
  result.cache = source;
  return result;
}

/** The cache of one run (see the module doc). */
export class RunCache {
  readonly #options: RunCacheOptions;
  readonly #keys: KeyBuilder;
  readonly #hasher = new LazyInputHasher();
  readonly #byId: Map<string, TaskIR>;
  /** Keys of tasks dispatched and not yet final. */
  #pending = new Map<string, { key: string; components: CacheComponents }>();
  /** What each final task passes to its dependents' keys. */
  #values = new Map<string, UpstreamValue>();
  /** The backend's read-ahead, started by the first lookup. */
  #warm: Promise<void> | undefined;
  /** Counts for the run's end. */
  readonly stats = { hits: 0, misses: 0, stored: 0 };

  /** @param options backend, plan, run, engines, environment, `--no-cache` */
  constructor(options: RunCacheOptions) {
    this.#options = options;
    this.#byId = new Map(options.flat.tasks.map((task) => [task.id, task]));
    this.#keys = new KeyBuilder({
      engines: options.engines,
      parentEnv: options.parentEnv,
      hasher: this.#hasher,
      engineVersion: (path) => options.backend.engineVersion(path),
      baseDir: options.baseDir,
    });
  }

  /** Components as stored: hashes shortened, secrets masked in readable field values. */
  #stored(components: CacheComponents): CacheComponents {
    const stored = storedComponents(components);
    return this.#options.mask ? maskComponents(stored, this.#options.mask) : stored;
  }

  /**
   * Keys a task about to run and, on a hit, restores its result and writes its log.
   *
   * @param task the task, its dependencies final
   * @param input the task's renderer, the plan goal, and its log file
   * @returns the restored result, or undefined (not cached, a miss, or `--no-cache`)
   */
  async lookup(
    task: TaskIR,
    input: { render: (text: string) => string; goal: string; logPath: string },
  ): Promise<TaskResult | undefined> {
    if (cacheOffReason(task) !== null) return undefined;
    const startMicros = nowMicros();
    const upstream: Record<string, UpstreamValue> = {};
    for (const dep of keyedDependencies(task, this.#options.flat, this.#byId)) {
      upstream[dep] = this.#values.get(dep) ?? { key: null, out: "unknown" };
    }
    const components = await this.#keys.components(task, { ...input, upstream });
    if (typeof components === "string") return undefined;
    const key = cacheKey(components);
    this.#pending.set(task.id, { key, components });
    if (!this.#options.read) return undefined;
    this.#warm ??= this.#options.backend.warm?.(this.#options.planName) ?? Promise.resolve();
    await this.#warm;
    const entry = await this.#options.backend.lookup(key);
    const usable = entry?.result !== undefined &&
      (entry.kind === "success" ||
        (entry.expires_at !== null && Date.parse(entry.expires_at) > Date.now()));
    if (!entry || !usable) {
      this.stats.misses++;
      return undefined;
    }
    let logPath: string | null = null;
    if (entry.log_file) {
      // a hard link of the stored file (no byte copied); its hash is read when the event needs it
      try {
        linkOrCopy(entry.log_file, input.logPath);
        // a stored log edited in place (through another run's link) is not restored
        if (Deno.statSync(input.logPath).size !== entry.log_size) throw new Error("changed");
        // the store's log files are named by their SHA-256: task_complete's log_hash needs no read
        const name = basename(entry.log_file);
        if (/^[0-9a-f]{64}$/.test(name)) rememberFileHash(input.logPath, name, entry.log_size);
      } catch {
        try {
          Deno.removeSync(input.logPath);
        } catch { /* not created */ }
        this.stats.misses++;
        return undefined;
      }
      logPath = input.logPath;
    } else if (entry.log) {
      Deno.writeFileSync(input.logPath, entry.log);
      rememberFileHash(input.logPath, sha256(entry.log), entry.log.length);
      logPath = input.logPath;
    }
    this.stats.hits++;
    return restoreResult(entry, task, logPath, startMicros);
  }

  /**
   * Marks a result with its key (`task_hash`) and whether it came from the cache.
   *
   * @param task the task
   * @param result its result, before it is written
   */
  mark(task: TaskIR, result: TaskResult): void {
    const pending = this.#pending.get(task.id);
    if (!pending) return;
    result.task_hash = pending.key;
    if (result.from_cache !== true) result.from_cache = false;
  }

  /**
   * Records a final result (after its file is written): its value for dependents' keys, and a
   * new entry when it ran, succeeded (or failed with a negative TTL) and is not tainted.
   *
   * @param task the task
   * @param result the final (masked) result
   * @param json the result file's text
   */
  settle(task: TaskIR, result: TaskResult, json: string): void {
    const pending = this.#pending.get(task.id);
    this.#pending.delete(task.id);
    const fromCache = result.from_cache === true;
    let out = outcomeHash(result);
    const members = this.#options.flat.groups.get(task.id);
    if (members) {
      out = sha256(canonicalJson({
        status: result.status,
        members: members.map((id) => this.#values.get(id) ?? null),
      }));
    }
    this.#values.set(task.id, { key: pending?.key ?? null, out });
    // a process ran: it may have written files other tasks' inputs: match
    if (!fromCache && result.log_path !== null) this.#hasher.invalidate();
    if (!pending) return;
    if (fromCache) {
      this.#options.backend.hit(pending.key);
      return;
    }
    const ttl = negativeTtlSec(task);
    const negative = (result.status === "failed" || result.status === "soft_failed") && ttl > 0;
    if ((result.status !== "success" && !negative) || isTainted(result)) return;
    const now = new Date();
    this.#options.backend.put({
      key: pending.key,
      plan_name: this.#options.planName,
      task_id: task.id,
      kind: negative ? "negative" : "success",
      outcome: out,
      components: this.#stored(pending.components),
      run_id: this.#options.runId,
      created_at: now.toISOString(),
      expires_at: negative ? new Date(now.getTime() + ttl * 1000).toISOString() : null,
      result_json: json,
      log_path: result.log_path,
    });
    this.stats.stored++;
  }
}

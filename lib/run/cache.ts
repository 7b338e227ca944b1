/**
 * The task result cache, as the runtime sees it: the policy (which tasks are cached), the
 * backend contract (lib/store/cache_store.ts keeps entries in the run store), and the key
 * builder shared by runs and by `maestro explain` / `maestro status`.
 *
 * Policy (docs/cache.md):
 * - engine tasks are cached by default; shell tasks only when they declare `inputs:` or set
 *   `cache: true` (lowering turns that into the IR's `cache` flag: a command reads files the
 *   key cannot see otherwise);
 * - `cache: false`, group tasks (their members are cached) and untrusted context
 *   (`context_trust: untrusted`, or a result the context layer marks `tainted`) are never cached;
 * - only successful results are kept, plus failures for `negative_cache_ttl_sec` seconds when
 *   a task sets it (opt-in here; the reference tool defaults to 300 s).
 *
 * @module
 */
import type { TaskIR } from "../plan/ir.ts";
import type { Engine } from "../../engines/types.ts";
import { type EngineRegistry, findBinary } from "./engine_executor.ts";
import { resolvePrompt } from "./engine_prompt.ts";
import { EngineRoute } from "./engine_route.ts";
import { commandText } from "./env.ts";
import { renderCommand } from "./attempt_helpers.ts";
import type { FlatPlan } from "./groups.ts";
import type { TaskResult } from "./result.ts";
import { type CacheComponents, cacheComponents, sha256, type UpstreamValue } from "./cache_key.ts";
import type { InputHashing } from "./lazy_input_hasher.ts";

/** A cache entry as stored. */
export interface CacheEntry {
  /** The key (SHA-256 hex). */
  key: string;
  /** The plan that wrote it. */
  plan_name: string;
  /** The task that wrote it. */
  task_id: string;
  /** `success`, or `negative` (a failure remembered until `expires_at`). */
  kind: "success" | "negative";
  /** Outcome hash of the result (what dependents' keys include). */
  outcome: string;
  /** The key's components, hashes shortened (for explain). */
  components: CacheComponents;
  /** The result as its run wrote it (absent when only the components were read). */
  result?: TaskResult;
  /** The log's bytes, when the store keeps them in the entry (a libSQL server). */
  log?: Uint8Array | null;
  /** The log as a file of the store's content-addressed folder (a local store). */
  log_file?: string;
  /** Its size in bytes. */
  log_size?: number;
  /** The run that produced it. */
  run_id: string;
  /** ISO-8601 time it was stored. */
  created_at: string;
  /** Negative entries: ISO-8601 time after which it is ignored. */
  expires_at: string | null;
}

/** An entry to store; the backend reads the log file when it writes. */
export interface NewCacheEntry extends Omit<CacheEntry, "result" | "log"> {
  /** The result file's JSON text. */
  result_json: string;
  /** The task's log file. */
  log_path: string | null;
}

/** A task's last recorded result in the run history (for tasks that are not cached). */
export interface RecordedResult {
  /** The result. */
  result: TaskResult;
  /** The run it comes from. */
  run_id: string;
}

/**
 * Where entries live. Implementations never reject: a store that cannot be used reports it once
 * (its own way) and then behaves as an empty cache.
 */
export interface CacheBackend {
  /**
   * The entry stored under `key`, with its result and (unless `withLog` is false) its log;
   * undefined when there is none.
   */
  lookup(key: string, options?: { withLog?: boolean }): Promise<CacheEntry | undefined>;
  /** The newest entry of a task (components only), for explaining a miss. */
  latest(planName: string, taskId: string): Promise<CacheEntry | undefined>;
  /** The task's last result in the run history (explain assumes uncached tasks repeat it). */
  lastResult(planName: string, taskId: string): Promise<RecordedResult | undefined>;
  /**
   * Optional: reads ahead what a run of this plan will most likely look up (each task's newest
   * entry), so hits need no query of their own. Called once, before the first lookup.
   */
  warm?(planName: string): Promise<void>;
  /** Queues an entry; written in batches. */
  put(entry: NewCacheEntry): void;
  /** Records that an entry was used. */
  hit(key: string): void;
  /** First line of `<path> --version`, remembered per binary (by size and mtime). */
  engineVersion(path: string): Promise<string | null>;
  /** Writes what is queued and releases the store. */
  close(): Promise<void>;
}

/**
 * Why a task is not cached, or null when it is.
 *
 * @param task the task (IR)
 */
export function cacheOffReason(task: TaskIR): string | null {
  if (task.kind === "group") return "group task (its members are cached one by one)";
  if (task.context_trust === "untrusted") return "untrusted context (context_trust: untrusted)";
  if (task.cache === false) {
    return task.kind === "shell" && task.inputs == null
      // the IR cannot tell an authored `cache: false` from the shell default: name both
      ? "cache: false (a shell task is cached only with inputs: or cache: true)"
      : "cache: false";
  }
  return null;
}

/**
 * Hook for the context layer (lib/context/): a result built from tainted upstream content is
 * never stored. It marks such a result with `tainted: true`.
 *
 * @param result a final result
 */
export function isTainted(result: TaskResult): boolean {
  return result.tainted === true;
}

/** Seconds a failure of this task is remembered (0: failures are not cached). */
export function negativeTtlSec(task: TaskIR): number {
  const ttl = task.negative_cache_ttl_sec;
  return typeof ttl === "number" && ttl > 0 ? ttl : 0;
}

/**
 * The tasks a task's key depends on: its `depends_on`, plus, for a task inside a group, the
 * group's own dependencies (its sub-plan starts once they are final), recursively.
 *
 * @param task a flattened task
 * @param flat the flattened plan
 * @param byId flattened tasks by id
 */
export function keyedDependencies(
  task: TaskIR,
  flat: Pick<FlatPlan, "inner">,
  byId: ReadonlyMap<string, TaskIR>,
): string[] {
  const deps = new Set(task.depends_on);
  let origin = flat.inner.get(task.id);
  while (origin) {
    const group = byId.get(origin.prefix.slice(0, -1));
    if (!group) break;
    for (const dep of group.depends_on) deps.add(dep);
    origin = flat.inner.get(group.id);
  }
  return [...deps].sort();
}

/** What {@linkcode KeyBuilder} needs once per run (or per explain). */
export interface KeyBuilderOptions {
  /** Engine adapters by name (with the plan's custom engines). */
  engines: EngineRegistry;
  /** Maestro's environment (PATH to find engine CLIs). */
  parentEnv: Readonly<Record<string, string>>;
  /** Hashes `inputs:` files. */
  hasher: InputHashing;
  /** Version of an engine CLI by path (the backend's memo). */
  engineVersion: (path: string) => Promise<string | null>;
  /** The plan's folder (paths are keyed relative to it). */
  baseDir: string;
}

/** What one task's components need at the moment it is keyed. */
export interface TaskKeyInput {
  /** Renders the task's templates (upstream results, `--set`, plan variables). */
  render: (text: string) => string;
  /** The plan's goal (the sub-plan's for an inner task). */
  goal: string;
  /** Values of {@linkcode keyedDependencies}. */
  upstream: Record<string, UpstreamValue>;
}

/** Computes components, remembering engine versions and module hashes for the run. */
export class KeyBuilder {
  readonly #options: KeyBuilderOptions;
  #versions = new Map<string, Promise<string | null>>();
  #modules = new Map<string, string>();

  /** @param options engines, environment, input hasher, version probe, plan folder */
  constructor(options: KeyBuilderOptions) {
    this.#options = options;
  }

  /** The engine CLI's version, probed once per binary and PATH for the whole run. */
  #version(engine: Engine, task: TaskIR): Promise<string | null> {
    const env = { ...this.#options.parentEnv, ...task.env };
    const memo = `${engine.name}\0${env.PATH ?? ""}`;
    let version = this.#versions.get(memo);
    if (!version) {
      const cwd = Deno.cwd();
      const path = [engine.binary, ...(engine.altBinaries ?? [])]
        .map((name) => findBinary(name, env, cwd))
        .find((p) => p !== undefined);
      version = path ? this.#options.engineVersion(path) : Promise.resolve(null);
      this.#versions.set(memo, version);
    }
    return version;
  }

  #moduleHash(path: string): string {
    let hash = this.#modules.get(path);
    if (hash === undefined) {
      try {
        hash = sha256(Deno.readFileSync(path));
      } catch {
        hash = "unreadable";
      }
      this.#modules.set(path, hash);
    }
    return hash;
  }

  /**
   * A task's components, or the reason it cannot be keyed this time (its prompt file is
   * missing: the task fails without the cache).
   *
   * @param task the (cacheable) task
   * @param input renderer, goal and upstream values
   */
  async components(task: TaskIR, input: TaskKeyInput): Promise<CacheComponents | string> {
    let rendered: string;
    let engine: CacheComponents["engine"];
    if (task.kind === "engine") {
      const prompt = resolvePrompt(task, input.render, input.goal);
      if ("error" in prompt) return prompt.error;
      rendered = prompt.prompt;
      const adapter = task.engine ? this.#options.engines(task.engine) : undefined;
      if (!adapter) return `engine '${task.engine}' has no adapter`;
      const custom = typeof task.engine_module === "string";
      engine = {
        name: adapter.name,
        model: new EngineRoute(task).current.model,
        // custom CLIs are not asked for a version (doctor does not either): the module is keyed
        version: custom ? null : await this.#version(adapter, task),
      };
      if (custom) engine.module = this.#moduleHash(task.engine_module as string);
    } else if (task.command !== undefined) {
      rendered = commandText(renderCommand(task.command, input.render));
    } else {
      return `${task.kind} task`;
    }
    const patterns = Array.isArray(task.inputs) ? task.inputs as string[] : null;
    const inputs = patterns ? await this.#options.hasher.hashInputs(task.workdir, patterns) : null;
    return cacheComponents(task, {
      rendered,
      engine,
      upstream: input.upstream,
      inputs,
      baseDir: this.#options.baseDir,
    });
  }
}

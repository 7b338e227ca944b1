/**
 * What the cache would do if the plan ran now, without running anything: for each task a hit
 * or a miss and, for a miss, exactly what changed since its last cached result (which field,
 * env var, engine attribute, upstream task or input file), like ninja's `-d explain`. Used by
 * `maestro explain` (cache view) and `maestro status`.
 *
 * Each task's key is computed as a run would compute it, in dependency order, from what its
 * upstream tasks would give it:
 * - an upstream hit gives its cached result (the one a run would restore);
 * - an upstream miss will re-run, so its output is unknown: its dependents are stale because
 *   of it (their other changes are listed too);
 * - an upstream that is not cached (it runs every time) is assumed to repeat its last result
 *   in the run history (said in `assumptions`), unless its own upstream will re-run.
 *
 * @module
 */
import type { PlanIR, TaskIR } from "../plan/ir.ts";
import { renderTemplate } from "../plan/template.ts";
import {
  type CacheBackend,
  type CacheEntry,
  cacheOffReason,
  KeyBuilder,
  keyedDependencies,
} from "./cache.ts";
import {
  type CacheComponents,
  cacheKey,
  type ComponentChange,
  describeChange,
  diffComponents,
  maskComponents,
  outcomeHash,
  sha256,
  storedComponents,
  type UpstreamValue,
} from "./cache_key.ts";
import { LazyInputHasher } from "./lazy_input_hasher.ts";
import { canonicalJson } from "./canonical_json.ts";
import type { EngineRegistry } from "./engine_executor.ts";
import { flattenGroups, groupOutcome } from "./groups.ts";
import type { TaskResult } from "./result.ts";
import { flatTaskLookup } from "./vars.ts";

/** The cache's answer for one task. */
export interface TaskCacheExplanation {
  /** Task id (flattened: `<group>/<id>` inside groups). */
  id: string;
  /** hit: restored without running; miss: runs and is cached; off: not cached, runs. */
  state: "hit" | "miss" | "off";
  /** The key a run would use now, or null when it cannot be known (upstream re-runs, off). */
  key: string | null;
  /** One line: why. */
  reason: string;
  /** Misses: what changed since the last cached result. */
  changes: ComponentChange[];
  /** Misses: upstream tasks that will re-run (so this task's inputs are not known yet). */
  upstream_reruns: string[];
  /** The entry a hit restores, or the last entry a miss is compared with (null: none). */
  cached: { key: string; kind: string; run_id: string; created_at: string } | null;
  /** What the prediction assumed (uncached upstream tasks repeating their last result). */
  assumptions: string[];
  /** The current components (shortened hashes), when they could be computed. */
  components: CacheComponents | null;
}

/** Options of {@linkcode explainCache}. */
export interface ExplainCacheOptions {
  /** Where entries are. */
  backend: CacheBackend;
  /** Engine adapters (with the plan's custom engines). */
  engines: EngineRegistry;
  /** Maestro's environment. */
  parentEnv: Readonly<Record<string, string>>;
  /** The plan's folder. */
  baseDir: string;
  /** `--set` values. */
  set?: Readonly<Record<string, string>>;
  /** Now, for negative entries' expiry. @default {Date.now()} */
  now?: number;
  /** The plan's secret masker (runs mask stored definition values with it). */
  mask?: (text: string) => string;
}

interface Predicted {
  /** Value for dependents' keys; null: unknown (it will re-run, or depends on a re-run). */
  value: UpstreamValue | null;
  /** The result dependents' templates would read. */
  result?: TaskResult;
  /** Why the value is unknown: the tasks that will re-run. */
  reruns: string[];
  /** What dependents' predictions assume because of this task and its upstream. */
  assumptions: string[];
}

function summaryOf(entry: CacheEntry) {
  return { key: entry.key, kind: entry.kind, run_id: entry.run_id, created_at: entry.created_at };
}

function listChanges(changes: readonly ComponentChange[], max = 3): string {
  const shown = changes.slice(0, max).map(describeChange);
  if (changes.length > max) shown.push(`and ${changes.length - max} more`);
  return shown.join("; ");
}

/**
 * Predicts, task by task, what the cache would do if the plan ran now.
 *
 * @param ir the plan
 * @param options the cache backend, engines, environment, plan folder, `--set` values
 * @returns one explanation per task (flattened), in plan order
 */
export async function explainCache(
  ir: PlanIR,
  options: ExplainCacheOptions,
): Promise<TaskCacheExplanation[]> {
  const flat = flattenGroups(ir.tasks);
  const byId = new Map(flat.tasks.map((task) => [task.id, task]));
  const now = options.now ?? Date.now();
  const backend = options.backend;
  const keys = new KeyBuilder({
    engines: options.engines,
    parentEnv: options.parentEnv,
    hasher: new LazyInputHasher(),
    engineVersion: (path) => backend.engineVersion(path),
    baseDir: options.baseDir,
  });
  const vars = { plan: ir, set: options.set ?? {} };
  const predicted = new Map<string, Promise<Predicted>>();
  const explained = new Map<string, TaskCacheExplanation>();

  /** The task's template lookup, as a run builds it (sub-plan names inside groups). */
  const lookupFor = (task: TaskIR, results: Map<string, TaskResult>) =>
    flatTaskLookup(task, flat.inner, vars, results);

  const explain = (task: TaskIR, fields: Partial<TaskCacheExplanation>) => {
    explained.set(task.id, {
      id: task.id,
      state: "miss",
      key: null,
      reason: "",
      changes: [],
      upstream_reruns: [],
      cached: null,
      assumptions: [],
      components: null,
      ...fields,
    });
  };

  const predict = (id: string): Promise<Predicted> => {
    let known = predicted.get(id);
    if (!known) {
      known = predictTask(byId.get(id)!);
      predicted.set(id, known);
    }
    return known;
  };

  const predictGroup = async (task: TaskIR): Promise<Predicted> => {
    const members = flat.groups.get(task.id) ?? [];
    const states = await Promise.all(members.map(predict));
    explain(task, { state: "off", reason: cacheOffReason(task)! });
    const reruns = [...new Set(states.flatMap((s, i) => s.value ? [] : [members[i]!]))];
    const assumptions = [...new Set(states.flatMap((s) => s.assumptions))];
    if (reruns.length > 0) return { value: null, reruns, assumptions };
    const outcome = groupOutcome(members.map((member, i) => ({
      id: member,
      status: states[i]!.result?.status ?? "success",
      message: "",
      blocked: false,
    })));
    const out = sha256(canonicalJson({
      status: outcome.status,
      members: states.map((s) => s.value),
    }));
    return { value: { key: null, out }, reruns: [], assumptions };
  };

  const predictTask = async (task: TaskIR): Promise<Predicted> => {
    if (task.kind === "group") return await predictGroup(task);
    const deps = keyedDependencies(task, flat, byId);
    const states = await Promise.all(deps.map(predict));
    const upstream: Record<string, UpstreamValue> = {};
    const results = new Map<string, TaskResult>();
    const reruns: string[] = [];
    const assumptions: string[] = [];
    deps.forEach((dep, i) => {
      const state = states[i]!;
      if (state.value) upstream[dep] = state.value;
      else reruns.push(dep);
      if (state.result) results.set(dep, state.result);
      // what the upstream predictions assumed, this one assumes too
      for (const a of state.assumptions) if (!assumptions.includes(a)) assumptions.push(a);
    });
    const off = cacheOffReason(task);
    if (off !== null) {
      // runs every time: dependents get what it gave last time, if nothing above it re-runs
      const last = reruns.length === 0 ? await backend.lastResult(ir.name, task.id) : undefined;
      const assumption = last
        ? `${task.id} is not cached: assumed to give the same result as in run ${last.run_id}`
        : undefined;
      explain(task, { state: "off", reason: off, upstream_reruns: reruns, assumptions });
      if (!last) return { value: null, reruns: [task.id], assumptions };
      return {
        value: { key: null, out: outcomeHash(last.result) },
        result: last.result,
        reruns: [],
        assumptions: [...assumptions, assumption!],
      };
    }
    for (const dep of reruns) upstream[dep] = { key: null, out: "unknown" };
    const render = (text: string) => renderTemplate(text, lookupFor(task, results));
    const goal = flat.inner.get(task.id)?.plan.goal ?? ir.goal;
    const components = await keys.components(task, { render, goal, upstream });
    if (typeof components === "string") {
      explain(task, {
        reason: `cannot be keyed: ${components}`,
        upstream_reruns: reruns,
        assumptions,
      });
      return { value: null, reruns: [task.id], assumptions };
    }
    const stored = options.mask
      ? maskComponents(storedComponents(components), options.mask)
      : storedComponents(components);
    const key = cacheKey(components);
    if (reruns.length === 0) {
      const entry = await backend.lookup(key, { withLog: false });
      const usable = entry?.result !== undefined &&
        (entry.kind === "success" ||
          (entry.expires_at !== null && Date.parse(entry.expires_at) > now));
      if (entry && usable) {
        explain(task, {
          state: "hit",
          key,
          reason: `Cache hit [${key.slice(0, 12)}] from run ${entry.run_id}` +
            (entry.kind === "negative" ? " (remembered failure)" : ""),
          cached: summaryOf(entry),
          assumptions,
          components: stored,
        });
        return {
          value: { key, out: entry.outcome },
          result: entry.result,
          reruns: [],
          assumptions,
        };
      }
    }
    const latest = await backend.latest(ir.name, task.id);
    let changes = latest ? diffComponents(latest.components, stored) : [];
    if (reruns.length > 0) {
      // what re-runs upstream is not known yet, nor what it renders into this task
      const rerun = new Set(reruns);
      changes = changes.filter((c) =>
        !(c.kind === "upstream" && rerun.has(c.name)) && c.kind !== "command" &&
        c.kind !== "prompt"
      );
    }
    const parts: string[] = [];
    if (reruns.length > 0) parts.push(`upstream ${reruns.join(", ")} will re-run`);
    if (changes.length > 0) parts.push(listChanges(changes));
    if (parts.length === 0) {
      parts.push(
        !latest
          ? "no cached result yet"
          : latest.kind === "negative"
          ? "the remembered failure expired"
          : "its cached result is gone (pruned or replaced)",
      );
    }
    explain(task, {
      key: reruns.length === 0 ? key : null,
      reason: parts.join("; "),
      changes,
      upstream_reruns: reruns,
      cached: latest ? summaryOf(latest) : null,
      assumptions,
      components: stored,
    });
    return { value: null, reruns: [task.id], assumptions };
  };

  for (const task of flat.tasks) await predict(task.id);
  return flat.tasks.map((task) => explained.get(task.id)!);
}

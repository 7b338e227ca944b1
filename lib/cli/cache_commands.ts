/**
 * The cache's read commands: `maestro explain <plan> [--task id] [--json]` (its default view:
 * for each task, hit or miss, and on a miss exactly what changed) and `maestro status <plan>
 * [--json]` (which tasks would run, and why). Neither runs a task nor writes anything; both
 * read the store `maestro run` would use for the plan (`--db`, `MAESTRO_DB_URL`, else
 * `.maestro/maestro.db` beside the plan). docs/cache.md.
 *
 * @module
 */
import { importLater } from "../import_later.ts";
import { dirname } from "../path.ts";
import { didYouMean, EXIT } from "../errors.ts";
import type { LoadedPlan } from "../plan/ir.ts";
import { loadPlan } from "../plan/load.ts";
import { explainCache, type TaskCacheExplanation } from "../run/cache_explain.ts";
import { describeChange } from "../run/cache_key.ts";
import { builtinEngines } from "../run/engine_executor.ts";
import { withCustomEngines } from "../run/custom_engines.ts";
import { flattenGroups } from "../run/groups.ts";
import { createCacheStore } from "../store/cache_store.ts";
import { displayLocation } from "../store/location.ts";
import { storeForRun } from "../store/resolve.ts";
import { planMasker } from "../run/plan_masker.ts";
import { issueLines, paint, printJson } from "./output.ts";
import { parseSetValues } from "./plan_commands.ts";

/** Options shared by the cache views. */
export interface CacheViewOptions {
  /** One task only (explain). */
  task?: string;
  /** One JSON document. */
  json?: boolean;
  /** `--db`: the store. */
  db?: string;
  /** `--set KEY=VALUE` pairs (they take part in rendered commands and prompts). */
  set?: string[];
}

/** What both commands compute. */
interface Prediction {
  store: string;
  tasks: TaskCacheExplanation[];
}

async function predict(plan: LoadedPlan, options: CacheViewOptions): Promise<Prediction> {
  const set = parseSetValues(options.set);
  const location = storeForRun(plan.source, { db: options.db });
  const backend = createCacheStore(location, {
    readOnly: true,
    probeVersion: async (path) => {
      const { probeVersion } = await importLater<typeof import("./doctor_checks.ts")>(
        new URL("./doctor_checks.ts", import.meta.url),
      );
      return (await probeVersion(path)).version;
    },
    onWarning: (message) => console.error(`maestro: warning: ${message}`),
  });
  try {
    const flat = flattenGroups(plan.ir.tasks).tasks;
    const engines = await withCustomEngines(flat, builtinEngines);
    const parentEnv = Deno.env.toObject();
    // the masker of a run (without --mask-secrets): stored values were masked with it
    const mask = planMasker(plan.ir, flat, parentEnv, false);
    const tasks = await explainCache(plan.ir, {
      backend,
      engines,
      parentEnv,
      mask,
      baseDir: dirname(plan.source),
      set: typeof set === "string" ? {} : set,
    });
    return { store: displayLocation(location), tasks };
  } finally {
    await backend.close();
  }
}

const STATE_COLOR = { hit: "green", miss: "yellow", off: "dim" } as const;

function table(rows: readonly string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join("  ").trimEnd());
}

function counts(tasks: readonly TaskCacheExplanation[]) {
  const n = (state: string) => tasks.filter((t) => t.state === state).length;
  return { hit: n("hit"), miss: n("miss"), off: n("off") };
}

function detailLines(t: TaskCacheExplanation): string[] {
  const lines = [`task ${t.id}: ${paint(t.state, STATE_COLOR[t.state])}  ${t.reason}`];
  if (t.key) lines.push(`  key: ${t.key}`);
  if (t.cached) {
    const what = t.state === "hit" ? "restores" : "last cached result";
    lines.push(
      `  ${what}: ${
        t.cached.key.slice(0, 12)
      } from run ${t.cached.run_id} (${t.cached.created_at}` +
        (t.cached.kind === "negative" ? ", remembered failure)" : ")"),
    );
  }
  if (t.upstream_reruns.length > 0) {
    lines.push(`  upstream that will re-run: ${t.upstream_reruns.join(", ")}`);
  }
  if (t.changes.length > 0) {
    lines.push("  changed since the last cached result:");
    for (const change of t.changes) lines.push(`    - ${describeChange(change)}`);
  }
  for (const a of t.assumptions) lines.push(`  assumes: ${a}`);
  const c = t.components;
  if (c) {
    lines.push("  key components:");
    for (const [name, value] of Object.entries(c.task)) lines.push(`    field ${name}: ${value}`);
    if (c.command) lines.push(`    rendered command: ${c.command}`);
    if (c.prompt) lines.push(`    rendered prompt: ${c.prompt}`);
    if (c.engine) {
      lines.push(
        `    engine: ${c.engine.name}, model ${c.engine.model ?? "(default)"}, version ${
          c.engine.version ?? "(unknown)"
        }${c.engine.module ? `, module ${c.engine.module}` : ""}`,
      );
    }
    for (const name of Object.keys(c.env)) lines.push(`    env ${name}: ${c.env[name]}`);
    for (const [id, v] of Object.entries(c.upstream)) {
      lines.push(`    upstream ${id}: key ${v.key ?? "(not cached)"}, output ${v.out}`);
    }
    if (c.inputs === null) lines.push("    inputs: (none declared)");
    else {
      const files = Object.entries(c.inputs);
      if (files.length === 0) lines.push("    inputs: (no file matches)");
      for (const [path, hash] of files) lines.push(`    input ${path}: ${hash}`);
    }
  }
  return lines;
}

function unknownTask(id: string, tasks: readonly TaskCacheExplanation[]): number {
  const suggestion = didYouMean(id, tasks.map((t) => t.id));
  console.error(`maestro: E114 no task "${id}" in the plan`);
  console.error(`  hint: ${suggestion ? `did you mean "${suggestion}"?` : "check the task ids"}`);
  return EXIT.invalid;
}

/**
 * The cache view of `maestro explain`: hit or miss per task, and why.
 *
 * @param plan the loaded plan
 * @param options `--task`, `--json`, `--db`, `--set`
 * @returns the exit code
 */
export async function explainCacheView(
  plan: LoadedPlan,
  options: CacheViewOptions,
): Promise<number> {
  const { store, tasks } = await predict(plan, options);
  if (options.task !== undefined) {
    const one = tasks.find((t) => t.id === options.task);
    if (!one) return unknownTask(options.task, tasks);
    if (options.json) printJson({ plan: plan.ir.name, store, task: one });
    else console.log(detailLines(one).join("\n"));
    return EXIT.ok;
  }
  if (options.json) {
    printJson({
      plan: plan.ir.name,
      store,
      counts: counts(tasks),
      tasks: tasks.map(({ components: _c, ...rest }) => rest),
    });
    return EXIT.ok;
  }
  const rows = [["TASK", "CACHE", "WHY"], ...tasks.map((t) => [t.id, t.state, t.reason])];
  const lines = table(rows).map((line, i) => {
    const state = i === 0 ? undefined : tasks[i - 1]!.state;
    return state ? line.replace(` ${state} `, ` ${paint(state, STATE_COLOR[state])} `) : line;
  });
  const c = counts(tasks);
  console.log(`cache of plan ${plan.ir.name} in ${store}`);
  console.log(lines.join("\n"));
  console.log(`${c.hit} hit, ${c.miss} miss, ${c.off} not cached`);
  return EXIT.ok;
}

/**
 * `maestro status <plan>`: which tasks are stale (would run) and why, without running anything.
 *
 * @param path the plan file
 * @param options `--json`, `--db`, `--set`
 * @returns the exit code (0 whatever is stale)
 */
export async function statusCommand(path: string, options: CacheViewOptions): Promise<number> {
  const set = parseSetValues(options.set);
  if (typeof set === "string") {
    console.error(`maestro: ${set}`);
    return EXIT.invalid;
  }
  const outcome = await loadPlan(path, { set });
  if (!outcome.plan) {
    for (const e of outcome.errors) console.error(issueLines(e, "error"));
    return EXIT.invalid;
  }
  const { store, tasks } = await predict(outcome.plan, options);
  const stale = tasks.filter((t) => t.state === "miss");
  const uncached = tasks.filter((t) => t.state === "off");
  const fresh = tasks.filter((t) => t.state === "hit");
  if (options.json) {
    printJson({
      plan: outcome.plan.ir.name,
      store,
      counts: {
        tasks: tasks.length,
        stale: stale.length,
        uncached: uncached.length,
        fresh: fresh.length,
      },
      stale: stale.map((t) => ({
        id: t.id,
        reason: t.reason,
        changes: t.changes,
        upstream_reruns: t.upstream_reruns,
      })),
      uncached: uncached.map((t) => ({ id: t.id, reason: t.reason })),
      fresh: fresh.map((t) => t.id),
      assumptions: [...new Set(tasks.flatMap((t) => t.assumptions))],
    });
    return EXIT.ok;
  }
  const name = outcome.plan.ir.name;
  const running = stale.length + uncached.length;
  console.log(
    running === 0
      ? `plan ${name}: up to date (all ${tasks.length} tasks are cache hits)`
      : `plan ${name}: ${running} of ${tasks.length} tasks would run`,
  );
  if (stale.length > 0) {
    console.log(`stale (${stale.length}):`);
    for (const line of table(stale.map((t) => [t.id, t.reason]))) console.log(`  ${line}`);
  }
  if (uncached.length > 0) {
    console.log(`not cached, run every time (${uncached.length}):`);
    for (const line of table(uncached.map((t) => [t.id, t.reason]))) console.log(`  ${line}`);
  }
  if (fresh.length > 0 && running > 0) {
    console.log(`up to date (${fresh.length}): ${fresh.map((t) => t.id).join(", ")}`);
  }
  const assumed = [...new Set(tasks.flatMap((t) => t.assumptions))];
  for (const a of assumed) console.log(paint(`assumes: ${a}`, "dim"));
  console.log(paint(`(cache: ${store})`, "dim"));
  return EXIT.ok;
}

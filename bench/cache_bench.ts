/**
 * `deno run -A bench/cache_bench.ts`: what the task result cache costs and saves.
 *
 * 1. In process, a generated 2 000-task shell plan (every task `cache: true`, one `inputs:`
 *    file each), with a real libSQL store in a temp folder: the run without a cache, the first
 *    run with it (every task a miss: keyed, looked up, run, stored), and the second (every task
 *    a hit: keyed, looked up, restored); then the key and the lookup alone, per task.
 * 2. Through the CLI, a 200-task plan: `maestro validate` next to `maestro run` with every task
 *    a hit, interleaved in the same sitting (the target: at most 1.1× validate), and
 *    beside them the floor of any all-hit run with the cache in libSQL (`floor_hit_run.ts`:
 *    validate's work plus loading libSQL and reading the cache table, serially and with the
 *    store opened in a Worker).
 *
 * Options: `--tasks=2000`, `--rounds=3`, `--cli-tasks=200`, `--cli-rounds=7`, `--no-cli`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { generatePlan } from "./gen_plan.ts";
import { interleaved, stats } from "./measure.ts";
import { loadPlan } from "../lib/plan/load.ts";
import type { LoadedPlan } from "../lib/plan/ir.ts";
import { type RunManifest, runPlan } from "../lib/run/run_plan.ts";
import { createCacheStore } from "../lib/store/cache_store.ts";
import { KeyBuilder } from "../lib/run/cache.ts";
import { cacheKey } from "../lib/run/cache_key.ts";
import { InputHasher } from "../lib/run/cache_inputs.ts";
import { builtinEngines } from "../lib/run/engine_executor.ts";

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));

/** The generated plan with `cache: true` and one `inputs:` file per task. */
function cachedPlan(n: number): string {
  return generatePlan(n).yaml.replaceAll(
    '    command: "true"\n',
    '    command: "true"\n    cache: true\n    inputs: [in/f*.txt]\n',
  ).replace(/^name: bench-/m, "name: cache-bench-");
}

function folder(n: number): string {
  const dir = mkdtempSync(join(tmpdir(), "maestro-cache-bench-"));
  writeFileSync(join(dir, "plan.yaml"), cachedPlan(n));
  mkdirSync(join(dir, "in"));
  for (let i = 0; i < 5; i++) writeFileSync(join(dir, "in", `f${i}.txt`), `input ${i}\n`);
  return dir;
}

async function load(dir: string): Promise<LoadedPlan> {
  const outcome = await loadPlan(join(dir, "plan.yaml"));
  if (!outcome.plan) throw new Error(JSON.stringify(outcome.errors));
  return outcome.plan;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

const ms = (v: number) => v.toFixed(0);
const us = (v: number) => (v * 1000).toFixed(0);

async function inProcess(n: number, rounds: number): Promise<void> {
  const none: number[] = [];
  const miss: number[] = [];
  const hit: number[] = [];
  let hits = 0;
  for (let round = 0; round < rounds; round++) {
    const dir = folder(n);
    try {
      const plan = await load(dir);
      const store = { kind: "file" as const, path: join(dir, ".maestro", "maestro.db") };
      none.push(await timed(() => runPlan(plan, {})));
      miss.push(await timed(() => runPlan(plan, { cache: createCacheStore(store) })));
      let manifest: RunManifest | undefined;
      hit.push(
        await timed(async () => {
          manifest = await runPlan(plan, { cache: createCacheStore(store) });
        }),
      );
      hits = Object.values(manifest!.task_results).filter((r) => r.from_cache).length;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  // the key and the lookup alone, per task, on a populated store
  const dir = folder(n);
  let keyMs = 0;
  let lookupMs = 0;
  try {
    const plan = await load(dir);
    const store = { kind: "file" as const, path: join(dir, ".maestro", "maestro.db") };
    await runPlan(plan, { cache: createCacheStore(store) });
    const backend = createCacheStore(store);
    const keys = new KeyBuilder({
      engines: builtinEngines,
      parentEnv: Deno.env.toObject(),
      hasher: new InputHasher(),
      engineVersion: () => Promise.resolve(null),
      baseDir: dir,
    });
    await backend.lookup("0".repeat(64)); // open the store first
    const pass = async (measure: boolean) => {
      for (const task of plan.ir.tasks) {
        const t0 = performance.now();
        const components = await keys.components(task, {
          render: (text) => text,
          goal: "",
          upstream: Object.fromEntries(task.depends_on.map((d) => [d, { key: null, out: d }])),
        });
        const key = cacheKey(components as Exclude<typeof components, string>);
        const t1 = performance.now();
        await backend.lookup(key);
        if (!measure) continue;
        lookupMs += performance.now() - t1;
        keyMs += t1 - t0;
      }
    };
    await pass(false); // warm: JIT, glob memo, input hashes
    await pass(true);
    await backend.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const m = (values: number[]) => stats(values).median;
  console.log(`\n### In process: ${n} shell tasks (median of ${rounds}; ms)\n`);
  console.log("| run | wall ms | per task |\n| --- | --- | --- |");
  console.log(`| no cache | ${ms(m(none))} | ${us(m(none) / n)} µs |`);
  console.log(
    `| cache, all miss (key + lookup + run + store) | ${ms(m(miss))} | ${us(m(miss) / n)} µs |`,
  );
  console.log(
    `| cache, all hit (${hits}/${n}: key + lookup + restore) | ${ms(m(hit))} | ${
      us(m(hit) / n)
    } µs |`,
  );
  console.log(
    `\nmiss-run overhead over no cache: ${us((m(miss) - m(none)) / n)} µs per task; ` +
      `key alone ${us(keyMs / n)} µs, lookup alone (libSQL, by primary key) ${
        us(lookupMs / n)
      } µs per task.`,
  );
}

async function cli(n: number, rounds: number): Promise<void> {
  const dir = folder(n);
  const scratch = mkdtempSync(join(tmpdir(), "maestro-cache-bench-scratch-"));
  try {
    const cliTs = join(ROOT, "cli.ts");
    const base = [
      Deno.execPath(),
      "run",
      "-A",
      "--no-prompt",
      "--v8-flags=--optimize-for-size",
      cliTs,
    ];
    // what any all-hit run must pay beyond validate (bench/floor_hit_run.ts)
    const floor = [...base.slice(0, -1), join(ROOT, "bench", "floor_hit_run.ts")];
    const warm = await new Deno.Command(base[0]!, {
      args: [...base.slice(1), "run", "plan.yaml"],
      cwd: dir,
      stdout: "null",
      stderr: "null",
    }).output();
    if (!warm.success) throw new Error("the warm-up run failed");
    const samples = await interleaved(
      [
        { name: "validate", argv: [...base, "validate", "plan.yaml"], options: { cwd: dir } },
        { name: "run (all hits)", argv: [...base, "run", "plan.yaml"], options: { cwd: dir } },
        {
          name: "floor: validate's work + libSQL store opened",
          argv: [...floor, "plan.yaml"],
          options: { cwd: dir },
        },
        {
          name: "floor, store opened in a Worker",
          argv: [...floor, "plan.yaml", "--worker"],
          options: { cwd: dir },
        },
        {
          name: "run --no-cache",
          argv: [...base, "run", "plan.yaml", "--no-cache"],
          options: { cwd: dir },
        },
      ],
      rounds,
      scratch,
    );
    const v = stats(samples.get("validate")!.map((s) => s.wallMs));
    console.log(`\n### Through the CLI: ${n} tasks, interleaved, ${rounds} rounds (ms)\n`);
    console.log("| command | median | min | / validate |\n| --- | --- | --- | --- |");
    for (const [name, list] of samples) {
      const s = stats(list.map((x) => x.wallMs));
      console.log(
        `| ${name} | ${ms(s.median)} | ${ms(s.min)} | ×${(s.median / v.median).toFixed(2)} |`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      tasks: { type: "string", default: "2000" },
      rounds: { type: "string", default: "3" },
      "cli-tasks": { type: "string", default: "200" },
      "cli-rounds": { type: "string", default: "7" },
      "no-cli": { type: "boolean", default: false },
    },
  });
  const load = await Deno.readTextFile("/proc/loadavg").catch(() => "?");
  console.log(`cache benchmark (load average ${load.split(" ").slice(0, 3).join(" ")})`);
  await inProcess(Number(values.tasks), Number(values.rounds));
  if (!values["no-cli"]) await cli(Number(values["cli-tasks"]), Number(values["cli-rounds"]));
}

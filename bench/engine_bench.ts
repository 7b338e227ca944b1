/**
 * What maestro adds to one engine call: a one-task codex plan run through `maestro run`
 * against the test fake model server, next to the same codex command run by hand (the argv and
 * env the adapter builds, spawned directly), interleaved round by round in one sitting.
 *
 * Variants per round (stdout discarded, wall time of the whole process):
 * - `by hand`: codex with the adapter's argv/env, as a script would run it;
 * - `maestro`: `deno run … cli.ts run plan.yaml --no-cache` (store on, as users run it; the
 *   cache off, or every round after the first would be a cache hit that never starts codex);
 * - `maestro --no-store`: the same without the run store, to show the store's share;
 * - `deno spawn floor`: `bench/floor_spawn.ts` running the same codex argv: Deno's start, one
 *   piped spawn, its exit; what any Deno program pays to run the command for someone;
 * - `deno floor`: `deno run` of an empty file (Deno's own start-up, paid by any Deno tool).
 *
 * Run: `deno run -A bench/engine_bench.ts [--rounds=7] [--json=out.json]`. Needs npm (codex
 * 0.169.0 is installed into the test CLI cache on first use).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { codex } from "../engines/codex.ts";
import { startFakeServer } from "../tests/fake_model_server.ts";
import { installPinned, PINNED_CLIS } from "../tests/engines/install_cli.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const CLI = join(ROOT, "cli.ts");
const DENO = Deno.execPath();
const V8_FLAGS = "--v8-flags=--optimize-for-size";
const CODEX_VERSION = PINNED_CLIS.codex.version;
const FLOOR_SPAWN = join(ROOT, "bench", "floor_spawn.ts");

/** Median and min of one variant, ms. */
export interface EngineBenchFigure {
  name: string;
  medianMs: number;
  minMs: number;
  samples: number[];
}

/** The report. */
export interface EngineBenchReport {
  rounds: number;
  load: string;
  figures: EngineBenchFigure[];
  /** maestro − by hand, medians and mins, ms. */
  overheadMs: { median: number; min: number };
  /** maestro --no-store − by hand. */
  overheadNoStoreMs: { median: number; min: number };
  /** The Deno spawn floor − by hand: what Deno alone adds to the same command. */
  floorMs: { median: number; min: number };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function timed(cmd: string, args: string[], opts: Deno.CommandOptions): Promise<number> {
  const started = performance.now();
  const out = await new Deno.Command(cmd, {
    ...opts,
    args,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  const ms = performance.now() - started;
  if (!out.success) {
    throw new Error(
      `${cmd} ${args.join(" ")} exited ${out.code}: ${
        new TextDecoder().decode(out.stderr).slice(-800)
      }`,
    );
  }
  return ms;
}

/** Runs the benchmark. */
export async function runEngineBench(rounds: number): Promise<EngineBenchReport> {
  const install = await installPinned("codex");
  if ("skip" in install) throw new Error(install.skip);
  const binDir = join(install.bin, "..");
  const fake = startFakeServer();
  const dir = await Deno.makeTempDir({ prefix: "maestro-engine-bench-" });
  try {
    const home = join(dir, "home");
    await Deno.mkdir(home);
    const args = [
      "-c",
      "model_providers.maestro.request_max_retries=0",
      "-c",
      "model_providers.maestro.stream_max_retries=0",
    ];
    await Deno.writeTextFile(
      join(dir, "plan.yaml"),
      `name: engine-bench\ntasks:\n  - id: ask\n    engine: codex\n    model: "5.5"\n` +
        `    prompt: say hi\n    args: ${JSON.stringify(args)}\n`,
    );
    await Deno.writeTextFile(join(dir, "empty.ts"), "");
    const env: Record<string, string> = {
      PATH: `${binDir}:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}`,
      HOME: home,
      NO_COLOR: "1",
      DENO_DIR: Deno.env.get("DENO_DIR") ?? join(Deno.env.get("HOME") ?? "/root", ".cache/deno"),
      OPENAI_BASE_URL: `${fake.url}/v1`,
      OPENAI_API_KEY: "sk-fake",
    };
    const inv = codex.build({ id: "ask", model: "5.5", args }, {
      prompt: "say hi",
      systemPrompt: "",
      retryFeedback: "",
      profile: "plan",
      workdir: dir,
      parentEnv: env,
    });
    const byHandEnv = { PATH: env.PATH!, HOME: home, ...inv.env };
    const variants: Array<[string, () => Promise<number>]> = [
      [
        "by hand (codex, adapter's argv)",
        () => timed(install.bin, inv.argv.slice(1), { cwd: dir, env: byHandEnv, clearEnv: true }),
      ],
      [
        "maestro run (store on)",
        () =>
          timed(
            DENO,
            ["run", "-A", "--no-prompt", V8_FLAGS, CLI, "run", "plan.yaml", "--no-cache"],
            {
              cwd: dir,
              env,
              clearEnv: true,
            },
          ),
      ],
      ["maestro run --no-store", () =>
        timed(DENO, [
          "run",
          "-A",
          "--no-prompt",
          V8_FLAGS,
          CLI,
          "run",
          "plan.yaml",
          "--no-store",
          "--no-cache",
        ], { cwd: dir, env, clearEnv: true })],
      [
        "deno spawn floor (floor_spawn.ts, same argv)",
        () =>
          timed(
            DENO,
            ["run", "-A", "--no-prompt", FLOOR_SPAWN, install.bin, ...inv.argv.slice(1)],
            {
              cwd: dir,
              env: byHandEnv,
              clearEnv: true,
            },
          ),
      ],
      [
        "deno floor (empty file)",
        () =>
          timed(DENO, ["run", "-A", "--no-prompt", "empty.ts"], { cwd: dir, env, clearEnv: true }),
      ],
    ];
    const samples = new Map<string, number[]>(variants.map(([name]) => [name, []]));
    // one warm-up round: codex's first start and Deno's caches
    for (const [, run] of variants) await run();
    for (let round = 0; round < rounds; round++) {
      for (const [name, run] of variants) samples.get(name)!.push(await run());
    }
    const figures = variants.map(([name]): EngineBenchFigure => {
      const values = samples.get(name)!;
      return { name, medianMs: median(values), minMs: Math.min(...values), samples: values };
    });
    const [hand, withStore, noStore, spawnFloor] = figures;
    return {
      rounds,
      load: Deno.loadavg().map((l) => l.toFixed(2)).join(" "),
      figures,
      overheadMs: {
        median: withStore!.medianMs - hand!.medianMs,
        min: withStore!.minMs - hand!.minMs,
      },
      overheadNoStoreMs: {
        median: noStore!.medianMs - hand!.medianMs,
        min: noStore!.minMs - hand!.minMs,
      },
      floorMs: {
        median: spawnFloor!.medianMs - hand!.medianMs,
        min: spawnFloor!.minMs - hand!.minMs,
      },
    };
  } finally {
    await fake.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** Markdown of a report. */
export function formatEngineReport(report: EngineBenchReport): string {
  const ms = (n: number) => n.toFixed(0);
  return [
    `## engine overhead (codex ${CODEX_VERSION}, fake model server, ${report.rounds} rounds, ` +
    `load ${report.load})`,
    "",
    "| variant | median ms | min ms |",
    "| --- | ---: | ---: |",
    ...report.figures.map((f) => `| ${f.name} | ${ms(f.medianMs)} | ${ms(f.minMs)} |`),
    "",
    `maestro adds ${ms(report.overheadMs.median)} ms (median; min ${ms(report.overheadMs.min)}) ` +
    `to one codex call; without the store ${ms(report.overheadNoStoreMs.median)} ms ` +
    `(min ${ms(report.overheadNoStoreMs.min)}). Deno alone adds ${ms(report.floorMs.median)} ms ` +
    `(min ${ms(report.floorMs.min)}) to the same command (the spawn floor).`,
  ].join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { rounds: { type: "string", default: "7" }, json: { type: "string" } },
  });
  const report = await runEngineBench(Math.max(1, Number(values.rounds)));
  console.log(formatEngineReport(report));
  if (values.json) await Deno.writeTextFile(values.json, JSON.stringify(report, null, 2) + "\n");
}

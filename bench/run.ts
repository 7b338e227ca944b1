/**
 * `deno task bench`: the plan front-end benchmark. Measures, in one sitting and against
 * baselines taken in the same run:
 *
 * 1. startup: `maestro --version` and `maestro validate` of the 4-task demo plan, warm and cold,
 *    next to bare Deno (`deno eval 0`, `deno run` of an empty file);
 * 2. `validate` of generated random DAG plans (100 … 50 000 tasks): wall time, peak RSS, time
 *    per task, growth between sizes, and the ratio over reading + YAML-parsing the same file;
 * 3. an in-process profile of the validate stages (bench/stages.ts).
 *
 * It prints Markdown tables and never fails on absolute times: targets are shown for
 * information only. Options: `--sizes=100,1000,10000,50000`, `--rounds=10` (startup, warm),
 * `--cold-rounds=5`, `--size-rounds=5` (3 above 10 000 tasks unless given), `--stage-rounds=3` (2
 * above 10 000 tasks unless given),
 * `--no-cold`, `--no-stages`, `--json=<file>` (all samples and figures).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { writePlans } from "./gen_plan.ts";
import { hasGnuTime, interleaved, type Sample, type Stats, stats } from "./measure.ts";
import { STAGES } from "./stages.ts";

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(BENCH_DIR);
const DENO = Deno.execPath();
const DEMO_PLAN = "/work/shared/reference/plans/demo_plan.yaml";
const FALLBACK_DEMO = join(ROOT, "examples", "hello.yaml");

/** Reference tool (Python) timings and the targets, in ms. */
const REFERENCE = { version: 274, validate: 285 };
const TARGET = { version: 137, validate: 200, validate10k: 1000 };

/** Command-line options of the benchmark. */
export interface BenchOptions {
  /** Plan sizes (tasks). */
  sizes: number[];
  /** Warm startup samples per command. */
  rounds: number;
  /** Cold startup samples per command (0 = skip). */
  coldRounds: number;
  /** Samples per plan size; undefined = 5 up to 10 000 tasks, 3 above. */
  sizeRounds?: number;
  /** Stage-profile processes per size (0 = skip); undefined = 3 up to 10 000 tasks, 2 above. */
  stageRounds?: number;
  /** Where to write the JSON report, if anywhere. */
  json?: string;
}

/**
 * Parses the benchmark's command line.
 *
 * @param args `Deno.args`
 */
export function parseOptions(args: readonly string[]): BenchOptions {
  const { values } = parseArgs({
    args: [...args],
    options: {
      sizes: { type: "string", default: "100,1000,10000,50000" },
      rounds: { type: "string", default: "10" },
      "cold-rounds": { type: "string", default: "5" },
      "size-rounds": { type: "string" },
      "stage-rounds": { type: "string" },
      "no-cold": { type: "boolean", default: false },
      "no-stages": { type: "boolean", default: false },
      json: { type: "string" },
    },
  });
  const int = (text: string, name: string) => {
    const n = Number(text.replaceAll("_", ""));
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} expects a whole number`);
    return n;
  };
  const sizes = values.sizes.split(",").filter(Boolean).map((s) => int(s, "sizes"));
  const options: BenchOptions = {
    sizes: sizes.filter((n) => n > 0).sort((a, b) => a - b),
    rounds: Math.max(1, int(values.rounds, "rounds")),
    coldRounds: values["no-cold"] ? 0 : int(values["cold-rounds"], "cold-rounds"),
  };
  if (values["no-stages"]) options.stageRounds = 0;
  else if (values["stage-rounds"] !== undefined) {
    options.stageRounds = int(values["stage-rounds"], "stage-rounds");
  }
  if (values["size-rounds"] !== undefined) {
    options.sizeRounds = Math.max(1, int(values["size-rounds"], "size-rounds"));
  }
  if (values.json !== undefined) options.json = values.json;
  return options;
}

function table(head: string[], rows: Array<Array<string | number>>): string {
  const lines = [
    `| ${head.join(" | ")} |`,
    `| ${head.map((_, i) => (i === 0 ? "---" : "---:")).join(" | ")} |`,
  ];
  for (const row of rows) lines.push(`| ${row.join(" | ")} |`);
  return lines.join("\n");
}

const ms = (value: number) => (Number.isFinite(value) ? value.toFixed(0) : "–");
const fixed = (value: number, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : "–");
const mib = (kib: number | undefined) => (kib === undefined ? "–" : (kib / 1024).toFixed(0));

function wall(samples: readonly Sample[]): Stats {
  return stats(samples.map((s) => s.wallMs));
}

function rss(samples: readonly Sample[]): number | undefined {
  const values = samples.flatMap((s) => (s.rssKiB === undefined ? [] : [s.rssKiB]));
  return values.length ? stats(values).median : undefined;
}

function cpuMs(samples: readonly Sample[]): number | undefined {
  const values = samples.flatMap((s) => (s.cpuMs === undefined ? [] : [s.cpuMs]));
  return values.length ? stats(values).median : undefined;
}

function checkCodes(name: string, samples: readonly Sample[], expected: number[]): void {
  const bad = samples.find((s) => !expected.includes(s.code));
  if (bad) {
    throw new Error(`${name} exited with code ${bad.code}:\n${bad.stderr.slice(0, 2000)}`);
  }
}

async function denoDirInfo(): Promise<{ denoDir: string; npmCache: string }> {
  const out = await new Deno.Command(DENO, { args: ["info", "--json"], stdout: "piped" }).output();
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

async function machine(): Promise<Record<string, string>> {
  const read = async (path: string) => {
    try {
      return await Deno.readTextFile(path);
    } catch {
      return "";
    }
  };
  const cpu = (await read("/proc/cpuinfo")).match(/model name\s*:\s*(.*)/)?.[1] ?? "unknown";
  return {
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    cpu,
    cores: String(navigator.hardwareConcurrency),
    kernel: Deno.osRelease(),
    memory_gib: (Deno.systemMemoryInfo().total / 2 ** 30).toFixed(1),
    loadavg: (await read("/proc/loadavg")).split(" ").slice(0, 3).join(" "),
    gnu_time: String(hasGnuTime()),
  };
}

/** Everything one bench run measured (also written with `--json`). */
export interface BenchReport {
  /** Machine and tool versions, load average at start and end. */
  machine: Record<string, string>;
  /** Startup figures per command name: warm and cold wall stats, RSS. */
  startup: Record<string, { warm: Stats; cold?: Stats; rssKiB?: number; cpuMs?: number }>;
  /** Per plan size: validate and parse-only figures. */
  sizes: Array<{
    tasks: number;
    edges: number;
    bytes: number;
    validate: Stats;
    parseOnly: Stats;
    validateRssKiB?: number;
    parseOnlyRssKiB?: number;
    validateCpuMs?: number;
    parseOnlyCpuMs?: number;
  }>;
  /** Per plan size: median ms per stage. */
  stages: Record<string, Record<string, number>>;
}

async function startupBench(
  options: BenchOptions,
  scratch: string,
  report: BenchReport,
): Promise<void> {
  const demo = await Deno.stat(DEMO_PLAN).then(() => DEMO_PLAN, () => FALLBACK_DEMO);
  const empty = join(scratch, "empty.ts");
  await Deno.writeTextFile(empty, "");
  const cli = join(ROOT, "cli.ts");
  const commands = [
    { name: "deno eval 0", argv: [DENO, "eval", "0"] },
    { name: "deno run (empty file)", argv: [DENO, "run", "-A", "--no-prompt", empty] },
    { name: "maestro --version", argv: [DENO, "run", "-A", "--no-prompt", cli, "--version"] },
    {
      name: "maestro validate (4 tasks)",
      argv: [DENO, "run", "-A", "--no-prompt", cli, "validate", demo],
    },
  ].map((c) => ({ ...c, options: { cwd: ROOT, env: { NO_COLOR: "1" } } }));

  console.error(`startup: warm-up, then ${options.rounds} warm rounds`);
  await interleaved(commands, 2, scratch);
  const warm = await interleaved(commands, options.rounds, scratch);
  for (const [name, samples] of warm) checkCodes(name, samples, [0]);

  let cold: Map<string, Sample[]> | undefined;
  if (options.coldRounds > 0) {
    console.error(`startup: ${options.coldRounds} cold rounds (fresh DENO_DIR with npm/ only)`);
    const { npmCache } = await denoDirInfo();
    let previous: string | undefined;
    cold = await interleaved(commands, options.coldRounds, scratch, async (name, round) => {
      if (previous) await Deno.remove(previous, { recursive: true });
      const dir = join(scratch, `cold-${round}-${name.replace(/\W+/g, "_")}`);
      await Deno.mkdir(dir);
      const cp = await new Deno.Command("cp", { args: ["-r", npmCache, join(dir, "npm")] })
        .output();
      if (!cp.success) throw new Error(`cannot copy ${npmCache}`);
      previous = dir;
      return { DENO_DIR: dir };
    });
    if (previous) await Deno.remove(previous, { recursive: true });
    for (const [name, samples] of cold) checkCodes(`${name} (cold)`, samples, [0]);
  }
  for (const [name, samples] of warm) {
    const entry: BenchReport["startup"][string] = { warm: wall(samples) };
    const kib = rss(samples);
    if (kib !== undefined) entry.rssKiB = kib;
    const cpu = cpuMs(samples);
    if (cpu !== undefined) entry.cpuMs = cpu;
    const coldSamples = cold?.get(name);
    if (coldSamples) entry.cold = wall(coldSamples);
    report.startup[name] = entry;
  }
}

async function sizeBench(options: BenchOptions, scratch: string, report: BenchReport) {
  const plans = await writePlans(scratch, options.sizes);
  const cli = join(ROOT, "cli.ts");
  const parseOnly = join(BENCH_DIR, "parse_only.ts");
  for (const plan of plans) {
    const rounds = options.sizeRounds ?? (plan.tasks > 10_000 ? 3 : 5);
    console.error(`validate: ${plan.tasks} tasks, ${rounds} rounds`);
    const commands = [
      { name: "validate", argv: [DENO, "run", "-A", "--no-prompt", cli, "validate", plan.path] },
      { name: "parse", argv: [DENO, "run", "-A", "--no-prompt", parseOnly, plan.path] },
    ].map((c) => ({ ...c, options: { cwd: ROOT, env: { NO_COLOR: "1" } } }));
    await interleaved(commands, 1, scratch); // warm-up
    const samples = await interleaved(commands, rounds, scratch);
    checkCodes(`validate ${plan.tasks}`, samples.get("validate")!, [0]);
    checkCodes(`parse ${plan.tasks}`, samples.get("parse")!, [0]);
    const entry: BenchReport["sizes"][number] = {
      tasks: plan.tasks,
      edges: plan.edges,
      bytes: plan.bytes,
      validate: wall(samples.get("validate")!),
      parseOnly: wall(samples.get("parse")!),
    };
    const vc = cpuMs(samples.get("validate")!);
    const pc = cpuMs(samples.get("parse")!);
    if (vc !== undefined) entry.validateCpuMs = vc;
    if (pc !== undefined) entry.parseOnlyCpuMs = pc;
    const v = rss(samples.get("validate")!);
    const p = rss(samples.get("parse")!);
    if (v !== undefined) entry.validateRssKiB = v;
    if (p !== undefined) entry.parseOnlyRssKiB = p;
    report.sizes.push(entry);

    const stageRounds = options.stageRounds ?? (plan.tasks > 10_000 ? 2 : 3);
    if (stageRounds > 0) {
      console.error(`stages: ${plan.tasks} tasks, ${stageRounds} processes`);
      const runs: Array<Record<string, number>> = [];
      for (let i = 0; i < stageRounds; i++) {
        const out = await new Deno.Command(DENO, {
          args: ["run", "-A", "--no-prompt", join(BENCH_DIR, "stages.ts"), plan.path],
          cwd: ROOT,
          stdout: "piped",
          stderr: "piped",
        }).output();
        if (!out.success) {
          throw new Error(`stages.ts failed: ${new TextDecoder().decode(out.stderr)}`);
        }
        runs.push(JSON.parse(new TextDecoder().decode(out.stdout)));
      }
      report.stages[String(plan.tasks)] = Object.fromEntries(
        STAGES.map((stage) => [stage, stats(runs.map((r) => r[stage] ?? NaN)).median]),
      );
    }
  }
}

function verdict(value: number, target: number): string {
  return value <= target ? "met" : "NOT met";
}

/**
 * Formats a report as Markdown tables.
 *
 * @param report what {@linkcode runBench} measured
 */
export function formatReport(report: BenchReport): string {
  const out: string[] = [];
  const m = report.machine;
  out.push(
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memory_gib} GiB, kernel ${m.kernel}; ` +
      `Deno ${m.deno} (V8 ${m.v8}); load average at start ${m.loadavg}, at end ${m.loadavg_end}.`,
  );
  const load = Math.max(
    Number(m.loadavg?.split(" ")[0]),
    Number(m.loadavg_end?.split(" ")[0]),
  );
  if (load > Number(m.cores)) {
    out.push(
      `Note: the machine was busy (load ${load} on ${m.cores} cores): wall times are upper ` +
        "bounds; trust the mins, the CPU times and the ratios (measured interleaved).",
    );
  }

  const s = report.startup;
  if (Object.keys(s).length > 0) {
    const floor = s["deno run (empty file)"]?.warm.median ?? NaN;
    const floorCold = s["deno run (empty file)"]?.cold?.median ?? NaN;
    const targets: Record<string, [number, number]> = {
      "maestro --version": [REFERENCE.version, TARGET.version],
      "maestro validate (4 tasks)": [REFERENCE.validate, TARGET.validate],
    };
    out.push("", "### Startup (ms; median / min of the samples)", "");
    out.push(table(
      [
        "command",
        "warm median",
        "warm min",
        "cold median",
        "cold min",
        "warm / deno run empty",
        "cold / deno run empty",
        "CPU ms (warm)",
        "peak RSS MiB",
        "reference → target (warm)",
      ],
      Object.entries(s).map(([name, e]) => {
        const t = targets[name];
        return [
          name,
          ms(e.warm.median),
          ms(e.warm.min),
          ms(e.cold?.median ?? NaN),
          ms(e.cold?.min ?? NaN),
          fixed(e.warm.median / floor),
          fixed((e.cold?.median ?? NaN) / floorCold),
          ms(e.cpuMs ?? NaN),
          mib(e.rssKiB),
          t ? `${t[0]} → ≤ ${t[1]}: ${verdict(e.warm.median, t[1])}` : "",
        ];
      }),
    ));
  }

  if (report.sizes.length > 0) {
    out.push(
      "",
      "### validate of generated plans (ms; median of the samples, min in brackets)",
      "",
    );
    out.push(table(
      [
        "tasks",
        "edges",
        "file KiB",
        "validate",
        "µs/task",
        "growth vs previous size",
        "marginal µs/task",
        "parse only",
        "validate / parse",
        "CPU ms validate / parse",
        "RSS MiB validate",
        "RSS MiB parse",
      ],
      report.sizes.map((e, i) => {
        const prev = report.sizes[i - 1];
        const growth = prev
          ? `×${fixed(e.validate.median / prev.validate.median)} for ×${
            fixed(e.tasks / prev.tasks, 0)
          } tasks`
          : "";
        const marginal = prev
          ? fixed(
            (e.validate.median - prev.validate.median) * 1000 / (e.tasks - prev.tasks),
            1,
          )
          : "";
        return [
          e.tasks,
          e.edges,
          (e.bytes / 1024).toFixed(0),
          `${ms(e.validate.median)} (${ms(e.validate.min)})`,
          fixed(e.validate.median * 1000 / e.tasks, 1),
          growth,
          marginal,
          `${ms(e.parseOnly.median)} (${ms(e.parseOnly.min)})`,
          fixed(e.validate.median / e.parseOnly.median),
          `${ms(e.validateCpuMs ?? NaN)} / ${ms(e.parseOnlyCpuMs ?? NaN)}`,
          mib(e.validateRssKiB),
          mib(e.parseOnlyRssKiB),
        ];
      }),
    ));
    const tenK = report.sizes.find((e) => e.tasks === 10_000);
    if (tenK) {
      out.push(
        "",
        `validate 10 000 tasks: median ${
          ms(tenK.validate.median)
        } ms, target < ${TARGET.validate10k} ms: ` +
          verdict(tenK.validate.median, TARGET.validate10k) + " (information, not asserted)",
      );
    }
  }

  const sizes = Object.keys(report.stages);
  if (sizes.length > 0) {
    out.push("", "### Stages of validate, in process (ms, median of fresh processes)", "");
    out.push(table(
      ["stage", ...sizes.map((n) => `${n} tasks`)],
      STAGES.map((stage) => [
        stage,
        ...sizes.map((n) => {
          const value = report.stages[n]![stage]!;
          const total = report.stages[n]!["total (front end, no baselines)"]!;
          return stage.startsWith("total") || stage.startsWith("baseline")
            ? ms(value)
            : `${ms(value)} (${((value / total) * 100).toFixed(0)}%)`;
        }),
      ]),
    ));
  }
  return out.join("\n");
}

/**
 * Runs the whole benchmark.
 *
 * @param options what to run
 * @returns the figures
 */
export async function runBench(options: BenchOptions): Promise<BenchReport> {
  const scratch = await Deno.makeTempDir({ prefix: "maestro-bench-" });
  const report: BenchReport = { machine: await machine(), startup: {}, sizes: [], stages: {} };
  try {
    await startupBench(options, scratch, report);
    await sizeBench(options, scratch, report);
  } finally {
    await Deno.remove(scratch, { recursive: true });
  }
  report.machine.loadavg_end = (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3)
    .join(" ");
  return report;
}

if (import.meta.main) {
  const options = parseOptions(Deno.args);
  if (!hasGnuTime()) console.error("note: /usr/bin/time not found; peak RSS is not measured");
  const started = performance.now();
  const report = await runBench(options);
  console.log(formatReport(report));
  console.log(`\n(bench took ${((performance.now() - started) / 1000).toFixed(0)} s)`);
  if (options.json) await Deno.writeTextFile(options.json, JSON.stringify(report, null, 2) + "\n");
}

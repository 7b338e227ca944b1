/**
 * The runtime benchmark (`maestro run`): per-task overhead, footprint and output streaming,
 * always as ratios against baselines measured in the same sitting, never asserted as times.
 *
 * 1. Shapes at max_parallel 8, every task `command: "true"`: 2 000 independent tasks, a
 *    200-task chain, a 1 → 500 → 1 diamond. Each runs as `deno run -A cli.ts run plan.yaml
 *    --max-parallel 8 --run-dir <tmp>` and as GNU `make -j8` of an equivalent Makefile (phony
 *    targets running `true`), interleaved round by round so background load hits both alike.
 *    Start-up is measured apart (a 1-task plan; an empty Makefile) and subtracted: figures are
 *    ms/task (ms/hop for the chain) after start-up, and the total wall time.
 * 2. Spawn floor: Deno spawning `true` 400 times at concurrency 8, bare, under maestro's
 *    isolation wrappers (spawn helper; `setsid`, then `setpriv --pdeathsig KILL -- setsid`),
 *    and through maestro's spawn server (what a run uses), to split maestro's cost into the
 *    spawn and maestro's own bookkeeping.
 * 3. Footprint: files per task in the run directory (of the last 2 000-task run above), peak
 *    RSS of the 2 000-task runs (median) and of one 20 000-task run (GNU time) and the RSS
 *    growth per task between them, whether the tasks finished per
 *    second stay flat from the first to the last tenth of the 20 000-task run, and an
 *    in-process check that writing one task's artifacts (log, result JSON, two chained
 *    events) costs the same with 0 or 19 000 tasks already written.
 * 4. Streaming: one task printing 200 MiB (`yes` lines of 100 bytes): the log body must hold
 *    every byte (size and SHA-256 against the generator's output), maestro's peak RSS next to
 *    the 1-task run's, throughput in MB/s next to a shell redirect (`gen > file`) and
 *    `gen | cat > file`.
 *
 * Run: `deno run -A bench/run_bench.ts [--quick] [--rounds=3] [--json=out.json]
 * [--no-footprint] [--no-stream] [--big=20000] [--stream-mib=200]`. Importable:
 * `runBench(options)` returns the report, `formatReport(report)` renders Markdown.
 *
 * @module
 */
import { ensureSpawnHelper } from "../lib/run/spawn_helper.ts";
import { ensureSpawnServer, SpawnServer } from "../lib/run/spawn_server.ts";
import { createHash } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const CLI = join(ROOT, "cli.ts");
const DENO = Deno.execPath();
const GNU_TIME = "/usr/bin/time";

/** The reference figures and targets (ratios over make -j8). */
export const TARGETS = {
  independent: { reference: 6.96, make: 2.75, maxRatio: 1.5, unit: "ms/task" },
  chain: { reference: 12.2, make: 2.2, maxRatio: 2, unit: "ms/hop" },
  diamond: { reference: 8.4, make: 2.7, maxRatio: 1.5, unit: "ms/task" },
} as const;

/** Options of {@linkcode runBench}. */
export interface RunBenchOptions {
  /** Samples per shape (median reported). */
  rounds: number;
  /** Tasks of the big footprint run (0 = skip it). */
  big: number;
  /** Footprint section. */
  footprint: boolean;
  /** Streaming section. */
  stream: boolean;
  /** MiB printed by the streaming task. */
  streamMiB: number;
  /** Spawn-floor section. */
  floor: boolean;
  /** Tasks of the independent shape. */
  independent: number;
  /** Hops of the chain. */
  chain: number;
  /** Width of the diamond. */
  diamond: number;
  /** Print progress to stderr. */
  progress: boolean;
}

/** Default options; `--quick` uses one round and a 5 000-task big run. */
export function defaultOptions(quick = false): RunBenchOptions {
  return {
    rounds: quick ? 1 : 3,
    big: quick ? 5000 : 20000,
    footprint: true,
    stream: true,
    streamMiB: quick ? 50 : 200,
    floor: true,
    independent: 2000,
    chain: 200,
    diamond: 500,
    progress: true,
  };
}

/** One measured process run. */
export interface Sample {
  wallMs: number;
  /** Peak RSS in KiB (GNU time). */
  rssKiB: number | null;
  /** User + system CPU of the process and its children, ms. */
  cpuMs: number | null;
  code: number;
}

/** Median/min of samples. */
export interface Figure {
  median: number;
  min: number;
  n: number;
}

/** One shape's result. */
export interface ShapeResult {
  name: "independent" | "chain" | "diamond";
  /** Tasks in the plan. */
  tasks: number;
  /** Units the per-unit figure divides by (tasks, or hops for the chain). */
  units: number;
  maestroWallMs: Figure;
  makeWallMs: Figure;
  /** After subtracting start-up. */
  maestroPerUnit: Figure;
  makePerUnit: Figure;
  /** maestroPerUnit.median / makePerUnit.median. */
  ratio: number;
  maestroCpuPerUnit: number | null;
  makeCpuPerUnit: number | null;
  peakRssKiB: number | null;
}

/** The whole report. */
export interface RunBenchReport {
  machine: { cpus: number; model: string; loadavg: string; deno: string; make: string };
  options: RunBenchOptions;
  startup: { maestroMs: Figure; makeMs: Figure; maestroRssKiB: number | null };
  shapes: ShapeResult[];
  floor?: { name: string; msPerSpawn: Figure }[];
  footprint?: {
    tasks: number;
    filesPerTask: number;
    strayFiles: number;
    rss2kKiB: number | null;
    rssBigKiB: number | null;
    rssGrowthPerTaskKiB: number | null;
    bigWallMs: number;
    bigMsPerTask: number;
    firstTenthTasksPerSec: number;
    lastTenthTasksPerSec: number;
    artifactMsFirst: number;
    artifactMsLast: number;
  };
  stream?: {
    bytes: number;
    logBodyBytes: number;
    checksumMatch: boolean;
    maestroWallMs: number;
    maestroMBps: number;
    peakRssKiB: number | null;
    idleRssKiB: number | null;
    redirectMBps: number;
    catMBps: number;
  };
}

function figure(values: number[]): Figure {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, n: sorted.length };
}

let hasTime: boolean | undefined;

/** Runs a command with stdout/stderr discarded, under GNU time when installed. */
async function measure(argv: string[], cwd: string, scratch: string): Promise<Sample> {
  hasTime ??= (() => {
    try {
      return Deno.statSync(GNU_TIME).isFile;
    } catch {
      return false;
    }
  })();
  const out = join(scratch, "time.txt");
  const full = hasTime ? [GNU_TIME, "-f", "%M %U %S", "-o", out, ...argv] : argv;
  const started = performance.now();
  const status = await new Deno.Command(full[0]!, {
    args: full.slice(1),
    cwd,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).output();
  const wallMs = performance.now() - started;
  const sample: Sample = { wallMs, rssKiB: null, cpuMs: null, code: status.code };
  if (hasTime) {
    const last = Deno.readTextFileSync(out).trim().split("\n").pop() ?? "";
    const [kib, user, system] = last.split(" ").map(Number);
    if (Number.isFinite(kib)) sample.rssKiB = kib!;
    if (Number.isFinite(user) && Number.isFinite(system)) sample.cpuMs = (user! + system!) * 1000;
  }
  return sample;
}

/** Plan YAML and Makefile for a list of `[id, deps]`. */
function writeShape(
  dir: string,
  name: string,
  tasks: Array<[string, string[]]>,
): { plan: string; makefile: string } {
  const yaml = [`version: 1`, `name: ${name}`, `max_parallel: 8`, `fail_fast: true`, `tasks:`];
  for (const [id, deps] of tasks) {
    yaml.push(`  - id: ${id}`, `    command: "true"`);
    if (deps.length > 0) yaml.push(`    depends_on: [${deps.join(", ")}]`);
  }
  const plan = join(dir, `${name}.yaml`);
  Deno.writeTextFileSync(plan, yaml.join("\n") + "\n");
  const ids = tasks.map(([id]) => id);
  const make = [`.PHONY: all ${ids.join(" ")}`, `all: ${ids.join(" ")}`];
  for (const [id, deps] of tasks) make.push(`${id}: ${deps.join(" ")}`, `\ttrue`);
  const makefile = join(dir, `${name}.mk`);
  Deno.writeTextFileSync(makefile, make.join("\n") + "\n");
  return { plan, makefile };
}

function independentTasks(n: number): Array<[string, string[]]> {
  return Array.from({ length: n }, (_, i) => [`t${i}`, []]);
}

function chainTasks(n: number): Array<[string, string[]]> {
  return Array.from({ length: n }, (_, i) => [`t${i}`, i === 0 ? [] : [`t${i - 1}`]]);
}

function diamondTasks(width: number): Array<[string, string[]]> {
  const mids = Array.from({ length: width }, (_, i) => `m${i}`);
  return [["top", []], ...mids.map((id): [string, string[]] => [id, ["top"]]), ["bottom", mids]];
}

/**
 * V8 flags maestro runs with (deno.json's `maestro` task, cli.ts's shebang): V8 sizes its heap
 * for memory rather than speed (peak RSS of a 20 000-task run: −25 to −40 %, see
 * docs/performance.md).
 */
const V8_FLAGS = "--v8-flags=--optimize-for-size";

function maestroArgv(plan: string, runDir: string): string[] {
  return [
    DENO,
    "run",
    "-A",
    "--no-prompt",
    V8_FLAGS,
    CLI,
    "run",
    plan,
    "--max-parallel",
    "8",
    "--run-dir",
    runDir,
  ];
}

function makeArgv(makefile: string): string[] {
  return ["make", "-s", "-j8", "-f", makefile];
}

/** Removes a run root (the shapes' run directories are not kept between rounds). */
function clean(path: string): void {
  try {
    Deno.removeSync(path, { recursive: true });
  } catch { /* absent */ }
}

function onlyDir(root: string): string {
  const dirs = [...Deno.readDirSync(root)].filter((e) => e.isDirectory).map((e) => e.name);
  if (dirs.length !== 1) throw new Error(`expected one run directory in ${root}, got ${dirs}`);
  return join(root, dirs[0]!);
}

/** Spawns `argv` `n` times at concurrency `c` with piped output, as maestro does. */
async function spawnFloor(argv: string[], n: number, c: number): Promise<number> {
  let started = 0;
  const env = { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" };
  const worker = async () => {
    while (started++ < n) {
      const child = new Deno.Command(argv[0]!, {
        args: argv.slice(1),
        env,
        clearEnv: true,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      await Promise.all([
        child.stdout.pipeTo(new WritableStream()),
        child.stderr.pipeTo(
          new WritableStream(),
        ),
        child.status,
      ]);
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: c }, worker));
  return (performance.now() - t0) / n;
}

/** Starts `/usr/bin/true` `n` times at concurrency `c` through maestro's spawn server. */
async function serverFloor(path: string, n: number, c: number): Promise<number> {
  const server = SpawnServer.start(path);
  const env = { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" };
  let started = 0;
  const worker = async () => {
    while (started++ < n) {
      const task = await server.spawn(
        { path: "/usr/bin/true", argv: ["true"], env, cwd: "/" },
        () => {},
      );
      await Promise.all([task.status, task.closed]);
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: c }, worker));
  const ms = (performance.now() - t0) / n;
  await server.close();
  return ms;
}

/** In-process: ms to write one task's artifacts after 0 and after `n - 1000` tasks. */
async function artifactCost(dir: string, n: number): Promise<{ first: number; last: number }> {
  const { writeJsonAtomic, sha256Hex, fileHashSync, taskFiles } = await import(
    "../lib/run/artifacts.ts"
  );
  const { LogFile } = await import("../lib/run/log_file.ts");
  const { EventBus, EventLog } = await import("../lib/run/events.ts");
  const { makeResult } = await import("../lib/run/result.ts");
  const bus = new EventBus("bench", { log: new EventLog(join(dir, "events.jsonl")) });
  const bucket: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const id = `t${i}`;
    const files = taskFiles(dir, id);
    bus.emit("task_start", { task_id: id, wave: 0, engine: "shell", model: null });
    const log = LogFile.createSync(files.log);
    log.line(`task=${id}`);
    log.line("status=success");
    await log.close();
    const result = makeResult({ task_id: id, status: "success", message: "ok" });
    const bytes = writeJsonAtomic(files.result, result);
    bus.emit("task_complete", {
      task_id: id,
      status: "success",
      exit_code: 0,
      duration_sec: 0,
      cost_usd: null,
      tokens: null,
      failure_category: null,
      message: "ok",
      log_hash: fileHashSync(files.log),
      result_hash: sha256Hex(bytes),
    });
    bucket.push(performance.now() - t0);
  }
  bus.close();
  const k = Math.min(1000, Math.floor(n / 2));
  return {
    first: figure(bucket.slice(0, k)).median,
    last: figure(bucket.slice(-k)).median,
  };
}

/** Hashes `[start, end)` of a file, streaming. */
async function hashRange(path: string, start: number, end: number): Promise<string> {
  const hash = createHash("sha256");
  const file = await Deno.open(path, { read: true });
  try {
    await file.seek(start, Deno.SeekMode.Start);
    const buffer = new Uint8Array(1 << 20);
    let left = end - start;
    while (left > 0) {
      const n = await file.read(buffer.subarray(0, Math.min(buffer.length, left)));
      if (n === null) break;
      hash.update(buffer.subarray(0, n));
      left -= n;
    }
  } finally {
    file.close();
  }
  return hash.digest("hex");
}

function readBytes(path: string, start: number, length: number): string {
  const file = Deno.openSync(path, { read: true });
  try {
    file.seekSync(start, Deno.SeekMode.Start);
    const buffer = new Uint8Array(length);
    const n = file.readSync(buffer) ?? 0;
    return new TextDecoder().decode(buffer.subarray(0, n));
  } finally {
    file.close();
  }
}

async function commandText(argv: string[]): Promise<string> {
  try {
    const out = await new Deno.Command(argv[0]!, { args: argv.slice(1), stderr: "null" })
      .output();
    return new TextDecoder().decode(out.stdout).trim();
  } catch {
    return "";
  }
}

/**
 * Runs the benchmark.
 *
 * @param options what to measure and how often
 */
export async function runBench(
  options: RunBenchOptions = defaultOptions(),
): Promise<RunBenchReport> {
  const log = (text: string) => {
    if (options.progress) console.error(`[run_bench] ${text}`);
  };
  const tmp = await Deno.makeTempDir({ prefix: "maestro-run-bench-" });
  try {
    const cpuinfo = await Deno.readTextFile("/proc/cpuinfo").catch(() => "");
    const report: RunBenchReport = {
      machine: {
        cpus: navigator.hardwareConcurrency,
        model: /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1] ?? "?",
        loadavg: (await Deno.readTextFile("/proc/loadavg").catch(() => "")).trim(),
        deno: Deno.version.deno,
        make: (await commandText(["make", "--version"])).split("\n")[0] ?? "?",
      },
      options,
      startup: {
        maestroMs: figure([0]),
        makeMs: figure([0]),
        maestroRssKiB: null,
      },
      shapes: [],
    };
    const shapes = [
      {
        name: "independent" as const,
        tasks: independentTasks(options.independent),
        units: options.independent,
      },
      { name: "chain" as const, tasks: chainTasks(options.chain), units: options.chain },
      {
        name: "diamond" as const,
        tasks: diamondTasks(options.diamond),
        units: options.diamond + 2,
      },
    ].map((shape) => ({ ...shape, files: writeShape(tmp, shape.name, shape.tasks) }));
    const one = writeShape(tmp, "one", independentTasks(1));
    const empty = join(tmp, "empty.mk");
    Deno.writeTextFileSync(empty, ".PHONY: all\nall:\n\t@:\n");

    const samples = new Map<string, Sample[]>();
    const add = (key: string, sample: Sample) => {
      if (sample.code !== 0) throw new Error(`${key} exited ${sample.code}`);
      samples.set(key, [...(samples.get(key) ?? []), sample]);
    };
    // Every run gets its own run root, removed only after the last round: deleting thousands
    // of files between runs made the next runs' file creation several times slower on the
    // benchmark machine (ext4 mounted with `discard`), a cost make never pays.
    const runRoots: string[] = [];
    const runRoot = (name: string) => {
      runRoots.push(join(tmp, `runs-${runRoots.length}-${name}`));
      return runRoots.at(-1)!;
    };
    for (let round = 0; round < options.rounds; round++) {
      log(`round ${round + 1}/${options.rounds}: start-up`);
      add("maestro:one", await measure(maestroArgv(one.plan, runRoot("one")), tmp, tmp));
      add("make:one", await measure(makeArgv(empty), tmp, tmp));
      for (const shape of shapes) {
        log(`round ${round + 1}/${options.rounds}: ${shape.name} (make, maestro)`);
        add(`make:${shape.name}`, await measure(makeArgv(shape.files.makefile), tmp, tmp));
        const runs = runRoot(shape.name);
        add(`maestro:${shape.name}`, await measure(maestroArgv(shape.files.plan, runs), tmp, tmp));
        // the last independent run's directory is kept for the footprint section
        if (shape.name === "independent" && round === options.rounds - 1) {
          Deno.renameSync(runs, join(tmp, "footprint-small"));
        }
      }
    }
    for (const root of runRoots) clean(root);
    const wall = (key: string) => figure(samples.get(key)!.map((s) => s.wallMs));
    const cpu = (key: string) => {
      const values = samples.get(key)!.map((s) => s.cpuMs).filter((v) => v !== null);
      return values.length ? figure(values as number[]).median : null;
    };
    report.startup = {
      maestroMs: wall("maestro:one"),
      makeMs: wall("make:one"),
      maestroRssKiB: samples.get("maestro:one")![0]!.rssKiB,
    };
    const maestroStart = report.startup.maestroMs.median;
    const makeStart = report.startup.makeMs.median;
    const maestroStartCpu = cpu("maestro:one");
    const makeStartCpu = cpu("make:one");
    for (const shape of shapes) {
      const m = samples.get(`maestro:${shape.name}`)!;
      const k = samples.get(`make:${shape.name}`)!;
      const perUnit = (list: Sample[], start: number) =>
        figure(list.map((s) => (s.wallMs - start) / shape.units));
      const maestroPerUnit = perUnit(m, maestroStart);
      const makePerUnit = perUnit(k, makeStart);
      const mc = cpu(`maestro:${shape.name}`);
      const kc = cpu(`make:${shape.name}`);
      report.shapes.push({
        name: shape.name,
        tasks: shape.tasks.length,
        units: shape.units,
        maestroWallMs: wall(`maestro:${shape.name}`),
        makeWallMs: wall(`make:${shape.name}`),
        maestroPerUnit,
        makePerUnit,
        ratio: maestroPerUnit.median / makePerUnit.median,
        maestroCpuPerUnit: mc !== null && maestroStartCpu !== null
          ? (mc - maestroStartCpu) / shape.units
          : null,
        makeCpuPerUnit: kc !== null && makeStartCpu !== null
          ? (kc - makeStartCpu) / shape.units
          : null,
        peakRssKiB: figure(m.map((s) => s.rssKiB ?? 0)).median || null,
      });
    }

    if (options.floor) {
      const ready = await ensureSpawnHelper();
      const helper = "path" in ready ? ready.path : undefined;
      if (!helper) {
        log(`spawn helper unavailable: ${"unavailable" in ready ? ready.unavailable : ""}`);
      }
      const spawnd = await ensureSpawnServer();
      const variants: Array<[string, string[] | (() => Promise<number>)]> = [
        ["/usr/bin/true (bare Deno spawn)", ["/usr/bin/true"]],
        ["sh -c true", ["sh", "-c", "true"]],
        ["setsid sh -c true", ["setsid", "sh", "-c", "true"]],
        ...(helper === undefined ? [] : [[
          "maestro-spawn /usr/bin/true (maestro's spawn helper: setsid + pdeathsig, one exec)",
          [helper, "/usr/bin/true", "true"],
        ] as [string, string[]]]),
        ["setpriv --pdeathsig KILL -- setsid sh -c true (the fallback chain)", [
          "setpriv",
          "--pdeathsig",
          "KILL",
          "--",
          "setsid",
          "sh",
          "-c",
          "true",
        ]],
        ...("path" in spawnd
          ? [[
            "/usr/bin/true through maestro's spawn server (what a run does)",
            () => serverFloor(spawnd.path, 400, 8),
          ] as [string, () => Promise<number>]]
          : []),
      ];
      const floor = new Map<string, number[]>();
      for (let round = 0; round < Math.max(2, options.rounds); round++) {
        log(`spawn floor round ${round + 1}`);
        for (const [name, argv] of variants) {
          const ms = typeof argv === "function" ? await argv() : await spawnFloor(argv, 400, 8);
          floor.set(name, [...(floor.get(name) ?? []), ms]);
        }
      }
      report.floor = variants.map(([name]) => ({ name, msPerSpawn: figure(floor.get(name)!) }));
    }

    if (options.footprint) {
      const files = join(tmp, "footprint");
      clean(files);
      // files and peak RSS of the independent shape's runs above (no extra run)
      const smallRss = figure(samples.get("maestro:independent")!.map((s) => s.rssKiB ?? 0))
        .median || null;
      const smallDir = onlyDir(join(tmp, "footprint-small"));
      const names = [...Deno.readDirSync(smallDir)].map((e) => e.name);
      const fixed = new Set(["events.jsonl", "run_manifest.json", "run_summary.md"]);
      const taskFilesCount = names.filter((n) =>
        !fixed.has(n) && (n.endsWith(".log") || n.endsWith(".result.json"))
      ).length;
      const stray = names.filter((n) =>
        !fixed.has(n) && !n.endsWith(".log") && !n.endsWith(".result.json")
      ).length;
      clean(join(tmp, "footprint-small"));
      let rssBig: number | null = null;
      let bigWall = 0;
      let firstRate = 0;
      let lastRate = 0;
      if (options.big > 0) {
        log(`footprint: ${options.big}-task run`);
        const big = writeShape(tmp, "big", independentTasks(options.big));
        const sample = await measure(maestroArgv(big.plan, files), tmp, tmp);
        if (sample.code !== 0) throw new Error(`big run exited ${sample.code}`);
        rssBig = sample.rssKiB;
        bigWall = sample.wallMs;
        const dir = onlyDir(files);
        const finished: number[] = [];
        for (let i = 0; i < options.big; i++) {
          const result = JSON.parse(Deno.readTextFileSync(join(dir, `t${i}.result.json`)));
          finished.push(Date.parse(result.finished_at.replace(/\.(\d{3})\d*\+/, ".$1+")));
        }
        finished.sort((a, b) => a - b);
        const tenth = Math.floor(options.big / 10);
        const rate = (from: number, to: number) =>
          (to - from) / Math.max(1, (finished[to]! - finished[from]!) / 1000);
        firstRate = rate(0, tenth);
        lastRate = rate(options.big - 1 - tenth, options.big - 1);
        clean(files);
      }
      log(`footprint: artifact writing cost, in process`);
      const artifactsDir = join(tmp, "artifacts");
      Deno.mkdirSync(artifactsDir);
      const cost = await artifactCost(artifactsDir, Math.max(options.big, 2000));
      clean(artifactsDir);
      const bigTasks = options.big;
      report.footprint = {
        tasks: options.independent,
        filesPerTask: taskFilesCount / options.independent,
        strayFiles: stray,
        rss2kKiB: smallRss,
        rssBigKiB: rssBig,
        rssGrowthPerTaskKiB: rssBig !== null && smallRss !== null && bigTasks > options.independent
          ? (rssBig - smallRss) / (bigTasks - options.independent)
          : null,
        bigWallMs: bigWall,
        bigMsPerTask: bigTasks > 0 ? (bigWall - maestroStart) / bigTasks : 0,
        firstTenthTasksPerSec: firstRate,
        lastTenthTasksPerSec: lastRate,
        artifactMsFirst: cost.first,
        artifactMsLast: cost.last,
      };
    }

    if (options.stream) {
      const lines = Math.floor(options.streamMiB * 1024 * 1024 / 100);
      const line = "maestro-bench-stream-".padEnd(99, "x");
      const gen = `yes ${line} | head -n ${lines}`;
      const bytes = lines * 100;
      const streamPlan = join(tmp, "stream.yaml");
      Deno.writeTextFileSync(
        streamPlan,
        `version: 1\nname: stream\ntasks:\n  - id: big\n    command: "${gen}"\n`,
      );
      const files = join(tmp, "stream-runs");
      log(`stream: ${options.streamMiB} MiB through maestro`);
      const run = await measure(maestroArgv(streamPlan, files), tmp, tmp);
      const dir = onlyDir(files);
      const logPath = join(dir, "big.log");
      const size = Deno.statSync(logPath).size;
      const head = readBytes(logPath, 0, 4096);
      const bodyStart = new TextEncoder().encode(head.slice(0, head.indexOf("\n\n") + 2)).length;
      const tailStart = Math.max(0, size - 4096);
      const tail = readBytes(logPath, tailStart, 4096);
      // the footer is a blank line, `status=…`, `message=…`
      const footer = new TextEncoder().encode(tail.slice(tail.lastIndexOf("\nstatus="))).length;
      const bodyEnd = size - footer;
      const logHash = await hashRange(logPath, bodyStart, bodyEnd);
      const expected = await commandText(["sh", "-c", `${gen} | sha256sum`]);
      clean(files);
      const out = join(tmp, "redirect.out");
      const redirect = await measure(["sh", "-c", `${gen} > ${out}`], tmp, tmp);
      const cat = await measure(["sh", "-c", `${gen} | cat > ${out}`], tmp, tmp);
      clean(out);
      const mb = bytes / 1e6;
      const maestroMs = run.wallMs - maestroStart;
      report.stream = {
        bytes,
        logBodyBytes: bodyEnd - bodyStart,
        checksumMatch: expected.split(" ")[0] === logHash && bodyEnd - bodyStart === bytes,
        maestroWallMs: run.wallMs,
        maestroMBps: mb / (maestroMs / 1000),
        peakRssKiB: run.rssKiB,
        idleRssKiB: report.startup.maestroRssKiB,
        redirectMBps: mb / (redirect.wallMs / 1000),
        catMBps: mb / (cat.wallMs / 1000),
      };
    }
    return report;
  } finally {
    clean(tmp);
  }
}

const f1 = (n: number | null | undefined) => n === null || n === undefined ? "–" : n.toFixed(1);
const f2 = (n: number | null | undefined) => n === null || n === undefined ? "–" : n.toFixed(2);
const mib = (kib: number | null | undefined) =>
  kib === null || kib === undefined ? "–" : `${(kib / 1024).toFixed(1)} MiB`;

/** Renders the report as Markdown. */
export function formatReport(report: RunBenchReport): string {
  const out: string[] = [];
  const m = report.machine;
  out.push(`## maestro run benchmark`, "");
  out.push(
    `${m.cpus} CPUs (${m.model}), load ${m.loadavg}, Deno ${m.deno}, ${m.make}; ` +
      `median of ${report.options.rounds} interleaved round(s).`,
    "",
  );
  out.push(
    `Start-up (subtracted below): maestro 1-task run ${f1(report.startup.maestroMs.median)} ms ` +
      `(peak RSS ${mib(report.startup.maestroRssKiB)}), make ${
        f1(report.startup.makeMs.median)
      } ms.`,
    "",
  );
  out.push(
    "| shape (max_parallel 8, `true`) | maestro total | make -j8 total | maestro | make -j8 | ratio | target | met | CPU maestro / make |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  );
  for (const s of report.shapes) {
    const t = TARGETS[s.name];
    out.push(
      `| ${s.name} (${s.tasks} tasks) | ${f1(s.maestroWallMs.median / 1000)} s | ${
        f1(s.makeWallMs.median / 1000)
      } s | ${f2(s.maestroPerUnit.median)} ${t.unit} | ${f2(s.makePerUnit.median)} ${t.unit} | ${
        f2(s.ratio)
      }x | ≤ ${t.maxRatio}x | ${s.ratio <= t.maxRatio ? "yes" : "no"} | ${
        f2(s.maestroCpuPerUnit)
      } / ${f2(s.makeCpuPerUnit)} ${t.unit} |`,
    );
  }
  if (report.floor) {
    out.push(
      "",
      "| Deno spawn floor (400 spawns, concurrency 8, piped) | ms/spawn |",
      "| --- | --- |",
    );
    for (const f of report.floor) out.push(`| ${f.name} | ${f2(f.msPerSpawn.median)} |`);
  }
  const fp = report.footprint;
  if (fp) {
    out.push("", "| footprint | value |", "| --- | --- |");
    out.push(
      `| files per task (${fp.tasks}-task run) | ${
        f2(fp.filesPerTask)
      } (stray: ${fp.strayFiles}) |`,
    );
    out.push(`| peak RSS, ${fp.tasks} tasks | ${mib(fp.rss2kKiB)} |`);
    out.push(`| peak RSS, ${report.options.big} tasks | ${mib(fp.rssBigKiB)} |`);
    out.push(`| RSS growth per task | ${f2(fp.rssGrowthPerTaskKiB)} KiB |`);
    out.push(
      `| ${report.options.big}-task run | ${f1(fp.bigWallMs / 1000)} s, ${
        f2(fp.bigMsPerTask)
      } ms/task |`,
    );
    out.push(
      `| tasks/s, first vs last tenth of that run | ${f1(fp.firstTenthTasksPerSec)} / ${
        f1(fp.lastTenthTasksPerSec)
      } |`,
    );
    out.push(
      `| artifact writing per task (in process), first 1 000 vs last 1 000 | ${
        f2(fp.artifactMsFirst)
      } / ${f2(fp.artifactMsLast)} ms |`,
    );
  }
  const st = report.stream;
  if (st) {
    out.push("", "| streaming one task's stdout | value |", "| --- | --- |");
    out.push(`| bytes printed / log body | ${st.bytes} / ${st.logBodyBytes} |`);
    out.push(`| size and SHA-256 match | ${st.checksumMatch ? "yes" : "NO"} |`);
    out.push(`| maestro throughput (start-up subtracted) | ${f1(st.maestroMBps)} MB/s |`);
    out.push(
      `| \`gen > file\` / \`gen \\| cat > file\` | ${f1(st.redirectMBps)} / ${
        f1(st.catMBps)
      } MB/s |`,
    );
    out.push(
      `| maestro peak RSS (1-task idle run) | ${mib(st.peakRssKiB)} (${mib(st.idleRssKiB)}) |`,
    );
  }
  return out.join("\n") + "\n";
}

/** Parses the command line. */
export function parseRunBenchArgs(args: readonly string[]): RunBenchOptions & { json?: string } {
  const { values } = parseArgs({
    args: [...args],
    options: {
      quick: { type: "boolean", default: false },
      rounds: { type: "string" },
      big: { type: "string" },
      "stream-mib": { type: "string" },
      "no-footprint": { type: "boolean", default: false },
      "no-stream": { type: "boolean", default: false },
      "no-floor": { type: "boolean", default: false },
      json: { type: "string" },
    },
  });
  const options = defaultOptions(values.quick);
  if (values.rounds) options.rounds = Math.max(1, Number(values.rounds));
  if (values.big) options.big = Number(values.big);
  if (values["stream-mib"]) options.streamMiB = Number(values["stream-mib"]);
  options.footprint = !values["no-footprint"];
  options.stream = !values["no-stream"];
  options.floor = !values["no-floor"];
  return { ...options, json: values.json };
}

/** Command-line entry point. */
export async function main(args: readonly string[]): Promise<void> {
  const { json, ...options } = parseRunBenchArgs(args);
  const report = await runBench(options);
  console.log(formatReport(report));
  if (json) await Deno.writeTextFile(json, JSON.stringify(report, null, 2) + "\n");
}

if (import.meta.main) await main(Deno.args);

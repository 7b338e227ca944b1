/**
 * `maestro doctor [--json] [--plan plan.yaml] [--db path|url]`: can plans run here? Deno and
 * Maestro versions, the OS, each engine CLI (found or not, its version, its auth variables),
 * the spawn helper, the run store and the run folder; with `--plan`, the engines that plan uses.
 *
 * Exit codes: 0 nothing blocks a run; 1 something does (an engine the plan uses is missing or
 * its custom module does not load, the run folder is not writable, the store location is
 * invalid); 2 the plan is invalid or the command line is wrong. Engines that no plan uses are
 * reported but never fail the check.
 *
 * @module
 */
import denoJson from "../../deno.json" with { type: "json" };
import type { Engine } from "../../engines/types.ts";
import { EXIT, MaestroError, type PlanIssue } from "../errors.ts";
import type { TaskIR } from "../plan/ir.ts";
import { loadPlan } from "../plan/load.ts";
import { customEngineModules, importEngine } from "../run/custom_engines.ts";
import { flattenGroups } from "../run/groups.ts";
import {
  checkEngines,
  checkRunDir,
  checkSpawnHelper,
  checkSpawnServer,
  checkStore,
  type EngineCheck,
  type RunDirCheck,
  type SpawnCheck,
  type SpawnServerCheck,
  type StoreCheck,
} from "./doctor_checks.ts";
import { displayPath, issueJson, issueLines, paint, printJson } from "./output.ts";
import { resolve } from "../path.ts";

/** Options of `maestro doctor`. */
export interface DoctorOptions {
  /** Print one JSON document ({@linkcode DoctorReport}). */
  json?: boolean;
  /** A plan whose engines must all be usable. */
  plan?: string;
  /** `--db <path|url>`: the run store to report (else MAESTRO_DB_URL, else the default). */
  db?: string;
}

/** The `--plan` part of the report. */
export interface PlanCheck {
  /** The plan file as given. */
  path: string;
  /** Whether it loaded without errors. */
  valid: boolean;
  /** Plan name (null when invalid). */
  name: string | null;
  /** Its errors (`maestro validate` shows the same). */
  errors: PlanIssue[];
  /** Engines its tasks run on (group sub-plans included), in first-use order. */
  engines: string[];
  /** Those of them that cannot be used here. */
  missing: string[];
}

/** What `maestro doctor --json` prints. */
export interface DoctorReport {
  /** True when nothing blocks a run (exit code 0). */
  ok: boolean;
  /** The running Maestro. */
  maestro: { version: string };
  /** The Deno runtime. */
  deno: { version: string; v8: string; typescript: string };
  /** The machine. */
  os: { os: string; arch: string; release: string };
  /** Every built-in engine, then the plan's custom engines. */
  engines: EngineCheck[];
  /** The spawn helper (setsid + parent-death signal for every task). */
  spawn_helper: SpawnCheck;
  /** The spawn server (starts tasks without blocking maestro; Deno's spawn otherwise). */
  spawn_server: SpawnServerCheck;
  /** The run store's location. */
  store: StoreCheck;
  /** The folder runs are created in (the plan's `run_dir`, else `.maestro-runs`). */
  run_dir: RunDirCheck;
  /** The `--plan` check, or null. */
  plan: PlanCheck | null;
  /** What blocks a run, one sentence each. */
  problems: string[];
  /** What may go wrong but does not block a run. */
  warnings: string[];
}

function group(ids: Iterable<[string, string]>): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const [name, id] of ids) map.set(name, [...(map.get(name) ?? []), id]);
  return map;
}

interface PlanFacts {
  check: PlanCheck;
  tasks: TaskIR[];
  runDir?: string;
}

async function examinePlan(path: string): Promise<PlanFacts> {
  const outcome = await loadPlan(path);
  if (!outcome.plan) {
    return {
      check: { path, valid: false, name: null, errors: outcome.errors, engines: [], missing: [] },
      tasks: [],
    };
  }
  const tasks = flattenGroups(outcome.plan.ir.tasks).tasks;
  const engines = [...new Set(tasks.flatMap((t) => t.engine ? [t.engine] : []))];
  return {
    check: { path, valid: true, name: outcome.plan.ir.name, errors: [], engines, missing: [] },
    tasks,
    runDir: outcome.plan.ir.run_dir,
  };
}

async function loadCustomEngines(tasks: readonly TaskIR[], problems: string[]) {
  let modules: Map<string, string>;
  try {
    modules = customEngineModules(tasks);
  } catch (error) {
    problems.push((error as Error).message);
    return [];
  }
  return await Promise.all(
    [...modules].map(async ([name, module]) => {
      try {
        const engine: Engine = await importEngine(name, module);
        return { name, module, engine };
      } catch (error) {
        const message = error instanceof MaestroError
          ? error.message.replace(`custom engine "${name}": `, "")
          : String(error);
        return { name, module, error: message };
      }
    }),
  );
}

function usedBy(check: EngineCheck): string {
  const ids = check.used_by;
  return ids.length <= 3
    ? ids.join(", ")
    : `${ids.slice(0, 3).join(", ")} and ${ids.length - 3} more`;
}

function judge(report: DoctorReport): void {
  const { problems, warnings } = report;
  for (const engine of report.engines) {
    const used = engine.used_by.length > 0;
    if (engine.kind === "custom" && engine.error) {
      problems.push(`custom engine "${engine.name}" (used by ${usedBy(engine)}): ${engine.error}`);
    } else if (used && !engine.found) {
      problems.push(
        `${engine.name}: '${engine.binary}' is not on PATH (used by ${usedBy(engine)})` +
          (engine.install ? `; install it with \`${engine.install}\`` : ""),
      );
    } else if (!used && engine.fallback_for.length > 0 && !engine.found) {
      warnings.push(
        `${engine.name}: '${engine.binary}' is not on PATH, so the fallback of ` +
          `${engine.fallback_for.join(", ")} cannot run`,
      );
    }
    if (used && engine.found && engine.auth.vars.length > 0 && engine.auth.set.length === 0) {
      warnings.push(
        `${engine.name}: none of ${engine.auth.vars.join(", ")} is set ` +
          "(fine when the CLI is logged in on its own)",
      );
    }
    if (used && (!engine.found || engine.error)) report.plan?.missing.push(engine.name);
  }
  if (report.store.error) problems.push(`run store: ${report.store.error}`);
  if (!report.run_dir.writable) problems.push(`run dir: ${report.run_dir.error}`);
  if (!report.spawn_helper.available) {
    warnings.push(
      `spawn helper unavailable (${report.spawn_helper.reason}): ` +
        (report.spawn_helper.fallback
          ? `tasks start through \`${report.spawn_helper.fallback}\` instead (slower)`
          : "tasks get no own session and no parent-death signal"),
    );
  }
  if (!report.spawn_server.available) {
    warnings.push(
      `spawn server unavailable (${report.spawn_server.reason}): ` +
        "tasks start through Deno's own spawn instead (slower per task)",
    );
  }
  if (report.plan && !report.plan.valid) {
    const n = report.plan.errors.length;
    problems.push(`plan ${report.plan.path} is not valid (${n} error${n === 1 ? "" : "s"})`);
  }
}

/**
 * Gathers the report: loads the plan and its custom engines, then checks the engines (their
 * `--version` calls in parallel), the spawn helper and the run folder at the same time.
 *
 * @param options the plan and store to check
 */
export async function doctorReport(options: DoctorOptions = {}): Promise<DoctorReport> {
  const problems: string[] = [];
  const facts = options.plan ? await examinePlan(options.plan) : undefined;
  const tasks = facts?.tasks ?? [];
  const custom = await loadCustomEngines(tasks, problems);
  const runDir = facts?.runDir ?? resolve(Deno.cwd(), ".maestro-runs");
  const [engines, spawn, spawnServer, runDirCheck] = await Promise.all([
    checkEngines({
      custom,
      usedBy: group(tasks.flatMap((t) => t.engine ? [[t.engine, t.id] as [string, string]] : [])),
      fallbackFor: group(
        tasks.flatMap((t) =>
          typeof t.fallback_engine === "string"
            ? [[t.fallback_engine, t.id] as [string, string]]
            : []
        ),
      ),
    }),
    checkSpawnHelper(),
    checkSpawnServer(),
    checkRunDir(runDir),
  ]);
  const report: DoctorReport = {
    ok: false,
    maestro: { version: denoJson.version },
    deno: { version: Deno.version.deno, v8: Deno.version.v8, typescript: Deno.version.typescript },
    os: { os: Deno.build.os, arch: Deno.build.arch, release: Deno.osRelease() },
    engines,
    spawn_helper: spawn,
    spawn_server: spawnServer,
    store: checkStore({ db: options.db, plan: facts?.check.valid ? options.plan : undefined }),
    run_dir: runDirCheck,
    plan: facts?.check ?? null,
    problems,
    warnings: [],
  };
  judge(report);
  report.ok = report.problems.length === 0;
  return report;
}

const OK = () => paint("✓", "green");
const BAD = () => paint("✗", "red");
const INFO = () => paint("·", "dim");
const WARN = () => paint("!", "yellow");

function engineLine(engine: EngineCheck): string {
  const name = engine.name.padEnd(8);
  const parts: string[] = [];
  if (engine.kind === "custom") {
    parts.push(`custom (${displayPath(engine.module ?? "")})`);
    if (engine.error) parts.push(engine.error);
    else {parts.push(
        engine.found ? `${engine.binary} at ${engine.path}` : `'${engine.binary}' not on PATH`,
      );}
  } else if (engine.found) {
    const version = engine.version ?? `version unknown: ${engine.version_error}`;
    parts.push(`${version} at ${engine.path}`);
    parts.push(
      engine.auth.vars.length === 0
        ? "auth: not needed"
        : engine.auth.set.length > 0
        ? `auth: ${engine.auth.set.join(", ")}`
        : `auth: none of ${engine.auth.vars.join(", ")}`,
    );
  } else {
    parts.push(
      `'${engine.binary}' not found${engine.install ? `; install: ${engine.install}` : ""}`,
    );
  }
  if (engine.used_by.length > 0) parts.push(`used by ${usedBy(engine)}`);
  if (engine.fallback_for.length > 0) parts.push(`fallback of ${engine.fallback_for.join(", ")}`);
  // a missing engine is a problem only for a plan that uses it (the summary agrees)
  const mark = engine.error
    ? BAD()
    : engine.found
    ? OK()
    : engine.used_by.length > 0
    ? BAD()
    : engine.fallback_for.length > 0
    ? WARN()
    : INFO();
  return `  ${mark} ${name} ${parts.join(" · ")}`;
}

function storeLine(store: StoreCheck): string {
  if (store.error) return `  ${BAD()} run store     ${store.error}`;
  if (!store.location) {
    return `  ${INFO()} run store     none yet (maestro run creates .maestro/maestro.db beside the plan)`;
  }
  const from = {
    "--db": "from --db",
    MAESTRO_DB_URL: "from MAESTRO_DB_URL",
    plan: "beside the plan",
    found: "nearest to the current folder",
    none: "",
  }[store.source];
  const state = store.exists === false ? "; created on the first run" : "";
  return `  ${OK()} run store     ${store.location} (${from}${state})`;
}

function printReport(report: DoctorReport): void {
  const planGiven = report.plan !== null;
  console.log(paint("Maestro doctor", "bold"));
  console.log(`  ${OK()} maestro       ${report.maestro.version}`);
  console.log(
    `  ${OK()} deno          ${report.deno.version} (V8 ${report.deno.v8}, TypeScript ${report.deno.typescript})`,
  );
  console.log(`  ${OK()} os            ${report.os.os} ${report.os.arch} (${report.os.release})`);
  console.log("");
  console.log(paint("Engines", "bold"));
  for (const engine of report.engines) console.log(engineLine(engine));
  console.log("");
  console.log(paint("Runtime", "bold"));
  const spawn = report.spawn_helper;
  console.log(
    spawn.available
      ? `  ${OK()} spawn helper  ${spawn.path}`
      : `  ${WARN()} spawn helper  unavailable (${spawn.reason}); using ${
        spawn.fallback ?? "nothing"
      }`,
  );
  const server = report.spawn_server;
  console.log(
    server.available
      ? `  ${OK()} spawn server  ${server.path}`
      : `  ${WARN()} spawn server  unavailable (${server.reason}); using Deno's spawn`,
  );
  console.log(storeLine(report.store));
  const dir = report.run_dir;
  console.log(
    dir.writable
      ? `  ${OK()} run dir       ${displayPath(dir.path)} (writable${
        dir.exists ? "" : "; created on the first run"
      })`
      : `  ${BAD()} run dir       ${displayPath(dir.path)}: ${dir.error}`,
  );
  if (report.plan) {
    const plan = report.plan;
    console.log("");
    console.log(paint(`Plan ${displayPath(plan.path)}`, "bold"));
    if (!plan.valid) {
      console.log(`  ${BAD()} not valid: see the errors below (maestro validate shows the same)`);
    } else {
      console.log(`  ${OK()} name          ${plan.name}`);
      const missing = new Set(plan.missing);
      const listed = plan.engines.map((e) => missing.has(e) ? `${e} (missing)` : e);
      console.log(
        `  ${missing.size > 0 ? BAD() : OK()} engines       ${listed.join(", ") || "none"}`,
      );
    }
  }
  console.log("");
  for (const warning of report.warnings) console.log(`${WARN()} ${warning}`);
  if (report.ok) {
    console.log(`${OK()} ${planGiven ? "the plan can run here" : "no problems found"}`);
  } else {
    const n = report.problems.length;
    console.log(paint(`✗ ${n} problem${n === 1 ? "" : "s"}:`, "red"));
    for (const problem of report.problems) console.log(`  - ${problem}`);
  }
}

/** `maestro doctor`. */
export async function doctorCommand(options: DoctorOptions = {}): Promise<number> {
  const report = await doctorReport(options);
  const invalidPlan = report.plan !== null && !report.plan.valid;
  if (options.json) {
    printJson({
      ...report,
      plan: report.plan && { ...report.plan, errors: report.plan.errors.map(issueJson) },
    });
  } else {
    printReport(report);
    for (const error of report.plan?.errors ?? []) console.error(issueLines(error, "error"));
  }
  if (invalidPlan) return EXIT.invalid;
  return report.ok ? EXIT.ok : EXIT.failed;
}

/**
 * `maestro eval <eval.yaml> <run-dir>`: re-grade a finished run's recorded outputs with new
 * assertions, guards or judges, without re-running any agent. Each task's recorded output is
 * its result's `stdout_tail` (an engine task's final text), with its `cost_usd` and
 * `duration_sec`; workspace assertions look at the task's workdir (from its `.log` header) as
 * it is now. LLM judges make side calls through the engine they name.
 *
 * eval.yaml:
 * ```yaml
 * version: 1                 # optional, only 1
 * defaults:                  # optional: merged under every grade's judge
 *   judge: {engine: codex, model: gpt-5.4-mini}
 * grades:
 *   - task: build            # a task id, a glob (`lint-*`, `*`), or a list of them
 *     guard_command: grep -q OK
 *     assert: [{type: file_contains, path: out.txt, pattern: done}]
 *     judge: {criteria: [{type: contains, value: OK}], pass_threshold: 1}
 *     workdir: ../repo       # optional: where assertions and the guard run (relative to eval.yaml)
 * ```
 *
 * @module
 */
import { dirname, isAbsolute, join, resolve } from "../path.ts";
import type { PlanIssue } from "../errors.ts";
import type { TaskIR } from "../plan/ir.ts";
import { parseYaml } from "../plan/yaml.ts";
import { builtinEngines, type EngineRegistry } from "../run/engine_executor.ts";
import type { EventBus } from "../run/events.ts";
import { LogFile } from "../run/log_file.ts";
import { type GateRecord, makeResult, type SideCallUsage, type TaskResult } from "../run/result.ts";
import type { Masker } from "../security/mask.ts";
import { judgeProblems } from "./judge_config.ts";
import { GateRunner } from "./runner.ts";
import type { Verdict } from "./types.ts";
import { globToRegExp, workspaceAssertionProblem } from "./workspace_assertions.ts";

/** One grade of an eval file. */
export interface EvalGrade {
  /** Task ids or globs it applies to. */
  tasks: string[];
  guard_command?: string | string[];
  assert?: Record<string, unknown>[];
  judge?: Record<string, unknown>;
  /** Absolute workdir override. */
  workdir?: string;
}

/** A parsed eval file. */
export interface EvalFile {
  path: string;
  grades: EvalGrade[];
}

/** The grade of one task. */
export interface TaskGrade {
  /** 1-based position of the grade in the eval file. */
  grade: number;
  task_id: string;
  /** The worst verdict of its gates. */
  verdict: Verdict;
  /** The recorded status of the task in the run. */
  recorded_status: string;
  gates: GateRecord[];
  /** The first failing gate's message, or "". */
  message: string;
  /** Tokens and cost of the grade's LLM calls. */
  side_calls: Record<string, SideCallUsage>;
  cost_usd: number | null;
}

/** The whole eval. */
export interface EvalReport {
  eval: string;
  run: string;
  /** No grade failed or errored (and, with `strict`, none warned). */
  passed: boolean;
  grades: TaskGrade[];
  /** Sum of the LLM calls' cost (null: none reported one). */
  cost_usd: number | null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

const GRADE_KEYS = new Set(["task", "tasks", "guard_command", "assert", "judge", "workdir"]);

/**
 * Reads and checks an eval file. Problems come back as issues with line and column.
 *
 * @param path the eval.yaml
 */
export function loadEvalFile(path: string): { file?: EvalFile; issues: PlanIssue[] } {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (error) {
    return {
      issues: [{
        code: "E001",
        message: `cannot read eval file: ${(error as Error).message}`,
        file: path,
        line: 0,
        column: 0,
      }],
    };
  }
  const parsed = parseYaml(text, path);
  if (parsed.errors.length > 0) return { issues: parsed.errors };
  const issues: PlanIssue[] = [];
  const at = (where: (string | number)[], code: string, message: string, hint?: string) =>
    issues.push({
      code,
      message,
      file: path,
      ...parsed.sourceMap.locate(where),
      ...(hint ? { hint } : {}),
    });
  const data = parsed.data;
  if (!isRecord(data)) {
    at([], "E018", "an eval file must be a mapping with `grades:`");
    return { issues };
  }
  if (data.version !== undefined && data.version !== 1) {
    at(["version"], "E002", `eval file version ${String(data.version)} is not supported`);
  }
  const defaults = isRecord(data.defaults) && isRecord(data.defaults.judge)
    ? data.defaults.judge
    : {};
  const list = data.grades;
  if (!Array.isArray(list) || list.length === 0) {
    at(["grades"], "E001", "an eval file needs a non-empty `grades:` list");
    return { issues };
  }
  const grades: EvalGrade[] = [];
  const baseDir = dirname(resolve(path));
  list.forEach((raw, i) => {
    if (!isRecord(raw)) {
      at(["grades", i], "E018", "a grade must be a mapping");
      return;
    }
    for (const key of Object.keys(raw)) {
      if (!GRADE_KEYS.has(key)) {
        at(["grades", i, key], "E018", `unknown grade key '${key}'`, [...GRADE_KEYS].join(", "));
      }
    }
    const task = raw.task ?? raw.tasks;
    const tasks = typeof task === "string" ? [task] : Array.isArray(task) ? task.map(String) : [];
    if (tasks.length === 0) {
      at(["grades", i], "E001", "a grade needs `task:` (an id, a glob or a list)");
    }
    if (raw.guard_command === undefined && raw.assert === undefined && raw.judge === undefined) {
      at(["grades", i], "E001", "a grade needs guard_command, assert or judge");
    }
    const grade: EvalGrade = { tasks };
    const guard = raw.guard_command;
    if (
      typeof guard === "string" ||
      (Array.isArray(guard) && guard.every((g) => typeof g === "string"))
    ) {
      grade.guard_command = guard as string | string[];
    } else if (guard !== undefined) {
      at(["grades", i, "guard_command"], "E018", "guard_command must be a string or a list");
    }
    if (raw.assert !== undefined) {
      if (!Array.isArray(raw.assert)) {
        at(["grades", i, "assert"], "E018", "assert must be a list");
      } else {
        raw.assert.forEach((spec, j) => {
          const problem = isRecord(spec)
            ? workspaceAssertionProblem(spec)
            : "an assertion must be a mapping";
          if (problem) at(["grades", i, "assert", j], "E018", `assert: ${problem}`);
        });
        grade.assert = raw.assert.filter(isRecord);
      }
    }
    if (raw.judge !== undefined) {
      if (!isRecord(raw.judge)) {
        at(["grades", i, "judge"], "E020", "judge must be a mapping");
      } else {
        const judge = { ...defaults, ...raw.judge };
        if (judge.criteria == null && judge.preset == null) {
          at(["grades", i, "judge"], "E020", "judge needs criteria or a preset");
        }
        for (const p of judgeProblems(judge)) {
          at(["grades", i, "judge", ...p.field], p.code, p.message, p.hint);
        }
        grade.judge = judge;
      }
    }
    if (typeof raw.workdir === "string") {
      grade.workdir = isAbsolute(raw.workdir) ? raw.workdir : resolve(baseDir, raw.workdir);
    }
    grades.push(grade);
  });
  return issues.length > 0 ? { issues } : { file: { path, grades }, issues };
}

/** What a finished run recorded of one task. */
export interface RecordedTask {
  result: TaskResult;
  /** The task's workdir from its log header, if the log is there. */
  workdir: string | null;
}

/** The task results of a run directory, in manifest order when there is one. */
export function readRun(runDir: string): Map<string, RecordedTask> {
  const tasks = new Map<string, RecordedTask>();
  const results: TaskResult[] = [];
  try {
    const manifest = JSON.parse(Deno.readTextFileSync(join(runDir, "run_manifest.json")));
    for (const r of Object.values(manifest.task_results ?? {})) results.push(r as TaskResult);
  } catch {
    // an interrupted run has no manifest: its result files are the record
    for (const entry of [...Deno.readDirSync(runDir)].sort((a, b) => a.name < b.name ? -1 : 1)) {
      if (!entry.name.endsWith(".result.json")) continue;
      try {
        results.push(JSON.parse(Deno.readTextFileSync(join(runDir, entry.name))));
      } catch {
        // a half-written or foreign file: skipped
      }
    }
  }
  for (const result of results) {
    let workdir: string | null = null;
    if (result.log_path) {
      try {
        const head = Deno.readTextFileSync(result.log_path).slice(0, 4096);
        workdir = /^workdir=(.*)$/m.exec(head)?.[1] ?? null;
      } catch {
        // the log is gone: assertions need a workdir override
      }
    }
    tasks.set(result.task_id, { result, workdir });
  }
  return tasks;
}

const RANK: Record<Verdict, number> = { pass: 0, warn: 1, fail: 2, error: 3 };

/** Options for {@linkcode runEval}. */
export interface RunEvalOptions {
  /** Child env of guards and judge calls (the allowlisted parent env). */
  env: Record<string, string>;
  /** Maestro's own environment. */
  parentEnv: Readonly<Record<string, string>>;
  /** Secret masker. */
  mask: Masker;
  /** Events (side_call, judge_result, gate_result) go here. */
  bus: EventBus;
  /** Cancels the eval. */
  signal: AbortSignal;
  /** Engine adapters. @default {builtinEngines} */
  engines?: EngineRegistry;
  /** A warn verdict fails the eval too. */
  strict?: boolean;
}

/**
 * Grades every task an eval file selects in a run directory.
 *
 * @param file the parsed eval file
 * @param runDir the run directory
 * @param options env, masker, events
 */
export async function runEval(
  file: EvalFile,
  runDir: string,
  options: RunEvalOptions,
): Promise<EvalReport> {
  const recorded = readRun(runDir);
  const grades: TaskGrade[] = [];
  const scratch = await Deno.makeTempDir({ prefix: "maestro-eval-" });
  try {
    for (const [index, grade] of file.grades.entries()) {
      const ids = selectTasks(grade.tasks, [...recorded.keys()]);
      for (const id of ids.found) {
        const graded = await gradeTask(grade, id, recorded.get(id)!, scratch, options);
        grades.push({ grade: index + 1, ...graded });
      }
      for (const missing of ids.missing) {
        grades.push({
          grade: index + 1,
          task_id: missing,
          verdict: "error",
          recorded_status: "missing",
          gates: [],
          message: `no task matches '${missing}' in ${runDir}`,
          side_calls: {},
          cost_usd: null,
        });
      }
    }
  } finally {
    await Deno.remove(scratch, { recursive: true }).catch(() => {});
  }
  let cost: number | null = null;
  for (const g of grades) if (g.cost_usd !== null) cost = (cost ?? 0) + g.cost_usd;
  const worst = options.strict ? RANK.warn : RANK.fail;
  return {
    eval: file.path,
    run: runDir,
    passed: grades.every((g) => RANK[g.verdict] < worst),
    grades,
    cost_usd: cost === null ? null : Math.round(cost * 1e9) / 1e9,
  };
}

/** The ids a grade's patterns select (in run order), and patterns that select nothing. */
export function selectTasks(
  patterns: readonly string[],
  ids: readonly string[],
): { found: string[]; missing: string[] } {
  const found = new Set<string>();
  const missing: string[] = [];
  for (const pattern of patterns) {
    const re = /[*?[{]/.test(pattern) ? globToRegExp(pattern) : undefined;
    const hits = ids.filter((id) => re ? re.test(id) : id === pattern);
    if (hits.length === 0) missing.push(pattern);
    for (const hit of hits) found.add(hit);
  }
  return { found: ids.filter((id) => found.has(id)), missing };
}

async function gradeTask(
  grade: EvalGrade,
  id: string,
  recorded: RecordedTask,
  scratch: string,
  options: RunEvalOptions,
): Promise<Omit<TaskGrade, "grade">> {
  const { result } = recorded;
  const workdir = grade.workdir ?? recorded.workdir ?? Deno.cwd();
  const task: TaskIR = {
    id,
    kind: result.engine ? "engine" : "shell",
    description: "",
    tags: [],
    depends_on: [],
    workdir,
    env: {},
    timeout_sec: 1800,
    stdout_tail_lines: 50,
    allow_failure: false,
    max_retries: 0,
    retry_delay_sec: 0,
    retry_strategy: "constant",
    cache: false,
    context_from: [],
    requires_approval: false,
    origin: { file: "<eval>", line: 0, column: 0 },
  };
  if (result.engine) task.engine = result.engine;
  if (grade.guard_command !== undefined) task.guard_command = grade.guard_command;
  if (grade.assert !== undefined) task.assert = grade.assert;
  if (grade.judge !== undefined) task.judge = grade.judge;
  const log = LogFile.createSync(join(scratch, `${grades(id)}.log`), options.mask);
  const runner = new GateRunner({
    task,
    env: options.env,
    parentEnv: options.parentEnv,
    log,
    bus: options.bus,
    signal: options.signal,
    mask: options.mask,
    engines: options.engines ?? builtinEngines,
  });
  let failure: Awaited<ReturnType<GateRunner["run"]>>;
  try {
    failure = await runner.run(1, {
      output: result.stdout_tail ?? "",
      costUsd: result.cost_usd ?? null,
      durationSec: result.duration_sec ?? 0,
    });
  } finally {
    await log.close();
  }
  const totals = runner.applyTo(makeResult({ task_id: id, status: "success", message: "" }));
  const verdict = runner.records.reduce<Verdict>(
    (worst, r) => RANK[r.verdict] > RANK[worst] ? r.verdict : worst,
    "pass",
  );
  return {
    task_id: id,
    verdict: failure === "cancelled" ? "error" : verdict,
    recorded_status: result.status,
    gates: [...runner.records],
    message: failure === "cancelled" ? "cancelled" : failure?.message ?? "",
    side_calls: totals.side_calls ?? {},
    cost_usd: totals.cost_usd,
  };
}

function grades(id: string): string {
  return id.replace(/[^A-Za-z0-9_.-]/g, "_");
}

/**
 * Reading a run directory (the source of truth for one run) into store records: the manifest
 * when the run finished, otherwise the whole lines of `events.jsonl` plus the result files on
 * disk (a run killed half-way, or one still running).
 *
 * @module
 */
import { pathExists, readDirNames } from "../fs.ts";
import { join } from "../path.ts";
import { RUN_FILES } from "../run/artifacts.ts";
import {
  ArtifactError,
  type DispatchInfo,
  manifestFacts,
  type RunRecord,
  startedAtFromRunId,
  type TaskRows,
  taskRows,
} from "./records.ts";

/** What `events.jsonl` tells the store about a run. */
export interface EventFacts {
  /** `run_start`'s fields, when its line is there. */
  start?: {
    runId: string;
    plan: string;
    tasks: number;
    resumedFrom: string | null;
  };
  /** How each started task was dispatched (`task_start`). */
  dispatch: Map<string, DispatchInfo>;
  /** Tasks reused from the resumed run (`task_complete` with `resumed: true`). */
  resumed: Set<string>;
}

/** A run directory's records, plus what could not be read. */
export interface RunSnapshot {
  /** The run. */
  run: RunRecord;
  /** Its tasks' rows. */
  tasks: TaskRows[];
  /** Files or entries skipped, one line each. */
  problems: string[];
}

/** Whether a folder looks like a run directory (it has an event log or a manifest). */
export function isRunDir(dir: string): boolean {
  return pathExists(join(dir, RUN_FILES.events)) || pathExists(join(dir, RUN_FILES.manifest));
}

/**
 * Reads and parses a JSON artifact.
 *
 * @throws {ArtifactError} when it is not valid JSON
 */
export async function readArtifactJson(path: string): Promise<unknown> {
  // Deno's reader: the first node:fs/promises readFile of a process was measured at 10-40 ms,
  // paid at the end of every indexed run
  const text = await Deno.readTextFile(path);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ArtifactError(path, `not valid JSON (${(error as Error).message})`);
  }
}

function str(value: unknown): string | null {
  return typeof value === "string" ? value : null;
}

/**
 * Reads the facts the store needs from an `events.jsonl` (whole lines only; a half-written
 * last line, left by a kill, is ignored).
 *
 * @param path the file
 */
export async function readEventFacts(path: string): Promise<EventFacts> {
  const facts: EventFacts = { dispatch: new Map(), resumed: new Set() };
  if (!pathExists(path)) return facts;
  const text = await Deno.readTextFile(path);
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    let event: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(line);
      if (parsed === null || typeof parsed !== "object") continue;
      event = parsed as Record<string, unknown>;
    } catch {
      continue;
    }
    const taskId = str(event["task_id"]);
    switch (event["event"]) {
      case "run_start": {
        const runId = str(event["run_id"]);
        const plan = str(event["plan"]);
        if (runId && plan) {
          facts.start = {
            runId,
            plan,
            tasks: typeof event["tasks"] === "number" ? event["tasks"] : 0,
            resumedFrom: str(event["resumed_from"]),
          };
        }
        break;
      }
      case "task_start":
        if (taskId) {
          facts.dispatch.set(taskId, { engine: str(event["engine"]), model: str(event["model"]) });
        }
        break;
      case "task_complete":
        if (taskId && event["resumed"] === true) facts.resumed.add(taskId);
        break;
    }
  }
  return facts;
}

/** A task's rows, or the problem that kept them out. */
function rowsOrProblem(
  value: unknown,
  context: Parameters<typeof taskRows>[1],
  problems: string[],
): TaskRows | undefined {
  try {
    return taskRows(value, context);
  } catch (error) {
    problems.push(error instanceof Error ? error.message : String(error));
    return undefined;
  }
}

/**
 * Reads a run directory into records.
 *
 * @param dir absolute path of the run directory
 * @param options the plan file, when known
 * @returns the run, its tasks, and what was skipped
 * @throws {ArtifactError} when it is not a run directory or its manifest is unreadable
 */
export async function readRunDir(
  dir: string,
  options: { planPath?: string | null } = {},
): Promise<RunSnapshot> {
  const events = await readEventFacts(join(dir, RUN_FILES.events));
  const manifestPath = join(dir, RUN_FILES.manifest);
  const problems: string[] = [];
  const tasks: TaskRows[] = [];
  if (pathExists(manifestPath)) {
    const facts = manifestFacts(await readArtifactJson(manifestPath), {
      runDir: dir,
      planPath: options.planPath ?? null,
      file: manifestPath,
    });
    for (const [id, value] of facts.results) {
      const rows = rowsOrProblem(value, {
        runId: facts.run.run_id,
        planName: facts.run.plan_name,
        file: `${manifestPath} (task_results.${id})`,
        dispatch: events.dispatch.get(id),
        resumed: events.resumed.has(id),
      }, problems);
      if (rows) tasks.push(rows);
    }
    return { run: facts.run, tasks, problems };
  }
  const start = events.start;
  if (!start) {
    throw new ArtifactError(dir, `not a run directory (no ${RUN_FILES.manifest}, no run_start)`);
  }
  const run: RunRecord = {
    run_id: start.runId,
    plan_name: start.plan,
    plan_path: options.planPath ?? null,
    plan_hash: null,
    status: "incomplete",
    started_at: startedAtFromRunId(start.runId) ?? new Date(0).toISOString(),
    finished_at: null,
    duration_sec: null,
    tasks_total: start.tasks,
    run_dir: dir,
    resumed_from: start.resumedFrom,
  };
  // every result on disk, including one whose task_complete line a kill cut off
  const names = (await readDirNames(dir)).filter((name) => name.endsWith(".result.json")).sort();
  for (const name of names) {
    const path = join(dir, name);
    let value: unknown;
    try {
      value = await readArtifactJson(path);
    } catch (error) {
      problems.push(error instanceof Error ? error.message : String(error));
      continue;
    }
    const id = typeof value === "object" && value !== null
      ? str((value as Record<string, unknown>)["task_id"])
      : null;
    const rows = rowsOrProblem(value, {
      runId: run.run_id,
      planName: run.plan_name,
      file: path,
      dispatch: id ? events.dispatch.get(id) : undefined,
      resumed: id ? events.resumed.has(id) : false,
    }, problems);
    if (rows) tasks.push(rows);
  }
  return { run, tasks, problems };
}

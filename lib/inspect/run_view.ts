/**
 * One run, read from its run directory (the source of truth) for the read commands `report`,
 * `diff` and `blame`: the manifest when the run finished, otherwise the whole lines of
 * events.jsonl and the result files on disk (a run killed half-way, or still running).
 *
 * @module
 */
import { pathExists } from "../fs.ts";
import { basename, join, resolve } from "../path.ts";
import { RUN_FILES, type RunManifest, type TaskGraphEntry } from "../run/artifacts.ts";
import type { TaskStatus } from "../run/events.ts";
import { readPriorRun, wholeLines } from "../run/resume.ts";
import type { TaskResult } from "../run/result.ts";
import { startedAtFromRunId } from "../store/records.ts";
import { runLiveness, scanLiveRuns } from "./liveness.ts";
import type { RunStatus } from "../store/records.ts";

/** A task's status in a view: a final status, or `running` (started, no result yet). */
export type ViewStatus = TaskStatus | "running";

/** One task of a run. */
export interface TaskView {
  /** The task id. */
  id: string;
  /** Its description ("" when unknown). */
  description: string;
  /** Final status, or `running` for a task of an unfinished run that started. */
  status: ViewStatus;
  /** Direct dependencies (empty when the run has no manifest). */
  depends_on: string[];
  /** `shell`, `group`, or the engine's name. */
  engine: string;
  /** The model, or null. */
  model: string | null;
  /** The task's result file, or null while it runs. */
  result: TaskResult | null;
}

/** A run as the read commands see it. */
export interface RunView {
  /** Absolute run directory. */
  dir: string;
  /** The run id. */
  runId: string;
  /** The plan's name. */
  planName: string;
  /** success, failed, interrupted; without a manifest running (a live process) or incomplete. */
  status: RunStatus;
  /** ISO-8601 start, when known. */
  startedAt: string | null;
  /** ISO-8601 end, or null when the run has no manifest. */
  finishedAt: string | null;
  /** Wall seconds, or null. */
  durationSec: number | null;
  /** The manifest, or null (killed or still running). */
  manifest: RunManifest | null;
  /** Every task known, in plan order (manifest) or in the order events name them. */
  tasks: TaskView[];
  /** Whether dependencies are known (they come from the manifest's task_graph). */
  graphKnown: boolean;
  /** Tasks in the plan (run_start), which may exceed `tasks.length` for an unfinished run. */
  plannedTasks: number;
}

/** Thrown when a folder is not a readable run directory. */
export class RunDirError extends Error {
  /** @param message what is wrong */
  constructor(message: string) {
    super(message);
    this.name = "RunDirError";
  }
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(Deno.readTextFileSync(path));
  } catch (error) {
    throw new RunDirError(`cannot read ${path}: ${(error as Error).message}`);
  }
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}

/** Whether a folder looks like a run directory (an event log or a manifest). */
export function looksLikeRunDir(dir: string): boolean {
  return pathExists(join(dir, RUN_FILES.events)) || pathExists(join(dir, RUN_FILES.manifest));
}

function fromManifest(dir: string, manifest: RunManifest): RunView {
  const graph = manifest.task_graph ?? {};
  const results = manifest.task_results ?? {};
  const ids = new Set([...Object.keys(graph), ...Object.keys(results)]);
  const tasks = [...ids].map((id): TaskView => {
    const node: Partial<TaskGraphEntry> = graph[id] ?? {};
    const result = results[id] ?? null;
    return {
      id,
      description: node.description ?? "",
      status: result?.status ?? "cancelled",
      depends_on: node.depends_on ?? [],
      engine: result?.engine ?? node.engine ?? "shell",
      model: result?.model ?? node.model ?? null,
      result,
    };
  });
  const wall = (Date.parse(manifest.finished_at) - Date.parse(manifest.started_at)) / 1000;
  return {
    dir,
    runId: manifest.run_id,
    planName: manifest.plan_name,
    status: manifest.interrupted ? "interrupted" : manifest.success ? "success" : "failed",
    startedAt: manifest.started_at,
    finishedAt: manifest.finished_at,
    durationSec: Number.isFinite(wall) ? round3(Math.max(0, wall)) : null,
    manifest,
    tasks,
    graphKnown: Object.keys(graph).length > 0,
    plannedTasks: tasks.length,
  };
}

/** What events.jsonl says about a run without a manifest. */
function eventFacts(dir: string) {
  let text = "";
  try {
    text = Deno.readTextFileSync(join(dir, RUN_FILES.events));
  } catch { /* none */ }
  const facts = {
    runId: null as string | null,
    plan: null as string | null,
    planned: 0,
    order: new Set<string>(),
    started: new Map<string, { engine: string; model: string | null }>(),
  };
  for (const line of wholeLines(text).lines) {
    let event: Record<string, unknown>;
    try {
      event = JSON.parse(line);
    } catch {
      continue;
    }
    const id = typeof event.task_id === "string" ? event.task_id : undefined;
    if (event.event === "run_start") {
      if (typeof event.run_id === "string") facts.runId = event.run_id;
      if (typeof event.plan === "string") facts.plan = event.plan;
      if (typeof event.tasks === "number") facts.planned = event.tasks;
    } else if (id) {
      facts.order.add(id);
    }
    if (event.event === "task_start" && id) {
      facts.started.set(id, {
        engine: typeof event.engine === "string" ? event.engine : "shell",
        model: typeof event.model === "string" ? event.model : null,
      });
    }
  }
  return facts;
}

function fromEvents(dir: string): RunView {
  const facts = eventFacts(dir);
  const prior = readPriorRun(dir);
  const runId = facts.runId ?? prior.runId ?? basename(dir).slice(0, 29);
  const ids = new Set([...facts.order, ...prior.results.keys()]);
  const tasks = [...ids].map((id): TaskView => {
    const result = prior.results.get(id) ?? null;
    const started = facts.started.get(id);
    return {
      id,
      description: "",
      status: result?.status ?? "running",
      depends_on: [],
      engine: result?.engine ?? started?.engine ?? "shell",
      model: result?.model ?? started?.model ?? null,
      result,
    };
  });
  return {
    dir,
    runId,
    planName: facts.plan ?? "",
    status: runLiveness(dir, runId, scanLiveRuns) === "running" ? "running" : "incomplete",
    startedAt: startedAtFromRunId(runId),
    finishedAt: null,
    durationSec: null,
    manifest: null,
    tasks,
    graphKnown: false,
    plannedTasks: Math.max(facts.planned, tasks.length),
  };
}

/**
 * Reads a run directory.
 *
 * @param path the run directory (relative to the current folder or absolute)
 * @returns the run
 * @throws {RunDirError} when it is not a run directory or its manifest cannot be read
 */
export function loadRunView(path: string): RunView {
  const dir = resolve(path);
  if (!looksLikeRunDir(dir)) {
    throw new RunDirError(
      `${path} is not a run directory (no ${RUN_FILES.events}, no ${RUN_FILES.manifest})`,
    );
  }
  const manifestPath = join(dir, RUN_FILES.manifest);
  if (pathExists(manifestPath)) {
    const manifest = readJson(manifestPath) as RunManifest;
    if (typeof manifest !== "object" || manifest === null || typeof manifest.run_id !== "string") {
      throw new RunDirError(`${manifestPath} is not a run manifest`);
    }
    return fromManifest(dir, manifest);
  }
  return fromEvents(dir);
}

/** Token counts of a task's result, or null. */
export function taskTokens(
  result: TaskResult | null,
): { input: number; cached: number; output: number; total: number } | null {
  const usage = result?.token_usage;
  if (!usage) return null;
  const n = (key: string) => (typeof usage[key] === "number" ? usage[key] : 0);
  return { input: n("input"), cached: n("cached"), output: n("output"), total: n("total") };
}

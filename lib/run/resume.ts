/**
 * Resume: reading what an earlier run finished, so a new run re-runs only the rest. Works on a
 * run that ended normally (its manifest), was interrupted (manifest with `cancelled` tasks), or
 * was killed with `kill -9` (no manifest: the whole lines of events.jsonl and the result files
 * say what finished). Before a resume runs anything, process groups the earlier run recorded
 * that are still alive (grandchildren orphaned by a kill -9) are stopped.
 *
 * @module
 */
import { pathExists, readDirNamesSync } from "../fs.ts";
import { join } from "../path.ts";
import { environOf, otherProcessIds } from "../proc.ts";
import { RUN_FILES, sanitizePlanName, taskFiles } from "./artifacts.ts";
import type { TaskStatus } from "./events.ts";
import { killGroup } from "./process.ts";
import { abortableSleep } from "./attempt_helpers.ts";
import type { TaskResult } from "./result.ts";

/** Statuses whose results a resume reuses: a succeeded task is never re-run. */
export const REUSABLE: ReadonlySet<TaskStatus> = new Set<TaskStatus>(["success", "soft_failed"]);

/** What an earlier run left. */
export interface PriorRun {
  /** Absolute path of its run directory. */
  path: string;
  /** Its run id (from run_start), when known. */
  runId: string | null;
  /** Final results of the tasks it finished, by id. */
  results: Map<string, TaskResult>;
  /** Process groups it started, with their task ids. */
  groups: Array<{ taskId: string; pgid: number }>;
  /** events.jsonl ended with a half-written line (the run was killed while writing). */
  partialLastLine: boolean;
}

/** Splits events.jsonl into its whole lines and says whether a partial line followed. */
export function wholeLines(text: string): { lines: string[]; partial: boolean } {
  const parts = text.split("\n");
  const last = parts.pop() ?? "";
  return { lines: parts.filter((line) => line.length > 0), partial: last.length > 0 };
}

function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(Deno.readTextFileSync(path)) as T;
  } catch {
    return undefined;
  }
}

/** Reads an earlier run directory. */
export function readPriorRun(path: string): PriorRun {
  const prior: PriorRun = {
    path,
    runId: null,
    results: new Map(),
    groups: [],
    partialLastLine: false,
  };
  let text = "";
  try {
    text = Deno.readTextFileSync(join(path, RUN_FILES.events));
  } catch { /* a run without events still may have a manifest */ }
  const { lines, partial } = wholeLines(text);
  prior.partialLastLine = partial;
  for (const line of lines) {
    let event: Record<string, unknown>;
    try {
      event = JSON.parse(line);
    } catch {
      continue;
    }
    const taskId = typeof event.task_id === "string" ? event.task_id : undefined;
    if (event.event === "run_start" && typeof event.run_id === "string") prior.runId = event.run_id;
    if (event.event === "task_attempt" && taskId && typeof event.pgid === "number") {
      prior.groups.push({ taskId, pgid: event.pgid });
    }
    if ((event.event === "task_complete" || event.event === "task_skip") && taskId) {
      const result = readJson<TaskResult>(taskFiles(path, taskId).result);
      if (result && result.task_id === taskId) prior.results.set(taskId, result);
    }
  }
  const manifest = readJson<{ run_id?: string; task_results?: Record<string, TaskResult> }>(
    join(path, RUN_FILES.manifest),
  );
  if (manifest?.task_results) {
    prior.runId ??= manifest.run_id ?? null;
    for (const [id, result] of Object.entries(manifest.task_results)) prior.results.set(id, result);
  }
  return prior;
}

/**
 * The plan name an earlier run directory records (its first event, else its manifest), or
 * undefined when `path` is not a run directory (neither events.jsonl nor a manifest). Only
 * the first line of events.jsonl is read.
 */
export function runPlanName(path: string): string | null | undefined {
  const fromEvents = firstEventPlanName(join(path, RUN_FILES.events));
  if (typeof fromEvents === "string") return fromEvents;
  const manifest = readJson<{ plan_name?: unknown }>(join(path, RUN_FILES.manifest));
  if (manifest) return typeof manifest.plan_name === "string" ? manifest.plan_name : null;
  return fromEvents;
}

/** run_start's plan name; null when the first line is not one; undefined without the file. */
function firstEventPlanName(events: string): string | null | undefined {
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(events, { read: true });
  } catch {
    return undefined;
  }
  try {
    const head = new Uint8Array(64 * 1024);
    const n = file.readSync(head) ?? 0;
    const first = new TextDecoder().decode(head.subarray(0, n)).split("\n", 1)[0] ?? "";
    const event = JSON.parse(first) as { event?: unknown; plan_name?: unknown };
    return event.event === "run_start" && typeof event.plan_name === "string"
      ? event.plan_name
      : null;
  } catch {
    return null; // killed before its first line was whole: a run directory all the same
  } finally {
    file.close();
  }
}

/**
 * The latest run directory of a plan under a run root (names sort by time), or undefined.
 * A run killed before writing its manifest counts: it has events.jsonl.
 */
export function findLastRun(runRoot: string, planName: string): string | undefined {
  if (!pathExists(runRoot)) return undefined;
  const sanitized = sanitizePlanName(planName);
  // the id is fixed-width: what follows it is the whole (sanitized) plan name, so "deploy"
  // never takes a run of "prod_deploy"
  const names = readDirNamesSync(runRoot)
    .filter((name) => RUN_DIR_NAME.exec(name)?.[1] === sanitized)
    .filter((name) =>
      pathExists(join(runRoot, name, RUN_FILES.events)) ||
      pathExists(join(runRoot, name, RUN_FILES.manifest))
    )
    .sort();
  // names that sanitize alike (`a.b`, `a_b`): the run's own record of its plan decides
  for (const name of names.reverse()) {
    const recorded = runPlanName(join(runRoot, name));
    if (recorded === planName || recorded === null) return join(runRoot, name);
  }
  return undefined;
}

/** A run directory's name: the run id, then the sanitized plan name (captured). */
const RUN_DIR_NAME = /^\d{8}_\d{6}_\d{6}_[0-9a-f]{6}_(.+)$/;

/** Results to reuse, with the resume message. */
export function reusableResults(prior: PriorRun): Map<string, TaskResult> {
  const reused = new Map<string, TaskResult>();
  for (const [id, result] of prior.results) {
    if (!REUSABLE.has(result.status)) continue;
    reused.set(id, { ...result, message: `Resumed from prior run (${result.status})` });
  }
  return reused;
}

/** A live process an earlier run started: it carries the run's id in its environment. */
export interface RunProcess {
  pid: number;
  pgid: number;
  /** Its `MAESTRO_TASK_ID`, or "" when it has none. */
  taskId: string;
}

/**
 * Live processes carrying `MAESTRO_RUN_ID=<runId>`: every task of a run gets it, and its
 * children inherit it, also those that left the task's process group (`setsid`, a daemon).
 * A process of another program that reused a pid or a group id never carries it. Read from
 * /proc: where there is none (not Linux), none are found.
 */
export function processesOfRun(runId: string): RunProcess[] {
  const found: RunProcess[] = [];
  const mark = `MAESTRO_RUN_ID=${runId}`;
  for (const pid of otherProcessIds() ?? []) {
    const environ = environOf(pid);
    if (!environ?.includes(mark)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (fields[0] === "Z") continue;
      const task = environ.find((entry) => entry.startsWith("MAESTRO_TASK_ID="));
      found.push({
        pid,
        pgid: Number(fields[2]),
        taskId: task ? task.slice("MAESTRO_TASK_ID=".length) : "",
      });
    } catch { /* ended meanwhile */ }
  }
  return found;
}

/**
 * Temp files maestro writes next to an artifact: `<file>.tmp-<pid>-<n>` (atomic writes) and
 * `.run_manifest.json.spool-<pid>` (the streamed manifest). Group 1 is the writer's pid.
 */
const LEFTOVER = /(?:\.tmp-(\d+)-[0-9a-z]+|^\.run_manifest\.json\.spool-(\d+))$/;

function processAlive(pid: number): boolean {
  if (Deno.build.os !== "linux") return true; // cannot tell: keep the file
  return pathExists(`/proc/${pid}`);
}

/**
 * Removes the temp files a killed run left in its directory (a `kill -9` between writing and
 * renaming, or before the manifest was assembled from its spool). Only files whose writer is
 * no longer running are touched: a run still going keeps its own.
 *
 * @returns the names removed
 */
export function sweepLeftovers(path: string): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = readDirNamesSync(path);
  } catch {
    return removed;
  }
  for (const name of names) {
    const match = LEFTOVER.exec(name);
    if (!match) continue;
    const pid = Number(match[1] ?? match[2]);
    if (pid === Deno.pid || processAlive(pid)) continue;
    try {
      Deno.removeSync(join(path, name));
      removed.push(name);
    } catch { /* already gone */ }
  }
  return removed.sort();
}

/**
 * Stops every process an earlier run left alive (its recorded task groups and anything that
 * carries its run id, e.g. a grandchild orphaned by a `kill -9` of maestro, or one that
 * detached with `setsid`): each one's process group, then the process itself.
 *
 * @returns the groups stopped, with the task that started them
 */
export function stopOrphans(prior: PriorRun): Array<{ taskId: string; pgid: number }> {
  if (!prior.runId) return [];
  return stopRunProcesses(prior.runId, new Map(prior.groups.map((g) => [g.pgid, g.taskId])));
}

/**
 * SIGKILLs every live process of a run (by the `MAESTRO_RUN_ID` in its environment) and its
 * process group: an earlier run's orphans on resume, or, at the end of a run, what its tasks
 * started outside their own process groups (`setsid`: a daemon).
 *
 * @param runId the run
 * @param recorded task ids of the process groups the run recorded (named in what is returned)
 * @returns the process groups stopped, with their task ids
 */
export function stopRunProcesses(
  runId: string,
  recorded: ReadonlyMap<number, string> = new Map(),
): Array<{ taskId: string; pgid: number }> {
  const stopped = new Map<number, string>();
  for (const process of processesOfRun(runId)) {
    if (!stopped.has(process.pgid)) {
      // a group with a member of that run is the run's: a reused group id has none
      killGroup(process.pgid, "SIGKILL");
      stopped.set(process.pgid, recorded.get(process.pgid) ?? process.taskId);
    }
    try {
      Deno.kill(process.pid, "SIGKILL");
    } catch { /* ended with its group */ }
  }
  return [...stopped].map(([pgid, taskId]) => ({ taskId, pgid }));
}

/**
 * `--wait-orphans`: waits until no process of an earlier run is alive, instead of stopping
 * them; `onWait` is told about each process group once.
 *
 * @returns false when `signal` ended the wait first
 */
export async function waitForOrphans(
  prior: PriorRun,
  signal: AbortSignal,
  onWait: (group: { taskId: string; pgid: number }) => void,
  pollMs = 200,
): Promise<boolean> {
  if (!prior.runId) return true;
  const told = new Set<number>();
  for (;;) {
    const alive = processesOfRun(prior.runId);
    if (alive.length === 0) return true;
    for (const process of alive) {
      if (told.has(process.pgid)) continue;
      told.add(process.pgid);
      onWait({ taskId: process.taskId, pgid: process.pgid });
    }
    if (signal.aborted) return false;
    await abortableSleep(pollMs, signal);
  }
}

/**
 * The run directory and what goes in it: `<run_dir>/<YYYYmmdd_HHMMSS_ffffff>_<6 hex>_<plan>/`
 * holding `run_manifest.json`, `<task>.result.json`, `<task>.log`, `events.jsonl` and
 * `run_summary.md`. JSON files are written atomically (temp file + rename), so a reader or a
 * crash never sees half a file. Each task owns at most two files.
 *
 * @module
 */
import { writeAllSync } from "../fs.ts";
import { join } from "../path.ts";
import { EXIT, MaestroError } from "../errors.ts";
import { sha256Hex } from "../sha256.ts";
import type { PlanIR } from "../plan/ir.ts";
import { taskFileStem } from "../plan/names.ts";
import { SUCCESS_LIKE, type TaskResult } from "./result.ts";
import type { ManifestBudget } from "./budget_guard.ts";

/** File names inside a run directory. */
export const RUN_FILES = {
  manifest: "run_manifest.json",
  events: "events.jsonl",
  summary: "run_summary.md",
} as const;

/** `[^a-zA-Z0-9_-]` → `_`: the plan name as it appears in the run directory name. */
export function sanitizePlanName(name: string): string {
  return name.replace(/[^a-zA-Z0-9_-]/g, "_");
}

/** `<stem>.log` and `<stem>.result.json` of a task inside a run directory. */
export function taskFiles(runPath: string, id: string): { log: string; result: string } {
  const stem = taskFileStem(id);
  return { log: join(runPath, `${stem}.log`), result: join(runPath, `${stem}.result.json`) };
}

/** `YYYYmmdd_HHMMSS_ffffff_<6 hex>` (UTC), the reference run id. */
export function makeRunId(micros: number): string {
  const date = new Date(Math.floor(micros / 1000));
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  const stamp = `${date.getUTCFullYear()}${p(date.getUTCMonth() + 1)}${p(date.getUTCDate())}_` +
    `${p(date.getUTCHours())}${p(date.getUTCMinutes())}${p(date.getUTCSeconds())}_` +
    p(micros % 1_000_000, 6);
  const random = crypto.getRandomValues(new Uint32Array(1))[0]! >>> 8; // 24 random bits
  return `${stamp}_${random.toString(16).padStart(6, "0")}`;
}

/** Creates the run directory; returns its path. */
export async function createRunDir(root: string, runId: string, planName: string): Promise<string> {
  const path = join(root, `${runId}_${sanitizePlanName(planName)}`);
  try {
    await Deno.mkdir(path, { recursive: true });
  } catch (error) {
    // a run_dir / --run-dir that names a file, or a folder maestro may not write in
    const why = error instanceof Error ? error.message.replace(/: mkdir .*$/, "") : String(error);
    throw new MaestroError("E116", `cannot create a run directory under ${root}: ${why}`, {
      hint: "point --run-dir (or the plan's run_dir) at a folder you can write to",
      exitCode: EXIT.invalid,
    });
  }
  return path;
}

let tempCounter = 0;
const jsonEncoder = new TextEncoder();

/**
 * Writes JSON (indent 2, trailing newline) atomically: temp file in the same folder, rename.
 * Synchronous on purpose: a task's result is on disk and its event emitted before any
 * dependent is dispatched, so events.jsonl reads in causal order. Returns the bytes written.
 * Costs one open, one write, one close and one rename, whatever the number of files already
 * in the folder (the temp name is unique per process: pid and a counter).
 */
export function writeJsonAtomic(path: string, value: unknown): Uint8Array {
  return writeTextAtomic(path, JSON.stringify(value, null, 2) + "\n");
}

/** Temp files created ahead by {@linkcode preopenAtomic}, by the path they will replace. */
const preopened = new Map<string, { temp: string; file: Deno.FsFile }>();

function tempPathFor(path: string): string {
  return `${path}.tmp-${Deno.pid}-${(tempCounter++).toString(36)}`;
}

/**
 * Creates the temp file of a later {@linkcode writeTextAtomic} of `path` now. Why: creating a
 * file is the slow part of an atomic write (0.03–0.5 ms on the benchmark machine's disk, where
 * the write and the rename cost 0.02 each); a task's result file is created while the task's
 * process runs, so its end-to-next-start path only writes and renames. Does nothing when one is
 * already waiting; never throws (the write then creates its temp file itself).
 */
export function preopenAtomic(path: string): void {
  if (preopened.has(path)) return;
  const temp = tempPathFor(path);
  try {
    const file = Deno.openSync(temp, { write: true, create: true, truncate: true });
    preopened.set(path, { temp, file });
  } catch { /* the write will tell */ }
}

/** Closes and removes the temp files made ahead in `dir` that no write used (its run is over). */
export function dropPreopened(dir: string): void {
  for (const [path, { temp, file }] of preopened) {
    if (!path.startsWith(`${dir}/`)) continue;
    preopened.delete(path);
    try {
      file.close();
      Deno.removeSync(temp);
    } catch { /* already gone */ }
  }
}

/** Like {@linkcode writeJsonAtomic}, for text already serialised. Returns the bytes written. */
export function writeTextAtomic(path: string, text: string): Uint8Array {
  const bytes = jsonEncoder.encode(text);
  const ready = preopened.get(path);
  preopened.delete(path);
  const temp = ready?.temp ?? tempPathFor(path);
  try {
    if (ready) {
      try {
        writeAllSync(ready.file, bytes);
      } finally {
        ready.file.close();
      }
    } else Deno.writeFileSync(temp, bytes);
    Deno.renameSync(temp, path);
  } catch (error) {
    try {
      Deno.removeSync(temp);
    } catch { /* it was never created */ }
    throw error;
  }
  return bytes;
}

/** Hashes of files this process wrote and closed, with the size and mtime they had then. */
const knownHashes = new Map<string, { hash: string; size: number; mtime: number }>();
/** Entries are consumed by {@linkcode fileHashSync}; this bounds the ones nobody asks for. */
const KNOWN_HASHES_MAX = 4096;

function mtimeOf(info: Deno.FileInfo): number {
  return info.mtime?.getTime() ?? -1;
}

/**
 * Records the SHA-256 of a file just written and closed (by {@linkcode LogFile}), so the next
 * {@linkcode fileHashSync} of it costs one stat instead of reading the file back. The entry is
 * only used while the file's size and mtime are unchanged.
 */
export function rememberFileHash(path: string, hash: string, size: number): void {
  let mtime: number;
  try {
    const info = Deno.statSync(path);
    if (info.size !== size) return;
    mtime = mtimeOf(info);
  } catch {
    return;
  }
  if (knownHashes.size >= KNOWN_HASHES_MAX) {
    knownHashes.delete(knownHashes.keys().next().value!);
  }
  knownHashes.set(path, { hash, size, mtime });
}

/**
 * SHA-256 hex of a file's bytes (synchronously), or null when it cannot be read. A file this
 * process wrote through {@linkcode LogFile} is not read again when its size and mtime are those
 * it had when closed.
 */
export function fileHashSync(path: string): string | null {
  const known = knownHashes.get(path);
  if (known) {
    knownHashes.delete(path);
    try {
      const info = Deno.statSync(path);
      if (info.size === known.size && mtimeOf(info) === known.mtime) return known.hash;
    } catch {
      return null;
    }
  }
  try {
    return sha256Hex(Deno.readFileSync(path));
  } catch {
    return null;
  }
}

/** SHA-256 hex of some bytes (a string as UTF-8); re-exported from `lib/sha256.ts`. */
export { sha256Hex };

/** SHA-256 hex of a file's bytes, or null when it cannot be read. */
export async function fileHash(path: string): Promise<string | null> {
  try {
    return sha256Hex(await Deno.readFile(path));
  } catch {
    return null;
  }
}

/** `run_manifest.json`: the reference keys in order, plus `resumed_from` and `interrupted`. */
export interface RunManifest {
  /** The plan's name. */
  plan_name: string;
  /** `YYYYmmdd_HHMMSS_ffffff_<6 hex>`. */
  run_id: string;
  /** Absolute run directory ("" for a dry run). */
  run_path: string;
  /** ISO-8601 with microseconds, `+00:00`. */
  started_at: string;
  /** ISO-8601 with microseconds, `+00:00`. */
  finished_at: string;
  /** Not interrupted and every status success-like. */
  success: boolean;
  /** The execution profile of engine tasks: plan, safe or yolo. */
  execution_profile: string;
  /** Every task's final result, in plan order. */
  task_results: Record<string, TaskResult>;
  /** Sum of the durations of the tasks that were not skipped. */
  sequential_duration_sec: number;
  /** Time saved by running in parallel, in percent, or null. */
  parallelism_savings_pct: number | null;
  /** Sum of the tasks' known costs in USD, or null when no task reported or priced one. */
  total_cost_usd: number | null;
  /** Sum of the tasks' tokens, or null when no task reported any. */
  total_tokens: number | null;
  /** The spend went over `max_cost_usd` (see `budget`). */
  budget_exceeded: boolean;
  /** SHA-256 hex of the canonical plan IR without provenance. */
  plan_hash: string;
  /** Null until judges exist. */
  quality_score: number | null;
  /** The plan's tasks as a graph. */
  task_graph: Record<string, TaskGraphEntry>;
  /** The run directory this run resumed, or null. */
  resumed_from: string | null;
  /** True when the run was cancelled (SIGINT/SIGTERM or an aborted signal). */
  interrupted: boolean;
  /** False for `--dry-run`: nothing was executed or written. */
  executed: boolean;
  /** Plans with `max_cost_usd`: the budget's account at the end (docs/cost.md). */
  budget?: ManifestBudget;
}

/** One node of the manifest's `task_graph`. */
export interface TaskGraphEntry {
  /** The task's id. */
  id: string;
  /** The task's description. */
  description: string;
  /** Its direct dependencies. */
  depends_on: string[];
  /** Engine agent name, or null. */
  agent: string | null;
  /** Engine name, or `shell`/`group`. */
  engine: string;
  /** Model, or null. */
  model: string | null;
  /** Whether a failure is soft. */
  allow_failure: boolean;
  /** Whether the task runs in its own worktree. */
  worktree: boolean;
}

/** Everything a manifest is built from. */
export interface ManifestInput {
  plan: PlanIR;
  planHash: string;
  runId: string;
  runPath: string;
  startedAt: string;
  finishedAt: string;
  wallSec: number;
  results: ReadonlyMap<string, TaskResult>;
  resumedFrom: string | null;
  interrupted: boolean;
  executed: boolean;
  /** Execution profile of engine tasks. @default {"plan"} */
  executionProfile?: string;
  /** The budget's account, for plans with `max_cost_usd`. */
  budget?: ManifestBudget;
}

/** `success` rule of the reference: every status is success-like. */
export function runSucceeded(results: Iterable<TaskResult>): boolean {
  for (const result of results) if (!SUCCESS_LIKE.has(result.status)) return false;
  return true;
}

/** The `task_graph` entry of one task. */
export function taskGraphEntry(task: PlanIR["tasks"][number]): TaskGraphEntry {
  return {
    id: task.id,
    description: task.description,
    depends_on: task.depends_on,
    agent: typeof task.agent === "string" ? task.agent : null,
    engine: task.engine ?? "shell",
    model: task.model ?? null,
    allow_failure: task.allow_failure,
    worktree: task.worktree === true,
  };
}

/** What a manifest's skeleton needs instead of the results themselves. */
export interface ManifestTotals {
  /** Every status is success-like. */
  succeeded: boolean;
  /** Sum of the durations of the tasks that were not skipped, in plan order. */
  sequentialSec: number;
  /** Σ cost_usd of the tasks that reported one (engine tasks), null when none did. */
  costUsd?: number | null;
  /** Σ token_usage.total, null when no task reported tokens. */
  tokens?: number | null;
}

/** Builds the manifest object (keys in the reference order). */
export function buildManifest(input: ManifestInput): RunManifest {
  const results = [...input.results.values()];
  const sequential = results
    .filter((r) => r.status !== "skipped")
    .reduce((sum, r) => sum + r.duration_sec, 0);
  const manifest = manifestSkeleton(input, {
    succeeded: runSucceeded(results),
    sequentialSec: sequential,
  });
  manifest.task_results = Object.fromEntries(input.results);
  for (const task of input.plan.tasks) manifest.task_graph[task.id] = taskGraphEntry(task);
  return manifest;
}

/**
 * The manifest with empty `task_results` and `task_graph` (every other key final, all in the
 * reference order): what a streamed manifest is written around.
 */
export function manifestSkeleton(
  input: Omit<ManifestInput, "results">,
  totals: ManifestTotals,
): RunManifest {
  const seq = Math.round(totals.sequentialSec * 1000) / 1000;
  const savings = seq > input.wallSec && input.wallSec > 0
    ? Math.round((seq - input.wallSec) / seq * 1000) / 10
    : null;
  return {
    plan_name: input.plan.name,
    run_id: input.runId,
    run_path: input.runPath,
    started_at: input.startedAt,
    finished_at: input.finishedAt,
    // a task the budget kept from running (or cancelled) means the plan did not complete
    success: !input.interrupted && totals.succeeded && !(input.budget?.tasks_stopped ?? 0),
    execution_profile: input.executionProfile ?? "plan",
    task_results: {},
    sequential_duration_sec: seq,
    parallelism_savings_pct: savings,
    total_cost_usd: totals.costUsd ?? null,
    total_tokens: totals.tokens ?? null,
    budget_exceeded: input.budget?.exceeded ?? false,
    plan_hash: input.planHash,
    quality_score: null,
    task_graph: {},
    resumed_from: input.resumedFrom,
    interrupted: input.interrupted,
    executed: input.executed,
    ...(input.budget ? { budget: input.budget } : {}),
  };
}

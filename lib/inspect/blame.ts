/**
 * `maestro blame`: which failed tasks are root causes, and which tasks only failed, were
 * skipped or cancelled because of them.
 *
 * - A **root cause** is a task that ran and ended `failed` on its own. A group task that
 *   failed because an inner task failed is not: its inner task is.
 * - A task is **affected** when its result points at a failure: `Skipped because dependency
 *   failed: <ids>` (followed through skipped dependencies down to the failed tasks),
 *   `fail_fast triggered by task '<id>'`, `Inner task failed: <ids>` (groups), a tripped
 *   circuit breaker (blamed on every root cause), or a cancellation (the run was interrupted).
 * - Skips that are not failures (`Condition not met`, `--skip`, `--only`, a denied approval)
 *   are neither.
 *
 * @module
 */
import { readLogExcerpt } from "./log_text.ts";
import { errorLines } from "./log_text.ts";
import type { RunView, TaskView } from "./run_view.ts";

/** A failed task that failed on its own. */
export interface RootCause {
  /** The task id. */
  task_id: string;
  /** `failed`. */
  status: string;
  /** Exit code of the step that decided the status. */
  exit_code: number | null;
  /** The last failed attempt's category (timeout, exit_code, auth, …), or null. */
  category: string | null;
  /** Attempts made. */
  attempts: number;
  /** Seconds. */
  duration_sec: number;
  /** The result's message. */
  message: string;
  /** The first lines that explain the failure. */
  error_lines: string[];
  /** The task's log, or null. */
  log_path: string | null;
  /** Ids of the tasks affected by this failure. */
  affected: string[];
}

/** A task that did not succeed because of a root cause (or an interruption). */
export interface AffectedTask {
  /** The task id. */
  task_id: string;
  /** skipped, cancelled or failed (a group). */
  status: string;
  /** The result's message. */
  message: string;
  /** The root causes it comes from (empty: the run was interrupted). */
  caused_by: string[];
  /** The tasks its message names (its direct reason). */
  via: string[];
}

/** A task whose failure was allowed (`allow_failure`). */
export interface SoftFailure {
  /** The task id. */
  task_id: string;
  /** The result's message. */
  message: string;
  /** The first lines that explain the failure. */
  error_lines: string[];
}

/** What `maestro blame` reports. */
export interface BlameReport {
  /** The run. */
  run: { run_id: string; plan_name: string; status: string; run_dir: string };
  /** Failed tasks that failed on their own, in plan order. */
  root_causes: RootCause[];
  /** Tasks that failed, were skipped or cancelled because of them, in plan order. */
  affected: AffectedTask[];
  /** Soft failures (allowed; they fail nothing). */
  soft_failed: SoftFailure[];
  /** Whether the run was interrupted (its cancelled tasks are affected by nothing else). */
  interrupted: boolean;
}

const DEPENDENCY_FAILED = /^Skipped because dependency failed: (.+)$/;
const FAIL_FAST = /^fail_fast triggered by task '(.+)'$/;
const INNER_FAILED = /^Inner task failed: (.+)$/;
const BREAKER = /^circuit breaker tripped: /;

/** Ids a message names, kept only when they are tasks of the run. */
function named(list: string, known: ReadonlyMap<string, TaskView>): string[] {
  const ids = list.split(", ").map((s) => s.trim()).filter((s) => known.has(s));
  return ids;
}

/** The direct reason a task did not succeed: the tasks it points at, or `interrupt`. */
function reasonOf(
  task: TaskView,
  byId: ReadonlyMap<string, TaskView>,
): { via: string[]; breaker: boolean; interrupt: boolean } {
  const message = task.result?.message ?? "";
  const none = { via: [], breaker: false, interrupt: false };
  let m = DEPENDENCY_FAILED.exec(message);
  if (m) {
    const ids = named(m[1]!, byId);
    // ids that cannot be parsed back (odd characters): the dependencies that did not succeed
    const via = ids.length > 0 ? ids : task.depends_on.filter((d) => {
      const s = byId.get(d)?.status;
      return s === "failed" || s === "skipped" || s === "cancelled";
    });
    return { ...none, via };
  }
  if ((m = FAIL_FAST.exec(message)) && byId.has(m[1]!)) return { ...none, via: [m[1]!] };
  if ((m = INNER_FAILED.exec(message))) return { ...none, via: named(m[1]!, byId) };
  if (BREAKER.test(message)) return { ...none, breaker: true };
  if (task.status === "cancelled") return { ...none, interrupt: true };
  return none;
}

/**
 * Separates root causes from the tasks they took down.
 *
 * @param run the run
 * @param options how many error lines per task, and the log bytes read for them
 * @returns the report
 */
export function blameRun(
  run: RunView,
  options: { lines?: number; logBytes?: number } = {},
): BlameReport {
  const byId = new Map(run.tasks.map((t) => [t.id, t]));
  const reasons = new Map(run.tasks.map((t) => [t.id, reasonOf(t, byId)]));
  const isRoot = (t: TaskView) =>
    t.status === "failed" && (reasons.get(t.id)?.via.length ?? 0) === 0;
  const roots = run.tasks.filter(isRoot);
  const rootIds = roots.map((t) => t.id);
  const memo = new Map<string, Set<string>>();

  // iterative, so a long chain of skips cannot overflow the stack
  const causesOf = (start: string): Set<string> => {
    const stack: string[] = [start];
    const onStack = new Set<string>();
    while (stack.length > 0) {
      const id = stack[stack.length - 1]!;
      if (memo.has(id)) {
        stack.pop();
        continue;
      }
      const task = byId.get(id);
      if (!task) {
        memo.set(id, new Set());
        stack.pop();
        continue;
      }
      if (isRoot(task)) {
        memo.set(id, new Set([id]));
        stack.pop();
        continue;
      }
      const reason = reasons.get(id)!;
      if (reason.breaker) {
        memo.set(id, new Set(rootIds));
        stack.pop();
        continue;
      }
      const pending = reason.via.filter((v) => !memo.has(v) && !onStack.has(v));
      if (pending.length > 0 && !onStack.has(id)) {
        onStack.add(id);
        stack.push(...pending);
        continue;
      }
      const causes = new Set<string>();
      for (const v of reason.via) for (const c of memo.get(v) ?? []) causes.add(c);
      memo.set(id, causes);
      onStack.delete(id);
      stack.pop();
    }
    return memo.get(start)!;
  };

  const affected: AffectedTask[] = [];
  const affectedBy = new Map<string, string[]>(rootIds.map((id) => [id, []]));
  for (const task of run.tasks) {
    if (isRoot(task) || task.result === null) continue;
    if (task.status !== "skipped" && task.status !== "cancelled" && task.status !== "failed") {
      continue;
    }
    const reason = reasons.get(task.id)!;
    if (reason.via.length === 0 && !reason.breaker && !reason.interrupt) continue;
    const causes = [...causesOf(task.id)];
    for (const c of causes) affectedBy.get(c)?.push(task.id);
    affected.push({
      task_id: task.id,
      status: task.status,
      message: task.result.message,
      caused_by: rootIds.filter((id) => causes.includes(id)),
      via: reason.via,
    });
  }

  const lines = options.lines ?? 5;
  const logBytes = options.logBytes ?? 256 * 1024;
  const explain = (task: TaskView) => {
    const result = task.result!;
    const log = result.log_path ? readLogExcerpt(result.log_path, logBytes)?.text ?? null : null;
    return errorLines(result, log, lines);
  };
  return {
    run: { run_id: run.runId, plan_name: run.planName, status: run.status, run_dir: run.dir },
    root_causes: roots.filter((t) => t.result !== null).map((task) => {
      const result = task.result!;
      return {
        task_id: task.id,
        status: task.status,
        exit_code: result.exit_code,
        category: result.failure_history?.at(-1)?.category ?? null,
        attempts: (result.retry_count ?? 0) + 1,
        duration_sec: result.duration_sec,
        message: result.message,
        error_lines: explain(task),
        log_path: result.log_path,
        affected: affectedBy.get(task.id) ?? [],
      };
    }),
    affected,
    soft_failed: run.tasks.filter((t) => t.status === "soft_failed" && t.result).map((task) => ({
      task_id: task.id,
      message: task.result!.message,
      error_lines: explain(task),
    })),
    interrupted: run.status === "interrupted",
  };
}

/**
 * The DAG scheduler: dispatches ready tasks in plan order up to `maxParallel`, gates each task
 * on its dependencies (seed-behaviour §1.6), stops dispatching on fail_fast, a tripped circuit
 * breaker or cancellation, and guarantees that every task ends with exactly one final result,
 * whatever happens.
 *
 * Gating, once all of a task's dependencies are final:
 * - with `when:` the condition decides (even after a dependency failure): false → skipped
 *   `Condition not met: <source>`;
 * - without it, a dependency that failed, or that was itself skipped because of a failure
 *   (a "blocked" task), skips the task with `Skipped because dependency failed: <ids>`, which
 *   blocks its own dependents in turn. Other skips (condition, approval) count as success.
 *
 * The scheduler does not know how a task runs: `execute` does it (a local process today, a
 * remote worker later), and `finalize` records each final result (artifacts, events).
 *
 * Groups (`groups`, see groups.ts): a group task is never executed. It opens when its gate
 * passes, which makes its members eligible (each member also waits for its own dependencies),
 * and it closes with a result derived from its members once they are all final. A group that
 * never opens (skipped, preset, cancelled) passes its reason on to every member. Members share
 * the one `maxParallel` pool and the one fail_fast of the run.
 *
 * @module
 */
import { depths } from "../dag/graph.ts";
import type { TaskIR } from "../plan/ir.ts";
import { evaluateWhen } from "../plan/when.ts";
import type { TaskStatus } from "./events.ts";
import { TASK_STATUSES } from "../plan/names.ts";
import { type GroupOutcome, groupOutcome } from "./groups.ts";
import { ReadySet } from "./ready_set.ts";
import { SUCCESS_LIKE, type TaskResult } from "./result.ts";

/** Message prefix of a skip caused by a failed dependency (resume relies on it). */
export const DEPENDENCY_FAILED_PREFIX = "Skipped because dependency failed: ";
/** Message of a skip caused by a denied approval. */
export const APPROVAL_DENIED = "Approval denied or non-interactive";

/** Status codes of the per-task status array (code = position + 1; 0 = not final yet). */
const STATUS_CODES: readonly TaskStatus[] = TASK_STATUSES;

const CANCELLED_BEFORE_START: SkipReason = {
  status: "cancelled",
  message: "Cancelled before it started",
  blocked: true,
};

/** Why a task did not run. */
export interface SkipReason {
  status: "skipped" | "cancelled";
  message: string;
  /** Dependents of a blocked task are skipped too. */
  blocked: boolean;
}

/** Inputs of {@linkcode schedule}. */
export interface ScheduleOptions {
  /** Every task of the plan, in plan order. */
  tasks: readonly TaskIR[];
  maxParallel: number;
  failFast: boolean;
  /** Aborting stops dispatching; running tasks are cancelled by `execute`. */
  signal: AbortSignal;
  /** Results decided before the run (resumed or excluded tasks): final, never executed. */
  preset?: ReadonlyMap<string, TaskResult>;
  /** Runs one task to its final result. */
  execute: (task: TaskIR, wave: number) => Promise<TaskResult>;
  /** Builds the result of a task that does not run. */
  skipResult: (task: TaskIR, reason: SkipReason) => TaskResult;
  /**
   * Records a final result (writes artifacts, emits events). Called once per task, before any
   * dependent is gated. The scheduler keeps only the status (and, for group members, the
   * message) afterwards: whoever needs more of a result keeps it here.
   */
  finalize: (task: TaskIR, result: TaskResult, index: number) => Promise<void>;
  /** Asks whether a `requires_approval` task may run. */
  approve?: (task: TaskIR) => Promise<boolean>;
  /** Lookup for `when:` variables (upstream values come from what `finalize` recorded). */
  whenLookup: (task: TaskIR) => (name: string) => string | undefined;
  /** Group id → ids of its direct members (all of them in `tasks`). */
  groups?: ReadonlyMap<string, readonly string[]>;
  /** Called when a group opens (its members may start). */
  openGroup?: (task: TaskIR, wave: number) => void;
  /** Builds a group's final result from the outcome derived from its members. */
  groupResult?: (task: TaskIR, outcome: GroupOutcome) => TaskResult;
  /**
   * Polled before dispatching: a message stops the run like fail_fast (the plan's circuit
   * breaker), and every task not started yet is skipped with it.
   */
  stopReason?: () => string | null;
  /**
   * Asked before each task is dispatched (the run's budget): undefined starts it, `"wait"`
   * puts it back until a running task finishes (only asked to wait while `running > 0`), a
   * reason skips it (blocked reasons skip its dependents too).
   */
  admit?: (task: TaskIR, running: number) => SkipReason | "wait" | undefined;
  /**
   * What `stopReason` and `admit` still wait for (a shared budget's ledger read in flight), or
   * undefined: awaited before tasks are dispatched, so they decide on what other runs spent.
   */
  settling?: () => Promise<void> | undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** What {@linkcode schedule} returns (results went to `finalize`, one per task). */
export interface ScheduleOutcome {
  /** The task whose failure triggered fail_fast, if any. */
  failFastBy: string | null;
}

/**
 * Runs the DAG to completion: every task's final result is handed to `finalize` exactly once.
 *
 * Per task, only small facts stay in memory (a status code, a blocked flag, counters, the
 * dependents as flat arrays); the results themselves are not kept, so a 20 000-task run does
 * not hold 20 000 result objects here.
 */
export async function schedule(options: ScheduleOptions): Promise<ScheduleOutcome> {
  const { tasks, signal } = options;
  const index = new Map(tasks.map((task, i) => [task.id, i]));
  // members[g]: indices of group g's direct members; groupOf[m]: the group of member m
  const members = new Map<number, number[]>();
  const groupOf = new Map<number, number>();
  for (const [id, ids] of options.groups ?? []) {
    const g = index.get(id);
    if (g === undefined) continue;
    const list = ids.map((m) => index.get(m)).filter((m): m is number => m !== undefined);
    members.set(g, list);
    for (const m of list) groupOf.set(m, g);
  }
  // A member's wave counts from its group's: it cannot start before the group opens.
  const wave = depths(tasks.map((task, i) => {
    const g = groupOf.get(i);
    return g === undefined ? task : { ...task, depends_on: [...task.depends_on, tasks[g]!.id] };
  }));
  // Dependents in compressed form (one Int32Array of edges + offsets): an array per task
  // would cost ~150 bytes each once pushed to.
  const remaining = new Int32Array(tasks.length);
  const firstDependent = new Int32Array(tasks.length + 1);
  for (const task of tasks) {
    for (const dep of task.depends_on) {
      const d = index.get(dep);
      if (d !== undefined) firstDependent[d + 1]!++;
    }
  }
  for (let i = 0; i < tasks.length; i++) firstDependent[i + 1]! += firstDependent[i]!;
  const dependents = new Int32Array(firstDependent[tasks.length]!);
  const fill = firstDependent.slice(0, tasks.length);
  for (const [i, task] of tasks.entries()) {
    let count = 0;
    for (const dep of task.depends_on) {
      const d = index.get(dep);
      if (d === undefined) continue;
      dependents[fill[d]!++] = i;
      count++;
    }
    // members also wait for their group to open
    remaining[i] = count + (groupOf.has(i) ? 1 : 0);
  }
  const openMembers = new Map([...members].map(([g, list]) => [g, list.length]));
  const opened = new Set<number>();
  // status[i]: index into STATUS_CODES + 1, 0 while the task is not final
  const status = new Uint8Array(tasks.length);
  const blocked = new Uint8Array(tasks.length);
  // a group's outcome names its members' messages: kept for members only
  const memberMessages = new Map<number, string>();
  let finished = 0;
  // finalize promises not yet settled (not one per task: settled ones are dropped)
  const writes = new Set<Promise<void>>();
  let writeError: { error: unknown } | undefined;
  const ready = new ReadySet(tasks.length);
  const inFlight = new Map<number, Promise<void>>();
  let failFastBy: string | null = null;
  let wake: (() => void) | undefined;

  const isDone = (i: number) => status[i] !== 0;
  const statusOf = (i: number): TaskStatus => STATUS_CODES[status[i]! - 1]!;

  type Work = Array<[number, TaskResult, boolean]>;

  /**
   * Records a final result; false when the task already had one. A group that never opened
   * hands its reason to its open members (queued on `work`).
   */
  const record = (i: number, result: TaskResult, isBlocked: boolean, work: Work): boolean => {
    const task = tasks[i]!;
    if (isDone(i)) return false;
    const code = STATUS_CODES.indexOf(result.status) + 1;
    // an unknown status would leave the task open forever: fail loudly instead
    if (code === 0) throw new Error(`task '${task.id}': unknown status ${result.status}`);
    status[i] = code;
    finished++;
    if (isBlocked) blocked[i] = 1;
    if (groupOf.has(i)) memberMessages.set(i, result.message);
    track(options.finalize(task, result, i));
    if (result.status === "failed" && options.failFast && failFastBy === null) {
      failFastBy = task.id;
    }
    if (members.has(i) && !opened.has(i)) {
      const reason: SkipReason = {
        status: result.status === "cancelled" ? "cancelled" : "skipped",
        message: result.message,
        blocked: isBlocked,
      };
      for (const m of members.get(i)!) {
        if (!isDone(m)) work.push([m, options.skipResult(tasks[m]!, reason), reason.blocked]);
      }
    }
    return true;
  };

  /** What a final task unblocks: its group's closing, its dependents (queued on `work`). */
  const releaseAfter = (i: number, work: Work) => {
    const g = groupOf.get(i);
    if (g !== undefined) {
      openMembers.set(g, openMembers.get(g)! - 1);
      if (openMembers.get(g) === 0 && !isDone(g)) work.push(closeGroup(g));
    }
    for (let e = firstDependent[i]!; e < firstDependent[i + 1]!; e++) {
      const d = dependents[e]!;
      remaining[d]!--;
      if (remaining[d] === 0 && !isDone(d)) release(d, work);
    }
  };

  /** Records a final result and releases dependents (iteratively: chains can be long). */
  const complete = (first: number, firstResult: TaskResult, firstBlocked: boolean) => {
    const work: Work = [[first, firstResult, firstBlocked]];
    while (work.length > 0) {
      const [i, result, isBlocked] = work.pop()!;
      if (record(i, result, isBlocked, work)) releaseAfter(i, work);
    }
  };

  /**
   * Records every preset result (resumed, not selected) before any of them releases a
   * dependent: released first, a task with a preset of its own would be made ready and run.
   */
  const completePresets = (presets: ReadonlyMap<string, TaskResult>) => {
    const recorded: number[] = [];
    const handed: Work = [];
    for (const [i, task] of tasks.entries()) {
      const preset = presets.get(task.id);
      if (preset && record(i, preset, false, handed)) recorded.push(i);
    }
    while (handed.length > 0) {
      const [i, result, isBlocked] = handed.pop()!;
      if (record(i, result, isBlocked, handed)) recorded.push(i);
    }
    const work: Work = [];
    for (const i of recorded) releaseAfter(i, work);
    while (work.length > 0) {
      const [i, result, isBlocked] = work.pop()!;
      if (record(i, result, isBlocked, work)) releaseAfter(i, work);
    }
  };

  /** A task whose dependencies are all final: skip it, open it (group) or make it ready. */
  const release = (i: number, work: Work) => {
    const decision = gate(i);
    if (decision) work.push([i, options.skipResult(tasks[i]!, decision), decision.blocked]);
    else if (members.has(i)) openGroup(i, work);
    else ready.add(i);
  };

  const track = (write: Promise<void>) => {
    writes.add(write);
    write.then(
      () => writes.delete(write),
      (error) => {
        writes.delete(write);
        writeError ??= { error };
      },
    );
  };

  const openGroup = (g: number, work: Work) => {
    opened.add(g);
    options.openGroup?.(tasks[g]!, wave.get(tasks[g]!.id) ?? 0);
    if (openMembers.get(g) === 0) work.push(closeGroup(g));
    for (const m of members.get(g)!) {
      remaining[m]!--;
      if (remaining[m] === 0 && !isDone(m)) release(m, work);
    }
  };

  const closeGroup = (g: number): [number, TaskResult, boolean] => {
    const outcome = groupOutcome(members.get(g)!.map((m) => ({
      id: tasks[m]!.id,
      status: statusOf(m),
      message: memberMessages.get(m) ?? "",
      blocked: blocked[m] === 1,
    })));
    const result = options.groupResult?.(tasks[g]!, outcome) ??
      options.skipResult(tasks[g]!, {
        status: outcome.status === "cancelled" ? "cancelled" : "skipped",
        message: outcome.message,
        blocked: outcome.blocked,
      });
    return [g, result, outcome.blocked];
  };

  /** Decides whether a task whose dependencies are final may run; a reason when it may not. */
  const gate = (i: number): SkipReason | undefined => {
    const task = tasks[i]!;
    if (signal.aborted) return CANCELLED_BEFORE_START;
    if (task.when) {
      const deps = task.depends_on.map((dep) => {
        const d = index.get(dep);
        return d !== undefined && isDone(d) ? statusOf(d) : "skipped";
      });
      const ok = evaluateWhen(task.when.expr, {
        lookup: options.whenLookup(task),
        dependencyStatuses: deps,
      });
      return ok
        ? undefined
        : { status: "skipped", message: `Condition not met: ${task.when.source}`, blocked: false };
    }
    const bad = task.depends_on.filter((dep) => {
      const d = index.get(dep);
      return d !== undefined && isDone(d) && (!SUCCESS_LIKE.has(statusOf(d)) || blocked[d] === 1);
    });
    if (bad.length === 0) return undefined;
    return {
      status: "skipped",
      message: `${DEPENDENCY_FAILED_PREFIX}${bad.join(", ")}`,
      blocked: true,
    };
  };

  const dispatch = (i: number) => {
    const task = tasks[i]!;
    const run = async () => {
      let result: TaskResult;
      if (task.requires_approval && !(await (options.approve?.(task) ?? Promise.resolve(false)))) {
        result = options.skipResult(task, {
          status: "skipped",
          message: APPROVAL_DENIED,
          blocked: false,
        });
      } else {
        result = await options.execute(task, wave.get(task.id) ?? 0);
      }
      inFlight.delete(i);
      complete(i, result, result.status === "cancelled");
      wake?.();
    };
    inFlight.set(i, run());
  };

  // Preset results first, then the roots.
  if (options.preset) completePresets(options.preset);
  for (let i = 0; i < tasks.length; i++) {
    if (remaining[i] === 0 && !isDone(i) && !ready.has(i) && !opened.has(i)) {
      const work: Work = [];
      release(i, work);
      for (const [j, result, isBlocked] of work) complete(j, result, isBlocked);
    }
  }

  const onAbort = () => wake?.();
  signal.addEventListener("abort", onAbort);
  try {
    while (finished < tasks.length) {
      if (ready.size > 0 && inFlight.size < options.maxParallel) {
        const settling = options.settling?.();
        if (settling) await settling;
      }
      const stopMessage = writeError
        ? `Not started: the run directory cannot be written (${messageOf(writeError.error)})`
        : options.stopReason?.() ?? null;
      const stopped = signal.aborted || failFastBy !== null || stopMessage !== null;
      const waiting: number[] = [];
      while (!stopped && ready.size > 0 && inFlight.size < options.maxParallel) {
        const i = ready.take()!;
        // made ready, then final another way (a group closed for it): never run it
        if (isDone(i)) continue;
        const verdict = options.admit?.(tasks[i]!, inFlight.size);
        if (verdict === undefined || (verdict === "wait" && inFlight.size === 0)) dispatch(i);
        else if (verdict === "wait") waiting.push(i);
        else complete(i, options.skipResult(tasks[i]!, verdict), verdict.blocked);
      }
      for (const i of waiting) ready.add(i);
      if (inFlight.size === 0) {
        if (!stopped && ready.size > 0) continue;
        // Nothing runs and nothing can start: close every task still open.
        const reason: SkipReason = signal.aborted ? CANCELLED_BEFORE_START : failFastBy !== null
          ? {
            status: "skipped",
            message: `fail_fast triggered by task '${failFastBy}'`,
            blocked: true,
          }
          : stopMessage !== null
          ? { status: "skipped", message: stopMessage, blocked: true }
          : {
            status: "skipped",
            message: "Unreachable: a dependency never finished",
            blocked: true,
          };
        ready.clear();
        // plain tasks first: an open group then closes from its members' results
        for (let i = 0; i < tasks.length; i++) {
          if (!isDone(i) && !members.has(i)) {
            complete(i, options.skipResult(tasks[i]!, reason), true);
          }
        }
        for (let i = 0; i < tasks.length; i++) {
          if (!isDone(i)) complete(i, options.skipResult(tasks[i]!, reason), true);
        }
        break;
      }
      await new Promise<void>((resolve) => wake = resolve);
      wake = undefined;
    }
    await Promise.all(inFlight.values());
    await Promise.all(writes);
    if (writeError) throw writeError.error;
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
  return { failFastBy };
}

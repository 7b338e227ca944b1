/**
 * `group:` tasks: a group's sub-plan runs as a nested DAG inside the parent run. Before
 * scheduling, the plan is flattened: each group task is followed by its sub-plan's tasks,
 * renamed `<group-id>/<inner-id>` (dependencies too), recursively for nested groups. The
 * scheduler then runs one DAG, so the parent's `max_parallel` and `fail_fast` apply to inner
 * tasks exactly as to any other task, and every inner task gets its own log, result, events and
 * manifest entry.
 *
 * A group opens when its own dependencies are final and its gate passes (`when:`, failed
 * dependencies); its inner roots then become ready. It closes, with a status derived from its
 * direct members, once every member is final (see {@linkcode groupOutcome}).
 *
 * @module
 */
import type { PlanIR, TaskIR } from "../plan/ir.ts";
import type { TaskStatus } from "./events.ts";

/** Where a flattened inner task came from: templates and `when:` use its original names. */
export interface InnerOrigin {
  /** The task as its sub-plan wrote it (unprefixed ids). */
  task: TaskIR;
  /** `<group-id>/`, prepended to every id of the sub-plan. */
  prefix: string;
  /** The sub-plan (its name and goal are what `{{ plan_name }}` and `{{ goal }}` mean). */
  plan: PlanIR;
}

/** A plan with its groups expanded. */
export interface FlatPlan {
  /** Every task in plan order, each group followed by its (flattened) members. */
  tasks: TaskIR[];
  /** Group id → ids of its direct members (flattened ids). */
  groups: Map<string, string[]>;
  /** Flattened inner id → its origin. Top-level tasks are absent. */
  inner: Map<string, InnerOrigin>;
}

/**
 * Expands every `group:` task of a task list. Lists without groups come back unchanged.
 *
 * @param tasks the plan's tasks, in plan order
 */
export function flattenGroups(tasks: readonly TaskIR[]): FlatPlan {
  const flat: FlatPlan = { tasks: [], groups: new Map(), inner: new Map() };
  const visit = (list: readonly TaskIR[], prefix: string, plan: PlanIR | undefined) => {
    for (const task of list) {
      const id = prefix + task.id;
      const renamed: TaskIR = prefix === ""
        ? task
        : { ...task, id, depends_on: task.depends_on.map((dep) => prefix + dep) };
      flat.tasks.push(renamed);
      if (plan) flat.inner.set(id, { task, prefix, plan });
      if (task.kind === "group" && task.group) {
        const sub = task.group.plan;
        flat.groups.set(id, sub.tasks.map((member) => `${id}/${member.id}`));
        visit(sub.tasks, `${id}/`, sub);
      }
    }
  };
  visit(tasks, "", undefined);
  return flat;
}

/** A group's final status and message, derived from its direct members' results. */
export interface GroupOutcome {
  status: TaskStatus;
  message: string;
  /** Dependents of the group are skipped (its members were stopped by a failure elsewhere). */
  blocked: boolean;
}

/** What {@linkcode groupOutcome} needs of one member. */
export interface MemberState {
  id: string;
  status: TaskStatus;
  message: string;
  /** Skipped because of a failure (dependency, fail_fast) rather than a condition. */
  blocked: boolean;
}

/**
 * Derives a group's status from its members: cancelled if one was cancelled, failed if one
 * failed, skipped (blocked) if a failure elsewhere stopped some of them, otherwise success-like
 * (soft_failed if one soft-failed, dry_run if all were dry runs, else success).
 */
export function groupOutcome(members: readonly MemberState[]): GroupOutcome {
  const having = (status: TaskStatus) => members.filter((m) => m.status === status);
  const names = (list: readonly MemberState[]) => list.map((m) => m.id).join(", ");
  const cancelled = having("cancelled");
  if (cancelled.length > 0) {
    return { status: "cancelled", message: `Cancelled (${names(cancelled)})`, blocked: true };
  }
  const failed = having("failed");
  if (failed.length > 0) {
    return { status: "failed", message: `Inner task failed: ${names(failed)}`, blocked: false };
  }
  const stopped = members.find((m) => m.blocked);
  if (stopped) return { status: "skipped", message: stopped.message, blocked: true };
  const soft = having("soft_failed");
  if (soft.length > 0) {
    return {
      status: "soft_failed",
      message: `Inner task soft-failed: ${names(soft)}`,
      blocked: false,
    };
  }
  if (members.length > 0 && having("dry_run").length === members.length) {
    return { status: "dry_run", message: "Dry run only", blocked: false };
  }
  const ok = members.length - having("skipped").length;
  return {
    status: "success",
    message: `ok (${ok} of ${members.length} inner tasks ran)`,
    blocked: false,
  };
}

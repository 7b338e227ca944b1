/**
 * The ids a run gives every task, group members included (`<group>/<member>`, nested), must be
 * distinct, and so must their file stems in the run directory: a member named like a top-level
 * task, or ids such as `a/b` and `a__b`, would share one log and one result file, and the run
 * would lose a task. Checked once the whole plan, groups included, is loaded.
 *
 * @module
 */
import type { PlanIssue } from "../errors.ts";
import type { PlanIR, TaskIR } from "./ir.ts";
import { taskFileStem } from "./names.ts";

/** One task as the run will name it. */
interface RunTask {
  id: string;
  task: TaskIR;
}

function runTasks(tasks: readonly TaskIR[], prefix: string, into: RunTask[]): RunTask[] {
  for (const task of tasks) {
    const id = prefix + task.id;
    into.push({ id, task });
    if (task.group) runTasks(task.group.plan.tasks, `${id}/`, into);
  }
  return into;
}

/**
 * E003 for every task whose run id, or whose file stem, an earlier task already has.
 *
 * @param ir the loaded plan, group sub-plans inside their group tasks
 */
export function namespacedIdIssues(ir: PlanIR): PlanIssue[] {
  const issues: PlanIssue[] = [];
  const byId = new Map<string, RunTask>();
  const byStem = new Map<string, RunTask>();
  for (const current of runTasks(ir.tasks, "", [])) {
    const stem = taskFileStem(current.id);
    const same = byId.get(current.id);
    const clash = same ?? byStem.get(stem);
    if (clash) {
      const at = clash.task.origin;
      issues.push({
        code: "E003",
        message: same
          ? `task id "${current.id}" is used twice once group members are named after their group`
          : `task ids "${clash.id}" and "${current.id}" would share the run files ${stem}.log and ${stem}.result.json`,
        ...current.task.origin,
        hint: `the other is at ${at.file}:${at.line}:${at.column}; rename one of them`,
      });
      continue;
    }
    byId.set(current.id, current);
    byStem.set(stem, current);
  }
  return issues;
}

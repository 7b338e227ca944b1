/**
 * Template variables at dispatch time: what `{{ name }}` means in a task's command,
 * pre_command, verify_command and `when:`. Upstream variables come only from the task's direct
 * dependencies; `--set` values override everything.
 *
 * @module
 */
import type { PlanIR, TaskIR } from "../plan/ir.ts";
import { classifyVar } from "../plan/template.ts";
import type { FlatPlan, InnerOrigin } from "./groups.ts";
import type { TaskResult } from "./result.ts";

/** Values shared by every task of a run. */
export interface RunVars {
  /** The plan. */
  plan: PlanIR;
  /** `--set KEY=VALUE` values. */
  set: Readonly<Record<string, string>>;
}

function upstreamField(result: TaskResult, field: string): string | undefined {
  switch (field) {
    case "status":
      return result.status;
    case "exit_code":
      return result.exit_code === null ? "" : String(result.exit_code);
    case "stdout_tail":
      return result.stdout_tail;
    case "log":
      return result.log_path ?? "";
    case "duration":
      return result.duration_sec.toFixed(1);
    case "summary":
      return result.structured_context.summary ?? "(no summary)";
    case "result_text":
      return result.structured_context.result_text ?? "(none)";
    case "files_changed":
    case "decisions":
    case "errors":
    case "warnings": {
      const list = result.structured_context[field];
      return list.length > 0 ? list.join("\n") : "(none)";
    }
    default:
      return undefined;
  }
}

/**
 * A lookup function for one task's templates.
 *
 * @param task the task being dispatched
 * @param vars plan and `--set` values
 * @param results finished results by id (only direct dependencies are visible)
 */
export function taskLookup(
  task: TaskIR,
  vars: RunVars,
  results: ReadonlyMap<string, TaskResult>,
): (name: string) => string | undefined {
  const deps = new Set(task.depends_on);
  const setNames = new Set(Object.keys(vars.set));
  return (name) => {
    const v = classifyVar(name, deps, setNames);
    switch (v.kind) {
      case "set":
        return vars.set[v.name];
      case "global":
        if (v.name === "plan_name") return vars.plan.name;
        if (v.name === "task_id") return task.id;
        if (v.name === "goal") return vars.plan.goal;
        if (v.name === "workspace_root") return vars.plan.workspace_root ?? "";
        return undefined;
      case "matrix":
        return task.matrix_values?.[v.key];
      case "upstream": {
        const result = results.get(v.task);
        return result ? upstreamField(result, v.field) : undefined;
      }
      default:
        return undefined;
    }
  };
}

/**
 * For each task, how many tasks may read its result in templates or `when:` (its dependents,
 * under flattened and under sub-plan names), and for each task the tasks it reads: a result is
 * kept in memory only until its last reader is final.
 *
 * @param tasks the flattened tasks, in plan order
 * @param inner flattened inner ids → their origin (they read under their sub-plan's names)
 * @returns `readers[i]`, and the tasks task `i` reads: `reads[start[i] .. start[i + 1]]`
 */
export function templateReaders(
  tasks: readonly TaskIR[],
  inner: FlatPlan["inner"],
): { readers: Int32Array; start: Int32Array; reads: Int32Array } {
  const index = new Map(tasks.map((task, i) => [task.id, i]));
  const lists = tasks.map((task) => {
    const origin = inner.get(task.id);
    const ids = new Set(task.depends_on);
    for (const dep of origin?.task.depends_on ?? []) ids.add(origin!.prefix + dep);
    return [...ids].map((id) => index.get(id)).filter((i): i is number => i !== undefined);
  });
  const readers = new Int32Array(tasks.length);
  const start = new Int32Array(tasks.length + 1);
  for (const [i, list] of lists.entries()) start[i + 1] = start[i]! + list.length;
  const reads = new Int32Array(start[tasks.length]!);
  for (const [i, list] of lists.entries()) {
    reads.set(list, start[i]!);
    for (const d of list) readers[d]!++;
  }
  return { readers, start, reads };
}

/**
 * {@linkcode taskLookup} for a task of the flattened plan. Inner tasks of a group were written
 * against their sub-plan's ids: they see their direct dependencies under those names, and the
 * sub-plan as `plan_name` / `goal`; `task_id` stays the flattened id.
 *
 * @param task the task being dispatched (flattened id)
 * @param inner flattened inner id → its origin (`flattenGroups(...).inner`)
 * @param vars plan and `--set` values
 * @param results finished results by flattened id
 */
export function flatTaskLookup(
  task: TaskIR,
  inner: ReadonlyMap<string, InnerOrigin>,
  vars: RunVars,
  results: ReadonlyMap<string, TaskResult>,
): (name: string) => string | undefined {
  const origin = inner.get(task.id);
  if (!origin) return taskLookup(task, vars, results);
  const view = new Map<string, TaskResult>();
  for (const dep of origin.task.depends_on) {
    const result = results.get(origin.prefix + dep);
    if (result) view.set(dep, result);
  }
  const lookup = taskLookup(origin.task, { plan: origin.plan, set: vars.set }, view);
  return (name: string) => name === "task_id" ? task.id : lookup(name);
}

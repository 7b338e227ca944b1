/**
 * Building blocks shared by the validation checks: an issue at a path inside a task, and the
 * texts of a command field.
 *
 * @module
 */
import type { PlanIssue } from "../errors.ts";
import type { WorkingTask } from "./lower.ts";
import type { DataPath } from "./yaml.ts";

/** An issue at `sub` inside the task's node in its own file. */
export function issue(
  working: WorkingTask,
  sub: DataPath,
  code: string,
  message: string,
  hint?: string,
): PlanIssue {
  return {
    code,
    message,
    file: working.map.file,
    ...working.map.locate([...working.path, ...sub]),
    ...(hint ? { hint } : {}),
  };
}

/** The texts of a command field: one for a string, every argument for a list. */
export function commandTexts(value: string | string[] | null | undefined): string[] {
  if (value == null) return [];
  return typeof value === "string" ? [value] : value;
}

/**
 * `inputs:` patterns (globs of files whose content keys a task's cache entry): the syntax
 * check validation runs. Matching and hashing happen at run time (lib/run/cache_inputs.ts).
 *
 * @module
 */
import type { PlanIssue } from "../errors.ts";
import type { WorkingTask } from "./lower.ts";
import { issue } from "./validate_common.ts";

/** What is wrong with a pattern, or undefined when it is usable. */
export function inputPatternProblem(pattern: string): string | undefined {
  const body = pattern.startsWith("!") ? pattern.slice(1) : pattern;
  if (body.trim() === "") return "is empty";
  let brackets = 0;
  let braces = 0;
  for (const char of body) {
    if (char === "[") brackets++;
    else if (char === "]") brackets = Math.max(0, brackets - 1);
    else if (char === "{") braces++;
    else if (char === "}") braces--;
    if (braces < 0) return "has a '}' without its '{'";
  }
  if (brackets > 0) return "has a '[' without its ']'";
  if (braces > 0) return "has a '{' without its '}'";
  return undefined;
}

/**
 * `inputs:` rules: each pattern must parse (E086), a group task has none (E086: its members
 * do), and inputs that cannot take effect are warned about (W32).
 *
 * @param working the task
 * @param errors collected errors
 * @param warnings collected warnings
 */
export function checkInputs(
  working: WorkingTask,
  errors: PlanIssue[],
  warnings: PlanIssue[],
): void {
  const { task } = working;
  const inputs = task.inputs;
  if (inputs == null) return;
  if (task.group != null) {
    errors.push(issue(
      working,
      ["inputs"],
      "E086",
      `group task "${task.id}" cannot declare inputs`,
      "declare inputs on the tasks of its sub-plan: they are cached one by one",
    ));
    return;
  }
  inputs.forEach((pattern, i) => {
    const problem = inputPatternProblem(pattern);
    if (problem) {
      errors.push(issue(
        working,
        ["inputs", i],
        "E086",
        `inputs pattern "${pattern}" ${problem}`,
        "globs are relative to the task's workdir, e.g. src/**/*.ts or !src/**/*_test.ts",
      ));
    }
  });
  if (task.cache === false) {
    warnings.push(issue(
      working,
      ["inputs"],
      "W32",
      `inputs of task "${task.id}" have no effect: it sets cache: false`,
    ));
  } else if (inputs.length > 0 && inputs.every((p) => p.startsWith("!"))) {
    warnings.push(issue(
      working,
      ["inputs"],
      "W32",
      `inputs of task "${task.id}" only exclude files: no file is keyed`,
      "add the patterns to include, e.g. src/**, before the !exclusions",
    ));
  }
}

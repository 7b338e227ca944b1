/**
 * Checks of what `when:` and `{{ }}` templates refer to: every variable must be a known global,
 * a `--set` value, a matrix key of the task, or a field of a direct dependency.
 *
 * @module
 */
import { didYouMean, type PlanIssue } from "../errors.ts";
import type { WorkingTask } from "./lower.ts";
import { classifyVar, templateVars } from "./template.ts";
import { parseWhen, WhenSyntaxError, whenVars } from "./when.ts";
import { commandTexts, issue } from "./validate_common.ts";
import type { ValidateInput } from "./validate.ts";

/** Parses a task's `when:` and checks the variables it reads (E015). */
export function checkWhen(
  working: WorkingTask,
  ids: ReadonlySet<string>,
  depSet: ReadonlySet<string>,
  errors: PlanIssue[],
): void {
  const source = working.task.when!;
  try {
    const expr = parseWhen(source);
    for (const name of whenVars(expr)) {
      const problem = templateProblem(name, working, ids, depSet, new Set());
      if (problem) {
        errors.push(issue(working, ["when"], "E015", `when: ${problem.message}`, problem.hint));
      }
    }
  } catch (error) {
    if (!(error instanceof WhenSyntaxError)) throw error;
    const at = working.map.locate([...working.path, "when"]);
    errors.push({
      code: "E015",
      message: `invalid when expression "${source}": ${error.message}`,
      file: working.map.file,
      line: at.line,
      column: at.line > 0 ? at.column + error.column - 1 : 0,
      hint: "write e.g. `{{ build.status }} == success`, combine with and/or/not, or use success()",
    });
  }
}

function templateProblem(
  name: string,
  working: WorkingTask,
  ids: ReadonlySet<string>,
  depSet: ReadonlySet<string>,
  setVars: ReadonlySet<string>,
): { message: string; hint?: string; warning?: boolean } | undefined {
  const v = classifyVar(name, ids, setVars);
  switch (v.kind) {
    case "global":
    case "set":
      return undefined;
    case "matrix":
      if (working.matrixValues && v.key in working.matrixValues) return undefined;
      return {
        message: `{{ ${name} }} is not a matrix key of task "${working.task.id}"`,
        hint: working.matrixValues
          ? `its matrix keys are: ${Object.keys(working.matrixValues).join(", ")}`
          : "only tasks with `matrix:` can use {{ matrix.<key> }}",
      };
    case "upstream":
      if (depSet.has(v.task)) return undefined;
      return {
        message:
          `{{ ${name} }} reads task "${v.task}", which is not in depends_on of "${working.task.id}"`,
        hint: `add "${v.task}" to depends_on`,
      };
    case "unknown_task": {
      const suggestion = didYouMean(v.task, ids);
      return {
        message: `{{ ${name} }} refers to unknown task "${v.task}"`,
        hint: suggestion ? `did you mean "${suggestion}"?` : "check the task ids of the plan",
      };
    }
    case "unknown":
      return {
        message: `unknown template variable {{ ${name} }} is left as written`,
        hint: "see the template variables in docs/plan-reference.md",
        warning: true,
      };
  }
}

/** A cheap pre-check: most tasks of a big plan have no `{{` anywhere. */
function mayHaveTemplates(task: WorkingTask["task"]): boolean {
  for (
    const value of [
      task.prompt,
      task.command,
      task.pre_command,
      task.verify_command,
      task.guard_command,
    ]
  ) {
    if (value == null) continue;
    if (
      typeof value === "string" ? value.includes("{{") : value.some((part) => part.includes("{{"))
    ) {
      return true;
    }
  }
  return false;
}

/** Checks the templates of a task's prompt and command fields (E030, W02). */
export function checkTemplates(
  working: WorkingTask,
  input: ValidateInput,
  ids: ReadonlySet<string>,
  depSet: ReadonlySet<string>,
  errors: PlanIssue[],
  warnings: PlanIssue[],
): void {
  const { task } = working;
  if (!mayHaveTemplates(task)) return;
  const fields: Array<[string, string[]]> = [
    ["prompt", commandTexts(task.prompt)],
    ["command", commandTexts(task.command)],
    ["pre_command", commandTexts(task.pre_command)],
    ["verify_command", commandTexts(task.verify_command)],
    ["guard_command", commandTexts(task.guard_command)],
  ];
  for (const [field, texts] of fields) {
    const seen = new Set<string>();
    texts.forEach((text, i) => {
      for (const name of templateVars(text)) {
        if (seen.has(name)) continue;
        seen.add(name);
        const problem = templateProblem(name, working, ids, depSet, input.setVars);
        if (!problem) continue;
        const sub = typeof task[field as "command"] === "string" ? [field] : [field, i];
        if (problem.warning) {
          warnings.push(issue(working, sub, "W02", problem.message, problem.hint));
        } else errors.push(issue(working, sub, "E030", problem.message, problem.hint));
      }
    });
  }
}

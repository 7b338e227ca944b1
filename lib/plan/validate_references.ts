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
import { isModulePlan } from "./names.ts";

/** Parses a task's `when:` and checks the variables it reads (E015). */
export function checkWhen(
  working: WorkingTask,
  ids: ReadonlySet<string>,
  depSet: ReadonlySet<string>,
  errors: PlanIssue[],
  warnings: PlanIssue[],
): void {
  const source = working.task.when!;
  try {
    const expr = parseWhen(source);
    const bare = bareTaskField(source, ids);
    if (bare) {
      warnings.push(issue(
        working,
        ["when"],
        "W40",
        `when: ${bare} is compared as the text "${bare}", not as a task's field`,
        `write {{ ${bare} }} to read the field`,
      ));
    }
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
      // a YAML scalar's position is its first character; a TS plan's is the `.task(` call
      ...(at.line > 0 && !isModulePlan(working.map.file)
        ? valuePosition(working.map.file, at, error.column)
        : at),
      hint: "write e.g. `{{ build.status }} == success`, combine with and/or/not, or use success()",
    });
  }
}

/** A `<task id>.<field>` written outside `{{ }}` and quotes in a `when:`, if any. */
function bareTaskField(source: string, ids: ReadonlySet<string>): string | undefined {
  const outside = source.replace(/\{\{.*?\}\}|'[^']*'|"[^"]*"/g, " ");
  for (const match of outside.matchAll(/(?<![\w.-])([\w.-]+)\.([a-z_]+)(?![\w.-])/g)) {
    if (ids.has(match[1]!)) return match[0];
  }
  return undefined;
}

/** A 1-based line and column in a file. */
interface Position {
  line: number;
  column: number;
}

/** Raw length of a double-quoted escape, by the letter after the backslash (others: 2). */
const ESCAPE_LENGTHS: Readonly<Record<string, number>> = { x: 4, u: 6, U: 10 };

/**
 * Where the `offset`-th character (1-based) of a scalar's value is in the file. The source map
 * gives only the scalar's start, which for a quoted or block scalar is its quote or `|`/`>`,
 * not its first character; so this reads the text there. Only an error path pays for reading
 * the file again, and when it cannot be read the plain-scalar position is the best guess.
 */
function valuePosition(file: string, start: Position, offset: number): Position {
  let text: string;
  try {
    text = Deno.readTextFileSync(file);
  } catch {
    return { line: start.line, column: start.column + offset - 1 };
  }
  return scalarPosition(text.split("\n").map((line) => line.replace(/\r$/, "")), start, offset);
}

/** {@linkcode valuePosition} on the file's lines. */
function scalarPosition(lines: readonly string[], start: Position, offset: number): Position {
  const line = lines[start.line - 1] ?? "";
  // an anchor or a tag may come before the scalar itself
  const properties = /^(?:[&!]\S*[ \t]+)*/.exec(line.slice(start.column - 1))![0];
  const index = start.column - 1 + properties.length;
  const indicator = line[index];
  if (indicator === '"' || indicator === "'") {
    return { line: start.line, column: quotedIndex(line, index + 1, offset, indicator) + 1 };
  }
  if (indicator === "|" || indicator === ">") return blockPosition(lines, start.line, offset);
  // inside some flow collections the source map knows only the collection: stay at its start
  if (indicator === "{" || indicator === "[") return start;
  return { line: start.line, column: index + offset };
}

/**
 * Index in `line` of a quoted scalar's `offset`-th value character, its content starting at
 * `from`: escapes (`\t`, `\x41`) and doubled single quotes are longer in the text than in the
 * value. A scalar folded over several lines is followed only on its first.
 */
function quotedIndex(line: string, from: number, offset: number, quote: string): number {
  let i = from;
  for (let n = 1; n < offset && i < line.length; n++) {
    if (quote === "'") i += line.startsWith("''", i) ? 2 : 1;
    else if (line[i] === "\\") i += ESCAPE_LENGTHS[line[i + 1] ?? ""] ?? 2;
    else i++;
  }
  return i;
}

/**
 * Position of a block scalar's `offset`-th value character: its content starts on the line
 * after the indicator, at the first content line's indentation, and each line break is one
 * character of the value (`|` keeps it, `>` folds it into a space). Blank lines inside the
 * scalar, which the two styles count differently, are not followed.
 */
function blockPosition(lines: readonly string[], indicatorLine: number, offset: number): Position {
  let remaining = offset - 1;
  let indent = -1;
  let last: Position = { line: indicatorLine + 1, column: 1 };
  for (let i = indicatorLine; i < lines.length; i++) {
    const text = lines[i]!;
    if (text.trim() === "") continue;
    const lineIndent = text.length - text.trimStart().length;
    if (indent < 0) indent = lineIndent;
    else if (lineIndent < indent) break;
    const content = text.length - indent;
    last = { line: i + 1, column: indent + Math.min(remaining, content) + 1 };
    if (remaining <= content) return last;
    remaining -= content + 1;
  }
  return last;
}

function matrixKeyHint(key: string, keys: string[]): string {
  const suggestion = didYouMean(key, keys);
  return suggestion
    ? `did you mean {{ matrix.${suggestion} }}?`
    : `its matrix keys are: ${keys.join(", ")}`;
}

function templateProblem(
  name: string,
  working: WorkingTask,
  ids: ReadonlySet<string>,
  depSet: ReadonlySet<string>,
  setVars: ReadonlySet<string>,
): { message: string; hint?: string; warning?: boolean } | undefined {
  const v = classifyVar(name, ids, setVars);
  const owner = working.matrixParent ?? working.task.id;
  switch (v.kind) {
    case "global":
    case "set":
      return undefined;
    case "matrix":
      if (working.matrixValues && v.key in working.matrixValues) return undefined;
      return {
        // the matrix task, not each child: one problem, reported once
        message: `{{ ${name} }} is not a matrix key of task "${owner}"`,
        hint: working.matrixValues
          ? matrixKeyHint(v.key, Object.keys(working.matrixValues))
          : "only tasks with `matrix:` can use {{ matrix.<key> }}",
      };
    case "upstream":
      if (depSet.has(v.task)) return undefined;
      return {
        message: `{{ ${name} }} reads task "${v.task}", which is not in depends_on of "${owner}"`,
        hint: `add "${v.task}" to depends_on`,
      };
    case "unknown_task": {
      const children = [...ids].filter((id) => id.startsWith(`${v.task}.`));
      if (children.length > 0) {
        const field = name.slice(v.task.length + 1) || "stdout_tail";
        return {
          message:
            `{{ ${name} }} names matrix task "${v.task}", which runs as ${children.length} ` +
            `tasks (${children.slice(0, 3).join(", ")}${children.length > 3 ? ", …" : ""})`,
          hint: `name one of them ({{ ${children[0]}.${field} }}), or read them all with ` +
            `context_from: [${v.task}]`,
        };
      }
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

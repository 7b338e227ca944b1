/**
 * `{{ name }}` templates: finding the variables a text uses, classifying them, and rendering.
 * The syntax and the variable names are the reference tool's; unknown variables are left
 * verbatim when rendering (a prompt may legitimately contain other templating).
 *
 * @module
 */

/** Matches one placeholder; group 1 is the variable name. */
export const TEMPLATE_PATTERN: RegExp = /\{\{\s*([a-zA-Z0-9_.\-/]+)\s*\}\}/g;

/** Variables every task can use. */
export const GLOBAL_VARS: readonly string[] = [
  "workspace_root",
  "plan_name",
  "task_id",
  "goal",
  "upstream_synthesis",
  "workspace_brief",
  "task_knowledge",
  "knowledge_index",
];

/** Fields of an upstream task that `{{ <id>.<field> }}` can read. */
export const UPSTREAM_FIELDS: readonly string[] = [
  "status",
  "exit_code",
  "stdout_tail",
  "log",
  "duration",
  "files_changed",
  "decisions",
  "errors",
  "warnings",
  "result_text",
  "summary",
];

/** What a placeholder refers to. */
export type TemplateVar =
  | { kind: "global"; name: string }
  | { kind: "set"; name: string }
  | { kind: "matrix"; key: string }
  | { kind: "upstream"; task: string; field: string }
  | { kind: "unknown_task"; task: string; field: string }
  | { kind: "unknown"; name: string };

/** The variable names used in `text`, in order of appearance (duplicates kept). */
export function templateVars(text: string): string[] {
  const names: string[] = [];
  for (const match of text.matchAll(TEMPLATE_PATTERN)) names.push(match[1]!);
  return names;
}

function isUpstreamField(parts: readonly string[]): boolean {
  if (parts.length === 1) return UPSTREAM_FIELDS.includes(parts[0]!);
  return parts[0] === "output" && parts.length >= 2;
}

/**
 * Classifies a placeholder name against the plan's task ids. Task ids may themselves contain
 * dots (matrix children), so the longest id prefix followed by a known field wins.
 *
 * @param name the placeholder's variable name
 * @param taskIds every task id of the plan
 * @param setVars names given with `--set`
 */
export function classifyVar(
  name: string,
  taskIds: ReadonlySet<string>,
  setVars: ReadonlySet<string> = new Set(),
): TemplateVar {
  if (setVars.has(name)) return { kind: "set", name };
  if (GLOBAL_VARS.includes(name)) return { kind: "global", name };
  const parts = name.split(".");
  if (parts[0] === "matrix" && parts.length === 2) return { kind: "matrix", key: parts[1]! };
  for (let cut = parts.length - 1; cut >= 1; cut--) {
    const task = parts.slice(0, cut).join(".");
    const field = parts.slice(cut);
    if (taskIds.has(task) && isUpstreamField(field)) {
      return { kind: "upstream", task, field: field.join(".") };
    }
  }
  for (let cut = parts.length - 1; cut >= 1; cut--) {
    const field = parts.slice(cut);
    if (isUpstreamField(field)) {
      return { kind: "unknown_task", task: parts.slice(0, cut).join("."), field: field.join(".") };
    }
  }
  return { kind: "unknown", name };
}

/**
 * Replaces each placeholder whose value `lookup` knows; the others stay as written.
 *
 * @param text the template
 * @param lookup returns a variable's value, or undefined when unknown
 */
export function renderTemplate(text: string, lookup: (name: string) => string | undefined): string {
  return text.replace(TEMPLATE_PATTERN, (whole, name: string) => lookup(name) ?? whole);
}

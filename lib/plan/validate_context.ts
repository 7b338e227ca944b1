/**
 * Checks of the context keys (lib/context/): council configuration (E072), output_redact
 * patterns (E074), context_allowlist fields (E075), an engine for LLM context calls (E076),
 * context_engine names (E006), and warnings for context keys that do nothing (W32-W35).
 *
 * @module
 */
import { didYouMean, type PlanIssue } from "../errors.ts";
import type { WorkingTask } from "./lower.ts";
import { CUSTOM_ENGINE_NAME, ENGINE_NAMES, isBuiltinEngine } from "./names.ts";
import { templateVars, UPSTREAM_FIELDS } from "./template.ts";
import { commandTexts, issue } from "./validate_common.ts";

const LLM_MODES = new Set(["summarized", "map_reduce", "council"]);
const NOT_BUILT = new Set(["codebase_map", "scip", "recursive"]);
const ALLOWLIST_FIELDS = [...UPSTREAM_FIELDS, "output"];
/** Task keys that only matter with context_from. */
const CONTEXT_KEYS = [
  "context_mode",
  "context_budget_tokens",
  "context_compaction",
  "context_model",
  "context_engine",
  "context_inject",
  "context_allowlist",
] as const;

/** Checks a task's context keys. */
export function checkContextFields(
  working: WorkingTask,
  errors: PlanIssue[],
  warnings: PlanIssue[],
): void {
  const { task } = working;
  const hasContext = (task.context_from?.length ?? 0) > 0;
  const mode = task.context_mode ?? "raw";
  const engine = task.context_engine ?? task.engine;

  if (!hasContext) {
    const set = CONTEXT_KEYS.filter((key) => task[key] != null);
    if (set.length > 0) {
      warnings.push(issue(
        working,
        [set[0]!],
        "W39",
        `${set.join(", ")} ${set.length > 1 ? "have" : "has"} no effect without context_from`,
        'add context_from: [<dependency ids>] or ["*"]',
      ));
    }
    const texts = [task.prompt, ...commandTexts(task.command)].filter((t) => t != null);
    if (texts.some((t) => templateVars(t!).includes("upstream_synthesis"))) {
      warnings.push(issue(
        working,
        [task.prompt != null ? "prompt" : "command"],
        "W33",
        "{{ upstream_synthesis }} is left as written: the task has no context_from",
        "add context_from to build the synthesis",
      ));
    }
  }
  if (hasContext && NOT_BUILT.has(mode)) {
    warnings.push(issue(
      working,
      ["context_mode"],
      "W34",
      `context_mode ${mode} is not built by this runtime: raw is used`,
      "use raw, selective, layered, structural, knowledge_graph, summarized, map_reduce or council",
    ));
  }
  if (hasContext && task.context_inject != null && task.engine == null) {
    warnings.push(issue(
      working,
      ["context_inject"],
      "W35",
      "context_inject is for engine prompts: a shell task gets its context in $MAESTRO_CONTEXT",
    ));
  }
  if (hasContext && LLM_MODES.has(mode) && engine == null) {
    errors.push(issue(
      working,
      ["context_mode"],
      "E076",
      `context_mode ${mode} makes LLM calls but task "${task.id}" has no engine`,
      "set context_engine (and context_model) for the calls",
    ));
  }
  if (task.context_engine != null && !isBuiltinEngine(task.context_engine)) {
    const declared = Object.keys(working.engines ?? {}).filter((name) =>
      CUSTOM_ENGINE_NAME.test(name) && !isBuiltinEngine(name)
    );
    if (!declared.includes(task.context_engine)) {
      const suggestion = didYouMean(task.context_engine, [...ENGINE_NAMES, ...declared]);
      errors.push(issue(
        working,
        ["context_engine"],
        "E006",
        `context_engine must be one of ${ENGINE_NAMES.join(", ")}, got "${task.context_engine}"`,
        suggestion ? `did you mean "${suggestion}"?` : undefined,
      ));
    }
  }
  if (hasContext && mode === "council") {
    const council = task.council;
    if (!council || (council.models ?? []).length === 0) {
      errors.push(issue(
        working,
        [council ? "council" : "context_mode"],
        "E072",
        "context_mode council needs council.models (two or more models that deliberate)",
        "council: { models: [gpt-5.4-mini, {engine: claude, model: haiku}], topology: star }",
      ));
    }
  }
  if (task.council?.topology === "graph") {
    errors.push(issue(
      working,
      ["council", "topology"],
      "E072",
      "council topology graph is not supported",
      "use star (members, then a hub merges their notes) or chain (each revises the last)",
    ));
  }
  task.output_redact?.forEach((pattern, i) => {
    try {
      new RegExp(pattern, "gm");
    } catch (error) {
      errors.push(issue(
        working,
        ["output_redact", i],
        "E074",
        `output_redact pattern "${pattern}" is not a valid regular expression: ${
          error instanceof Error ? error.message : String(error)
        }`,
        'patterns are JavaScript regular expressions, e.g. "sk-[A-Za-z0-9]+"',
      ));
    }
  });
  task.context_allowlist?.forEach((field, i) => {
    if (ALLOWLIST_FIELDS.includes(field)) return;
    const suggestion = didYouMean(field, ALLOWLIST_FIELDS);
    errors.push(issue(
      working,
      ["context_allowlist", i],
      "E075",
      `context_allowlist names unknown field "${field}"`,
      suggestion ? `did you mean "${suggestion}"?` : `fields: ${ALLOWLIST_FIELDS.join(", ")}`,
    ));
  });
}

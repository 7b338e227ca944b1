/**
 * Names shared by the schema and the loader, kept free of imports so that loading a plan does
 * not have to load zod.
 *
 * @module
 */

/** Engines a task may name. */
export const ENGINE_NAMES = [
  "codex",
  "claude",
  "gemini",
  "copilot",
  "qwen",
  "ollama",
  "llama",
] as const;

/** The name of a built-in engine. */
export type EngineName = typeof ENGINE_NAMES[number];

/** Whether `name` is a built-in engine (else it must be a custom engine of the plan). */
export function isBuiltinEngine(name: string): name is EngineName {
  return (ENGINE_NAMES as readonly string[]).includes(name);
}

/** Names a plan may give its custom engines (`engines:` keys). */
export const CUSTOM_ENGINE_NAME: RegExp = /^[a-z][a-z0-9_-]*$/;

/** File extensions a custom engine module may have. */
export const ENGINE_MODULE_EXTENSIONS: readonly string[] = [".ts", ".mts", ".js", ".mjs"];

/** Statuses a finished task can have (the reference tool's vocabulary). */
export const TASK_STATUSES = [
  "success",
  "failed",
  "soft_failed",
  "skipped",
  "dry_run",
  "cancelled",
] as const;

/**
 * A task id as a file name stem in a run directory. Ids may contain `/` (imports, groups) and
 * `.` (matrix); `/` becomes `__` so a prefix stays readable (the reference tool's names), other
 * unsafe characters become `_`, and a leading dot is escaped so no file is hidden. Two ids can
 * share a stem (`a/b`, `a__b`): the loader refuses such plans (namespaced_ids.ts).
 */
export function taskFileStem(id: string): string {
  const stem = id.replace(/\//g, "__").replace(/[^A-Za-z0-9_.-]/g, "_");
  return stem.startsWith(".") ? `_${stem}` : stem;
}

/** True for file names the TypeScript front end reads (plan modules). */
export function isModulePlan(path: string): boolean {
  return ENGINE_MODULE_EXTENSIONS.some((extension) => path.endsWith(extension));
}

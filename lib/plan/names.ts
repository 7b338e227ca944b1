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

/** Statuses a finished task can have (the reference tool's vocabulary). */
export const TASK_STATUSES = [
  "success",
  "failed",
  "soft_failed",
  "skipped",
  "dry_run",
  "cancelled",
] as const;

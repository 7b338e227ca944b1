/**
 * What each built-in engine can take, as plain data: shared by the adapters (which build the
 * flags) and by plan validation (which reports a value an engine cannot use before anything
 * runs, without loading the adapters).
 *
 * @module
 */

/** The `allowed_tools` categories (seed-behaviour §3); any other entry names a tool. */
export const TOOL_CATEGORIES = ["read-only", "no-shell", "git-only", "src-scoped"] as const;

/**
 * Categories an engine has no equivalent for: its adapter rejects them (E105). codex and
 * copilot take every category (src-scoped as read-only); ollama and llama only put the
 * restriction in the prompt text.
 */
export const UNSUPPORTED_CATEGORIES: Readonly<Record<string, readonly string[]>> = {
  claude: ["src-scoped"],
  gemini: ["src-scoped"],
  qwen: ["src-scoped"],
};

/** `reasoning_effort` values per engine that has the option; the others ignore it (W08). */
export const REASONING_EFFORTS: Readonly<Record<string, readonly string[]>> = {
  codex: ["none", "minimal", "low", "medium", "high", "xhigh"],
  claude: ["low", "medium", "high", "xhigh", "max"],
  copilot: ["none", "minimal", "low", "medium", "high", "xhigh", "max"],
};

/** Engines whose CLI takes `--agent`; the others ignore a task's `agent:` (W38). */
export const AGENT_ENGINES: readonly string[] = ["claude", "copilot"];

/** Whether an entry looks like a category (lowercase words joined by hyphens). */
export function looksLikeCategory(entry: string): boolean {
  return /^[a-z]+(?:-[a-z]+)+$/.test(entry);
}

/**
 * Built-in engine adapters by name, and the bridge from a plan task (TaskIR, whose extra
 * fields are `unknown`) to the validated {@linkcode EngineTaskSpec} adapters take.
 *
 * @module
 */
import type { TaskIR } from "../lib/plan/ir.ts";
import { claude } from "./claude.ts";
import { codex } from "./codex.ts";
import { copilot } from "./copilot.ts";
import { gemini } from "./gemini.ts";
import { llama } from "./llama.ts";
import { ollama } from "./ollama.ts";
import { qwen } from "./qwen.ts";
import { type Engine, EngineBuildError, type EngineTaskSpec } from "./types.ts";

/** The built-in adapters, one per engine the plan schema names. */
export const ENGINES: Readonly<Record<string, Engine>> = {
  claude,
  codex,
  copilot,
  gemini,
  ollama,
  llama,
  qwen,
};

/** The adapter for an engine name, or undefined. */
export function engineFor(name: string): Engine | undefined {
  return Object.hasOwn(ENGINES, name) ? ENGINES[name] : undefined;
}

function stringList(task: TaskIR, field: string): string[] | undefined {
  const value = task[field];
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value;
  if (typeof value === "string") return [value];
  throw new EngineBuildError(`task '${task.id}': ${field} must be a list of strings`);
}

/** Validates the engine fields of a task. Throws {@linkcode EngineBuildError}. */
export function taskSpec(task: TaskIR): EngineTaskSpec {
  const spec: EngineTaskSpec = { id: task.id, args: task.args ?? [] };
  if (task.model) spec.model = task.model;
  if (task.reasoning_effort) spec.reasoning_effort = task.reasoning_effort;
  const allowed = stringList(task, "allowed_tools");
  if (allowed) spec.allowed_tools = allowed;
  if (typeof task.agent === "string" && task.agent) spec.agent = task.agent;
  return spec;
}

/**
 * The authored plan format: one zod schema for the YAML keys (snake_case, maestro-cli v1 plus
 * Maestro's additions). The YAML loader validates through it, the TypeScript builder's types are
 * inferred from it, and `maestro schema` prints its JSON Schema.
 *
 * Only the shape lives here. Rules that span several fields (exclusivity, references, cycles)
 * are in validate.ts, where they can carry the reference tool's error codes.
 *
 * @module
 */
import { z } from "zod";

import { ENGINE_NAMES } from "./names.ts";

export { ENGINE_NAMES, type EngineName, TASK_STATUSES } from "./names.ts";

const id = z.string().min(1);
const stringList = z.array(z.string());
/** A command: a string runs through the shell, a list runs directly. */
const commandSpec = z.union([z.string(), z.array(z.string())]);
const env = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));
const retryDelay = z.union([z.number().min(0), z.array(z.number().min(0)).min(1)]);
const retryStrategy = z.enum(["constant", "linear", "exponential"]);
const contextCompaction = z.enum(["none", "standard", "progressive"]);
const editPolicy = z.enum(["default", "efficient", "strict"]);
const contextMode = z.enum([
  "raw",
  "selective",
  "layered",
  "structural",
  "knowledge_graph",
  "codebase_map",
  "scip",
  "summarized",
  "map_reduce",
  "recursive",
  "council",
]);
const looseObject = z.record(z.string(), z.unknown());

/** An engine and model (a plain string: a model of the task's context engine). */
const llmTarget = z.object({ engine: z.string().min(1).nullish(), model: z.string().nullish() });

/** `council:` of `context_mode: council`. */
const councilSchema = z.object({
  models: z.array(z.union([z.string().min(1), llmTarget])).nullish()
    .describe("Members: a model of the context engine, or {engine, model}"),
  topology: z.enum(["star", "chain", "graph"]).nullish()
    .describe("star (members, then a hub merges) or chain (each revises the last); default star"),
  rounds: z.number().int().min(1).nullish().describe("Deliberation rounds (default 1)"),
  hub: llmTarget.nullish().describe("Who merges a star's notes (default: the context model)"),
});

/** Per-engine defaults under `defaults.<engine>`. */
const engineDefaults = z.object({
  model: z.string().nullish(),
  reasoning_effort: z.string().nullish(),
  args: stringList.nullish(),
  append_system_prompt: z.string().nullish(),
  escalation: stringList.nullish(),
  fallback_engine: z.enum(ENGINE_NAMES).nullish(),
  fallback_model: z.string().nullish(),
  context_model: z.string().nullish(),
  allowed_tools: stringList.nullish(),
});

const defaultsShape = {
  env: env.nullish(),
  secrets: stringList.nullish(),
  secrets_auto: z.boolean().nullish(),
  timeout_sec: z.number().positive().nullish(),
  requires_clean_worktree: z.boolean().nullish(),
  stdout_tail_lines: z.number().int().min(1).nullish(),
  edit_policy: editPolicy.nullish(),
  retry_delay_sec: retryDelay.nullish(),
  retry_strategy: retryStrategy.nullish(),
  context_budget_tokens: z.number().int().min(1).nullish(),
  context_compaction: contextCompaction.nullish(),
  budget_warning_pct: z.number().min(0).max(1).nullish(),
  workspace_index_exclude: stringList.nullish(),
  signals: z.boolean().nullish(),
  codex: engineDefaults.nullish(),
  claude: engineDefaults.nullish(),
  gemini: engineDefaults.nullish(),
  copilot: engineDefaults.nullish(),
  qwen: engineDefaults.nullish(),
  ollama: engineDefaults.nullish(),
  llama: engineDefaults.nullish(),
};

/** `defaults:` applied to every task of the plan. */
export const defaultsSchema = z.object(defaultsShape);

const judgeSchema = z.object({
  criteria: z.union([z.string(), z.array(z.union([z.string(), looseObject])), looseObject])
    .nullish(),
  pass_threshold: z.number().min(0).max(1).nullish(),
  on_fail: z.enum(["fail", "warn", "retry"]).nullish(),
  model: z.string().nullish(),
  engine: z.enum(ENGINE_NAMES).nullish(),
  args: stringList.nullish().describe("Extra CLI args of the judge's LLM calls"),
  method: z.enum(["direct", "g_eval", "debate", "reflection"]).nullish(),
  aggregation: z.enum(["mean", "min", "weighted_mean"]).nullish(),
  preset: z.string().nullish(),
  timeout_sec: z.number().positive().nullish(),
  quorum: z.number().int().min(1).nullish(),
  quorum_strategy: z.enum(["majority", "unanimous", "any"]).nullish(),
  quorum_diversity: z.boolean().nullish(),
  debate_rounds: z.number().int().min(1).nullish(),
});

const taskShape = {
  // identity and scheduling
  id: id.describe("Unique task id: letters, digits, _ - . /"),
  description: z.string().nullish(),
  tags: stringList.nullish(),
  depends_on: stringList.nullish().describe("Ids of tasks that must finish first"),
  group: z.string().nullish().describe("Path to a sub-plan run as a nested DAG"),
  // an empty list would make no task at all, and silently drop the edges to it
  matrix: z.record(z.string(), z.array(z.union([z.string(), z.number(), z.boolean()])).min(1))
    .nullish(),
  batch: looseObject.nullish(),
  dynamic_group: z.boolean().nullish(),
  consistency_group: z.string().nullish(),
  reconcile_after: z.boolean().nullish(),
  contract_type: z.string().nullish(),
  consumes_contracts: stringList.nullish(),
  // shell execution
  command: commandSpec.nullish().describe("Shell command (string) or argv (list)"),
  shell: z.boolean().nullish(),
  workdir: z.string().nullish(),
  env: env.nullish(),
  timeout_sec: z.number().positive().nullish(),
  pre_command: commandSpec.nullish(),
  requires_clean_worktree: z.boolean().nullish(),
  stdout_tail_lines: z.number().int().min(1).nullish(),
  inputs: stringList.nullish().describe("Globs of files whose content keys the cache"),
  // engines and models
  engine: z.union([z.enum(ENGINE_NAMES), z.string().min(1)]).nullish()
    .describe("Built-in engine, or a custom engine declared under the plan's engines"),
  model: z.string().nullish(),
  reasoning_effort: z.string().nullish(),
  args: stringList.nullish(),
  agent: z.string().nullish(),
  append_system_prompt: z.string().nullish(),
  edit_policy: editPolicy.nullish(),
  allowed_tools: stringList.nullish(),
  on_grant_violation: z.enum(["warn", "fail"]).nullish(),
  mcp_tools: stringList.nullish(),
  // prompts
  prompt: z.string().nullish(),
  prompt_file: z.string().nullish(),
  prompt_md_file: z.string().nullish(),
  prompt_md_heading: z.string().nullish(),
  // context passing
  context_from: stringList.nullish(),
  context_mode: contextMode.nullish(),
  context_budget_tokens: z.number().int().min(1).nullish(),
  context_compaction: contextCompaction.nullish(),
  context_compact: z.boolean().nullish(),
  context_model: z.string().nullish(),
  context_trust: z.enum(["trusted", "untrusted"]).nullish(),
  context_allowlist: stringList.nullish(),
  context_inject: z.enum(["prepend", "append", "none"]).nullish()
    .describe("Where context goes when the prompt has no context placeholder (default prepend)"),
  context_engine: z.union([z.enum(ENGINE_NAMES), z.string().min(1)]).nullish()
    .describe("Engine of LLM context calls (default: the task's engine)"),
  observation_block: z.boolean().nullish(),
  workspace_index_exclude: stringList.nullish(),
  compress_before: z.boolean().nullish(),
  // reliability
  allow_failure: z.boolean().nullish(),
  max_retries: z.number().int().min(0).max(3).nullish(),
  retry_delay_sec: retryDelay.nullish(),
  retry_strategy: retryStrategy.nullish(),
  max_iterations: z.number().int().min(1).nullish(),
  verify_command: commandSpec.nullish(),
  guard_command: commandSpec.nullish(),
  assert: z.array(looseObject).nullish(),
  escalation: stringList.nullish(),
  fallback_engine: z.enum(ENGINE_NAMES).nullish(),
  fallback_model: z.string().nullish(),
  checkpoint: z.boolean().nullish(),
  reminders: stringList.nullish(),
  trajectory_guard: looseObject.nullish(),
  population: looseObject.nullish(),
  output_schema: looseObject.nullish(),
  deliberation: z.union([z.boolean(), looseObject]).nullish(),
  deliberation_threshold: z.number().min(0).max(1).nullish(),
  judge: judgeSchema.nullish(),
  // caching
  cache: z.boolean().nullish(),
  negative_cache_ttl_sec: z.number().min(0).nullish(),
  // flow control
  when: z.string().nullish().describe("Condition, e.g. {{ build.status }} == success"),
  requires_approval: z.boolean().nullish(),
  approval_message: z.string().nullish(),
  // security and privacy
  honeypot: z.boolean().nullish(),
  output_scope: stringList.nullish(),
  output_redact: stringList.nullish(),
  phantom_workspace: z.boolean().nullish(),
  worktree: z.boolean().nullish(),
  frozen: z.boolean().nullish(),
  council: councilSchema.nullish(),
  signals: z.boolean().nullish(),
};

/** One task as authored. */
export const taskSchema = z.object(taskShape);

const importSchema = z.object({
  path: z.string().min(1),
  prefix: z.string().min(1),
  overrides: looseObject.nullish(),
});

const planShape = {
  version: z.number().int().nullish().describe("Plan format version (only 1)"),
  name: z.string().nullish(),
  goal: z.string().nullish(),
  workspace_root: z.string().nullish(),
  max_parallel: z.number().int().min(1).nullish(),
  fail_fast: z.boolean().nullish(),
  run_dir: z.string().nullish(),
  max_cost_usd: z.number().min(0).nullish(),
  budget_warning_pct: z.number().min(0).max(1).nullish(),
  budget_period: z.enum(["daily", "weekly", "monthly"]).nullish(),
  budget_mode: z.enum(["soft", "hard"]).nullish(),
  webhook_url: z.string().nullish(),
  secrets: z.union([z.literal("auto"), stringList]).nullish(),
  imports: z.array(importSchema).nullish(),
  defaults: defaultsSchema.nullish(),
  policies: z.array(looseObject).nullish(),
  audit_packs: stringList.nullish(),
  routing_strategy: z.enum(["cost_optimized", "quality_first", "balanced"]).nullish(),
  control_flow_integrity: z.boolean().nullish(),
  firewall_model: z.string().nullish(),
  circuit_breaker: z.object({
    max_total_failures: z.number().int().min(1).nullish()
      .describe("Failed or soft-failed tasks before the breaker trips (default 5)"),
    action: z.enum(["fail", "pause"]).nullish()
      .describe("fail: stop dispatching; pause: ask to go on (default fail)"),
    max_engine_failures: z.number().int().min(1).nullish()
      .describe("Consecutive auth/rate_limit/quota/cli_missing attempts that open an engine"),
    engine_cooldown_sec: z.number().min(0).nullish()
      .describe("Seconds before an open engine is probed again (default: stays open)"),
  }).nullish(),
  mcp_servers: z.array(looseObject).nullish(),
  watch: looseObject.nullish(),
  engines: z.record(z.string(), z.string().min(1)).nullish()
    .describe("Custom engines: name -> TypeScript adapter module, relative to the plan"),
  tasks: z.array(taskSchema).describe("The tasks of the plan"),
};

/** A whole plan as authored (the YAML document, or what a TS plan module builds). */
export const planSchema = z.object(planShape);

/** A plan as authored: the YAML document's shape, snake_case keys. */
export type AuthoredPlan = z.input<typeof planSchema>;
/** A task as authored. */
export type AuthoredTask = z.input<typeof taskSchema>;
/** `defaults:` as authored. */
export type AuthoredDefaults = z.input<typeof defaultsSchema>;

/** The JSON Schema of the authored format, for editors. */
export function planJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(planSchema, { io: "input", unrepresentable: "any" });
  return {
    ...schema,
    $id: "https://maestro.dev/schema/plan-v1.json",
    title: "Maestro plan (maestro-cli v1 format)",
  };
}

/**
 * Expected cost of a task before it runs, for `max_cost_usd` checks and `maestro estimate`:
 *
 * 1. **history**: the median `cost_usd` of the task's last {@linkcode HISTORY_RUNS} successful
 *    runs in the store (same plan name, task id, engine and first model; resumed copies left
 *    out), when there is at least one;
 * 2. **pricing**: else, one attempt of {@linkcode DEFAULT_TOKEN_PROFILE} tokens at the rates of
 *    the task's engine and model (engines/pricing.ts, `MAESTRO_<ENGINE>_PRICING_JSON` applied);
 *    a task without a model is priced at its CLI's usual default ({@linkcode PRICED_AS});
 * 3. **unpriced**: an engine or model without a price (a custom engine, copilot on an unknown
 *    model) is estimated at 0 until its history says otherwise;
 * 4. **shell** tasks (and groups, whose members are estimated themselves) cost 0.
 *
 * @module
 */
import { CODEX_MODELS } from "../../engines/codex.ts";
import { COPILOT_MODELS } from "../../engines/copilot.ts";
import { GEMINI_MODELS } from "../../engines/gemini.ts";
import { QWEN_MODELS } from "../../engines/qwen.ts";
import { priceTokens, ratesFor } from "../../engines/pricing.ts";
import type { TokenUsage } from "../../engines/types.ts";
import type { TaskIR } from "../plan/ir.ts";
import { EngineRoute } from "../run/engine_route.ts";

/** How many recent successful runs of a task its history estimate takes the median of. */
export const HISTORY_RUNS = 5;

/**
 * Tokens of one typical coding-agent attempt, used when a task has no history: 20 000 fresh
 * input tokens, 100 000 cache-read tokens (agents re-read their context every turn) and 8 000
 * output tokens. At sonnet's rates that is $0.21, at opus's $0.35, at haiku's $0.07.
 */
export const DEFAULT_TOKEN_PROFILE: Readonly<TokenUsage> = {
  input: 20_000,
  cached: 100_000,
  output: 8_000,
};

/**
 * The model a task without `model:` is priced at: the CLI's usual default. Engines not listed
 * use their price table's `default` row (codex, qwen; 0 for ollama and llama).
 */
export const PRICED_AS: Readonly<Record<string, string>> = {
  claude: "sonnet",
  gemini: "gemini-2.5-pro",
  copilot: "claude-sonnet-4.5",
};

/** Model aliases per engine, resolved before looking a price up. */
const ALIASES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  codex: CODEX_MODELS,
  copilot: COPILOT_MODELS,
  gemini: GEMINI_MODELS,
  qwen: QWEN_MODELS,
};

/** Where an estimate came from. */
export type EstimateSource = "history" | "pricing" | "unpriced" | "shell";

/** The expected cost of one task. */
export interface TaskEstimate {
  /** Task id. */
  task_id: string;
  /** Engine of the first attempt, or null for shell tasks and groups. */
  engine: string | null;
  /** Model of the first attempt as the plan names it (null: the CLI's default). */
  model: string | null;
  /** Expected cost in USD (0 for shell tasks). */
  cost_usd: number;
  /** history, pricing, unpriced or shell. */
  source: EstimateSource;
  /** Successful runs the history median was taken over (0 for other sources). */
  runs: number;
  /** What the number is, in words: `median of 3 runs`, `20k+100k cached+8k tokens at sonnet`. */
  basis: string;
}

/** One past cost of a task (a row of the store's history). */
export interface CostSample {
  /** Task id. */
  task_id: string;
  /** Engine it ran on. */
  engine: string | null;
  /** Model it was dispatched with. */
  model: string | null;
  /** Its cost in USD. */
  cost_usd: number;
}

/**
 * The median of some numbers (the mean of the middle two for an even count), 0 for none.
 *
 * @example Usage
 * ```ts
 * import { median } from "./estimate.ts";
 * import assert from "node:assert/strict";
 * assert.equal(median([3, 1, 2]), 2);
 * assert.equal(median([1, 2, 3, 10]), 2.5);
 * ```
 */
export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const value = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return Math.round(value * 1e9) / 1e9;
}

/** Engine and model of a task's first attempt (null engine: not an engine task). */
export function firstRoute(task: TaskIR): { engine: string | null; model: string | null } {
  if (task.kind !== "engine" || !task.engine) return { engine: null, model: null };
  return new EngineRoute(task).current;
}

function kilo(n: number): string {
  return n >= 1000 ? `${Math.round(n / 1000)}k` : String(n);
}

/**
 * The estimate of a task without history: shell → 0; engine → the default token profile at
 * its model's rates, or 0 (unpriced).
 *
 * @param task the task
 * @param env environment holding `MAESTRO_<ENGINE>_PRICING_JSON` overrides
 */
export function defaultEstimate(
  task: TaskIR,
  env: Readonly<Record<string, string>> = {},
): TaskEstimate {
  const { engine, model } = firstRoute(task);
  const base = { task_id: task.id, engine, model, runs: 0 };
  if (engine === null) {
    return {
      ...base,
      cost_usd: 0,
      source: "shell",
      basis: task.kind === "group" ? "group" : "shell",
    };
  }
  const named = model ?? PRICED_AS[engine];
  const resolved = named === undefined ? undefined : ALIASES[engine]?.[named] ?? named;
  const rates = ratesFor(engine, resolved, env);
  if (!rates) {
    return {
      ...base,
      cost_usd: 0,
      source: "unpriced",
      basis: `no price for ${engine}${resolved ? ` ${resolved}` : ""}`,
    };
  }
  const t = DEFAULT_TOKEN_PROFILE;
  return {
    ...base,
    cost_usd: priceTokens(t, rates),
    source: "pricing",
    basis: `${kilo(t.input)}+${kilo(t.cached)} cached+${kilo(t.output)} out tokens at ` +
      `${engine} ${resolved ?? "default"}`,
  };
}

/**
 * Estimates every task: the history median when the task has successful runs on the same
 * engine and model, else {@linkcode defaultEstimate}.
 *
 * @param tasks the plan's tasks (groups flattened or not)
 * @param history past costs, newest first, at most {@linkcode HISTORY_RUNS} per task and route
 * @param env environment holding pricing overrides
 * @returns one estimate per task, in plan order
 */
export function estimateTasks(
  tasks: readonly TaskIR[],
  history: readonly CostSample[] = [],
  env: Readonly<Record<string, string>> = {},
): TaskEstimate[] {
  const byTask = new Map<string, CostSample[]>();
  for (const sample of history) {
    const list = byTask.get(sample.task_id);
    if (list) list.push(sample);
    else byTask.set(sample.task_id, [sample]);
  }
  return tasks.map((task) => {
    const fallback = defaultEstimate(task, env);
    if (fallback.engine === null) return fallback;
    const costs = (byTask.get(task.id) ?? [])
      .filter((s) => s.engine === fallback.engine && s.model === fallback.model)
      .slice(0, HISTORY_RUNS)
      .map((s) => s.cost_usd);
    if (costs.length === 0) return fallback;
    return {
      ...fallback,
      cost_usd: median(costs),
      source: "history",
      runs: costs.length,
      basis: `median of ${costs.length} successful run${costs.length === 1 ? "" : "s"}`,
    };
  });
}

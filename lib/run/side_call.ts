/**
 * Side calls: one headless LLM call made on a task's behalf (a judge scoring its output, a
 * context mode summarising upstream output), through a real engine adapter — never a
 * hard-wired binary. The call is an engine attempt like a task's (engine_executor.ts): the
 * adapter builds argv/env, the process supervisor runs it in its own process group with a
 * timeout and the caller's cancellation signal, and the adapter's parser returns the final
 * text, tokens and cost. Side calls run with the `plan` (read-only) execution profile.
 *
 * Accounting: {@linkcode callEngine} returns the call's tokens and cost, and, given a bus and
 * a task id, emits one `side_call` event. The caller adds the numbers to the task's result
 * (see docs/run-artifacts.md, "Side calls"): they count in `cost_usd` / `token_usage` like
 * any attempt, and per purpose in `side_calls`.
 *
 * Caching: an optional {@linkcode SideCallCache} (in memory, optionally mirrored to a folder)
 * keyed by the SHA-256 of engine, model, args, system prompt and prompt. A hit costs nothing:
 * its tokens and cost are zero and `cached` is true. Failed calls are never cached.
 *
 * @module
 */
import { join } from "../path.ts";
import { sha256Hex } from "../sha256.ts";
import { PRICING } from "../../engines/pricing.ts";
import type {
  CostSource,
  EngineFailure,
  ExecutionProfile,
  TokenUsage,
} from "../../engines/types.ts";
import type { TaskIR } from "../plan/ir.ts";
import type { TaskResult } from "./result.ts";
import type { EventBus } from "./events.ts";
import { builtinEngines, type EngineRegistry, runEngineAttempt } from "./engine_executor.ts";
import { LogFile } from "./log_file.ts";
import { withoutParentProviders } from "./env.ts";

/** Seconds a side call may take when the caller gives no timeout. */
export const SIDE_CALL_TIMEOUT_SEC = 120;

/** Options for {@linkcode callEngine}. */
export interface SideCallOptions {
  /** Engine name (`codex`, `claude`, ... or a custom engine the registry knows). */
  engine: string;
  /**
   * Model alias or id. `undefined`: the engine's cheapest priced model
   * ({@linkcode cheapestModel}); `null`: the CLI's own default.
   */
  model?: string | null;
  /** The whole prompt. */
  prompt: string;
  /** System prompt (appended by the adapter the way it appends `append_system_prompt`). */
  systemPrompt?: string;
  /** Extra CLI args (the engine's `defaults.<engine>.args`, e.g. codex `-c` overrides). */
  args?: string[];
  /** Absolute working directory of the CLI (the task's workdir). */
  workdir: string;
  /** The child env (allowlist + task env), as for the task itself. */
  env: Record<string, string>;
  /** Maestro's own environment: adapters copy their provider variables from it. */
  parentEnv?: Readonly<Record<string, string>>;
  /** Cancels the call (the process group is killed). */
  signal?: AbortSignal;
  /** Seconds before the call is killed. @default {SIDE_CALL_TIMEOUT_SEC} */
  timeoutSec?: number;
  /** Engine adapters by name. @default {builtinEngines} */
  engines?: EngineRegistry;
  /**
   * Where the CLI's output and the `[engine]` lines go (the task's log). Absent: a temporary
   * log, deleted after the call.
   */
  log?: LogFile;
  /** What the call is for (`judge`, `context:summarized`, ...), for the event and the log. */
  purpose?: string;
  /** The task the call is made for (the event's `task_id`). */
  taskId?: string;
  /** Emits one `side_call` event when given together with `taskId`. */
  bus?: EventBus;
  /** Reuses the answer of an identical earlier call. */
  cache?: SideCallCache;
  /** Milliseconds between TERM and KILL on timeout or cancel. */
  graceMs?: number;
}

/** What one side call produced. */
export interface SideCallResult {
  /** The model's final answer ("" on failure). */
  text: string;
  /** Tokens the call used (zero for a cache hit). */
  tokens: TokenUsage;
  /** Cost in USD (0 for a cache hit), or null when unknown. */
  cost_usd: number | null;
  /** Where the cost came from. */
  cost_source: CostSource;
  /** The model asked for (null: the CLI's default). */
  model: string | null;
  /** The engine that ran the call. */
  engine: string;
  /** The call failed: no usable text. */
  is_error: boolean;
  /** Why it failed, when it did. */
  failure?: EngineFailure;
  /** Wall time in seconds. */
  duration_sec: number;
  /** Answered from the cache, without a call. */
  cached: boolean;
}

/**
 * The cheapest model of an engine's price table (input + output rate per million), or
 * undefined when the table names no model (ollama, llama, qwen: the CLI's default is used).
 *
 * @example Usage
 * ```ts
 * import { cheapestModel } from "./side_call.ts";
 * import assert from "node:assert/strict";
 * assert.equal(cheapestModel("claude"), "haiku");
 * ```
 */
export function cheapestModel(engine: string): string | undefined {
  const table = PRICING[engine];
  if (!table) return undefined;
  let best: { model: string; price: number } | undefined;
  for (const [model, rates] of Object.entries(table)) {
    if (model === "default") continue;
    const price = rates.input_per_million + rates.output_per_million;
    if (!best || price < best.price) best = { model, price };
  }
  return best?.model;
}

/** An in-memory cache of side-call answers, optionally mirrored to a folder. */
export class SideCallCache {
  #entries = new Map<string, string>();
  #dir: string | undefined;

  /** @param options `dir`: a folder where answers are also kept, one JSON file per key */
  constructor(options: { dir?: string } = {}) {
    this.#dir = options.dir;
  }

  /** The key of a call: SHA-256 over engine, model, args, system prompt and prompt. */
  static key(opts: Pick<SideCallOptions, "engine" | "model" | "args" | "systemPrompt" | "prompt">) {
    const parts = [opts.engine, opts.model ?? "", JSON.stringify(opts.args ?? [])];
    parts.push(opts.systemPrompt ?? "", opts.prompt);
    return sha256Hex(parts.join("\0"));
  }

  /** The answer stored under `key`, if any. */
  get(key: string): string | undefined {
    const hit = this.#entries.get(key);
    if (hit !== undefined || !this.#dir) return hit;
    try {
      const data = JSON.parse(Deno.readTextFileSync(join(this.#dir, `${key}.json`)));
      if (typeof data?.text === "string") {
        this.#entries.set(key, data.text);
        return data.text;
      }
    } catch {
      // a missing or unreadable entry is a miss
    }
    return undefined;
  }

  /** Stores an answer. */
  set(key: string, text: string): void {
    this.#entries.set(key, text);
    if (!this.#dir) return;
    try {
      Deno.mkdirSync(this.#dir, { recursive: true });
      const tmp = join(this.#dir, `${key}.json.tmp-${Deno.pid}`);
      Deno.writeTextFileSync(tmp, JSON.stringify({ text }));
      Deno.renameSync(tmp, join(this.#dir, `${key}.json`));
    } catch {
      // the disk mirror is best effort: the in-memory entry stands
    }
  }
}

function zeroTokens(): TokenUsage {
  return { input: 0, cached: 0, output: 0 };
}

/**
 * Makes one headless LLM call through the named engine's adapter. Never throws for engine
 * failures (missing CLI, auth, timeout, ...): they come back as `is_error` with `failure`.
 * Throws only when the engine is unknown to the registry or the adapter rejects its input.
 *
 * @param opts what to call and how
 * @returns the answer, its tokens and cost
 */
export async function callEngine(opts: SideCallOptions): Promise<SideCallResult> {
  const registry = opts.engines ?? builtinEngines;
  const engine = registry(opts.engine);
  if (!engine) throw new Error(`Cannot make a side call: unknown engine '${opts.engine}'`);
  const model = opts.model === undefined ? cheapestModel(opts.engine) ?? null : opts.model;
  const purpose = opts.purpose ?? "side_call";
  const key = opts.cache
    ? SideCallCache.key({ ...opts, model, systemPrompt: opts.systemPrompt ?? "" })
    : undefined;
  const started = performance.now();
  const hit = key ? opts.cache!.get(key) : undefined;
  let result: SideCallResult;
  if (hit !== undefined) {
    result = {
      text: hit,
      tokens: zeroTokens(),
      cost_usd: 0,
      cost_source: "reported",
      model,
      engine: opts.engine,
      is_error: false,
      duration_sec: 0,
      cached: true,
    };
    opts.log?.line(`[${purpose}] ${opts.engine} answer reused from the cache`);
  } else {
    result = await run(opts, model, purpose, started);
    if (key && !result.is_error) opts.cache!.set(key, result.text);
  }
  if (opts.bus && opts.taskId !== undefined) {
    opts.bus.emit("side_call", {
      task_id: opts.taskId,
      purpose,
      engine: result.engine,
      model: result.model,
      tokens: { ...result.tokens },
      cost_usd: result.cost_usd,
      cost_source: result.cost_source,
      duration_sec: result.duration_sec,
      cached: result.cached,
      is_error: result.is_error,
      failure_category: result.failure?.category ?? null,
    });
  }
  return result;
}

async function run(
  opts: SideCallOptions,
  model: string | null,
  purpose: string,
  started: number,
): Promise<SideCallResult> {
  const engine = (opts.engines ?? builtinEngines)(opts.engine)!;
  const task: TaskIR = {
    id: `${opts.taskId ?? "side"}~${purpose}`,
    kind: "engine",
    description: purpose,
    tags: [],
    depends_on: [],
    engine: opts.engine,
    args: opts.args ?? [],
    workdir: opts.workdir,
    env: {},
    timeout_sec: opts.timeoutSec ?? SIDE_CALL_TIMEOUT_SEC,
    stdout_tail_lines: 1,
    allow_failure: false,
    max_retries: 0,
    retry_delay_sec: 0,
    retry_strategy: "constant",
    cache: false,
    context_from: [],
    requires_approval: false,
    origin: { file: "<side-call>", line: 0, column: 0 },
  };
  if (model) task.model = model;
  let log = opts.log;
  let tmpDir: string | undefined;
  if (!log) {
    tmpDir = await Deno.makeTempDir({ prefix: "maestro-side-call-" });
    log = LogFile.createSync(join(tmpDir, "call.log"));
  }
  log.line(`[${purpose}] side call: engine=${opts.engine} model=${model ?? "(default)"}`);
  try {
    const attempt = await runEngineAttempt({
      engine,
      task,
      prompt: opts.prompt,
      systemPrompt: opts.systemPrompt ?? "",
      retryFeedback: "",
      profile: "plan" satisfies ExecutionProfile,
      env: withoutParentProviders(opts.env, opts.parentEnv ?? {}),
      parentEnv: opts.parentEnv ?? {},
      log,
      signal: opts.signal ?? new AbortController().signal,
      graceMs: opts.graceMs,
      onStart: () => {},
    });
    const r = attempt.result;
    const out: SideCallResult = {
      text: r.is_error ? "" : r.text,
      tokens: { ...r.tokens },
      cost_usd: r.cost_usd,
      cost_source: r.cost_source,
      model,
      engine: opts.engine,
      is_error: r.is_error || attempt.cancelled,
      duration_sec: Math.round(performance.now() - started) / 1000,
      cached: false,
    };
    if (attempt.cancelled) out.failure = { category: "unknown", message: "cancelled" };
    else if (r.is_error) out.failure = r.failure ?? { category: "unknown", message: r.text };
    return out;
  } finally {
    if (tmpDir) {
      await log.close();
      await Deno.remove(tmpDir, { recursive: true }).catch(() => {});
    }
  }
}

function roundUsd(usd: number): number {
  return Math.round(usd * 1e9) / 1e9;
}

/**
 * Counts a side call in a task's result: its cost in `cost_usd` (a null cost stays null only
 * while nothing reported one), its tokens in `token_usage` (`total` recomputed), and both per
 * purpose in `side_calls`. Mutates and returns `result`.
 *
 * @param result the task's result
 * @param call what {@linkcode callEngine} returned
 * @param purpose the key in `side_calls` (`judge`, `context:summarized`, ...)
 */
export function addSideCallToResult(
  result: TaskResult,
  call: Pick<SideCallResult, "tokens" | "cost_usd">,
  purpose: string,
): TaskResult {
  if (call.cost_usd !== null) {
    result.cost_usd = roundUsd((result.cost_usd ?? 0) + call.cost_usd);
    result.structured_context.cost_usd = result.cost_usd;
  }
  const usage = result.token_usage ?? { input: 0, cached: 0, output: 0, total: 0 };
  usage.input = (usage.input ?? 0) + call.tokens.input;
  usage.cached = (usage.cached ?? 0) + call.tokens.cached;
  usage.output = (usage.output ?? 0) + call.tokens.output;
  usage.total = usage.input + usage.cached + usage.output;
  result.token_usage = usage;
  const calls = result.side_calls ??= {};
  const entry = calls[purpose] ??= {
    calls: 0,
    tokens: { input: 0, cached: 0, output: 0 },
    cost_usd: null,
  };
  entry.calls++;
  entry.tokens.input += call.tokens.input;
  entry.tokens.cached += call.tokens.cached;
  entry.tokens.output += call.tokens.output;
  if (call.cost_usd !== null) entry.cost_usd = roundUsd((entry.cost_usd ?? 0) + call.cost_usd);
  return result;
}

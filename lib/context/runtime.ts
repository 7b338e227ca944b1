/**
 * The context layer in a run: before a task is dispatched, {@linkcode prepareContext} reads its
 * direct dependencies' results, builds its context (build.ts) when it has `context_from`, and
 * returns what the runner hands on: template lookups (prompts, and shell commands without
 * observation wrapping), the prompt renderer with injection, `MAESTRO_CONTEXT` for shell tasks,
 * lines for the task's log, the output_schema check, and {@linkcode PreparedContext.apply},
 * which writes the context sizes, the context record and the LLM calls' cost and tokens into
 * the task's result. LLM calls go through lib/run/side_call.ts on `context_engine` (default:
 * the task's engine) and `context_model` (default: that engine's cheapest model), cached by
 * content unless an upstream is tainted or the task is untrusted.
 *
 * @module
 */
import type { PlanIR, TaskIR } from "../plan/ir.ts";
import type { EventBus } from "../run/events.ts";
import type { EngineRegistry } from "../run/engine_executor.ts";
import { resolvePrompt } from "../run/engine_prompt.ts";
import type { TaskResult } from "../run/result.ts";
import {
  addSideCallToResult,
  callEngine,
  type SideCallCache,
  type SideCallResult,
} from "../run/side_call.ts";
import type { BuiltContext } from "./build.ts";
import { importLater } from "../import_later.ts";
import type { CompactionMode } from "./compaction.ts";
import {
  contextLookup,
  hasContextPlaceholder,
  injectContext,
  type InjectMode,
  type LookupLayer,
} from "./deliver.ts";
import type { CouncilConfig, LlmCaller, LlmTarget } from "./llm_modes.ts";
import type { OutputCheck } from "./output_schema.ts";
import { type ContextMode, type ContextReport, LLM_MODES } from "./types.ts";
import { upstreamRecord, type UpstreamView, viewUpstream } from "./upstream.ts";
import { withoutNul } from "../run/attempt_helpers.ts";

/** Most UTF-8 bytes of `MAESTRO_CONTEXT` (Linux caps one environment string at 128 KiB). */
export const MAX_ENV_CONTEXT = 100_000;

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/**
 * What `MAESTRO_CONTEXT` holds of a context: no NUL (U+FFFD instead: no environment value can
 * hold one), and its last {@linkcode MAX_ENV_CONTEXT} bytes of UTF-8, cut at a character.
 */
export function envContext(text: string): string {
  const clean = withoutNul(text);
  // a UTF-16 unit is at most 3 bytes of UTF-8: short texts need no encoding
  if (clean.length * 3 <= MAX_ENV_CONTEXT) return clean;
  const bytes = utf8.encode(clean);
  if (bytes.length <= MAX_ENV_CONTEXT) return clean;
  let start = bytes.length - MAX_ENV_CONTEXT;
  while (start < bytes.length && (bytes[start]! & 0xc0) === 0x80) start++; // inside a character
  return fromUtf8.decode(bytes.subarray(start));
}

/** The context record a result keeps (`maestro explain --context` shows the full report). */
export interface ContextRecord {
  /** The context mode (`raw`, `selective`, ... `council`). */
  mode: string;
  /** The upstreams read (finished `context_from` tasks). */
  upstreams: string[];
  /** Token budget of the delivered context (null: none). */
  budget_tokens: number | null;
  /** How over-budget text was fitted: `none`, `standard` or `progressive`. */
  compaction: string;
  /** How it reached the task: placeholder, prepend, append, env (shell tasks) or none. */
  delivery: "placeholder" | "prepend" | "append" | "env" | "none";
  /** The task's own output is untrusted (never cached). */
  tainted: boolean;
  /** LLM calls made for the context (cache hits included). */
  llm_calls: number;
  /** How many of them were answered from the side-call cache. */
  llm_cached: number;
  /** Fallbacks and failures worth knowing. */
  notes: string[];
}

/** What {@linkcode prepareContext} needs. */
export interface PrepareOptions {
  /** The task as dispatched (flattened id: events, results). */
  task: TaskIR;
  /** The task as its plan wrote it (ids of its dependencies, its prompt). */
  written: TaskIR;
  /** Finished results of its direct dependencies, by the ids `written` uses. */
  results: ReadonlyMap<string, TaskResult>;
  /** Its direct dependencies' tasks, by the same ids (for their `output_redact`). */
  upstreamTasks: ReadonlyMap<string, TaskIR>;
  /** Whether a dependency (by the same ids) is tainted. */
  isTainted: (id: string) => boolean;
  /** Whether this task is tainted. */
  tainted: boolean;
  /** The (sub)plan: `control_flow_integrity`, goal. */
  plan: PlanIR;
  /** The task's child environment. */
  env: Record<string, string>;
  /** Maestro's environment. */
  parentEnv: Readonly<Record<string, string>>;
  /** Engine adapters. */
  engines: EngineRegistry;
  signal: AbortSignal;
  bus?: EventBus;
  /** The run's side-call cache (content-addressed). */
  cache?: SideCallCache;
  graceMs?: number;
  /** Makes the LLM calls instead of side calls (`maestro explain` reads the cache only). */
  caller?: LlmCaller;
}

/** What the runner hands on to the task. */
export interface PreparedContext {
  /** Template lookup for prompts (with observation wrapping). */
  promptLookup(base: (name: string) => string | undefined): (name: string) => string | undefined;
  /** Template lookup for shell commands (no wrapping). */
  commandLookup(base: (name: string) => string | undefined): (name: string) => string | undefined;
  /** Renders an engine prompt and injects the context when it has no placeholder. */
  renderPrompt?: (template: string, render: (text: string) => string) => string;
  /** Environment additions (`MAESTRO_CONTEXT`). */
  env: Record<string, string>;
  /** Lines for the task's log. */
  logLines: string[];
  /** The output_schema check, when the task has one. */
  checkOutput?: (text: string) => OutputCheck;
  /** The built context, when the task has context_from. */
  built?: BuiltContext;
  /** Writes sizes, the record and LLM costs into the task's result. */
  apply(result: TaskResult): void;
}

/** An engine task's prompt as written (files read), or "" when it cannot be read. */
export function promptTemplate(task: TaskIR): string {
  if (!task.prompt) return "";
  const resolved = resolvePrompt(task, (text) => text, "");
  return "prompt" in resolved ? resolved.prompt : "";
}

/** The text a task's relevance is scored against: its prompt (unrendered) and description. */
export function queryOf(task: TaskIR): string {
  const parts = [task.description];
  if (task.prompt) {
    parts.push(promptTemplate(task));
  } else if (task.command !== undefined) {
    parts.push(typeof task.command === "string" ? task.command : task.command.join(" "));
  }
  return parts.filter(Boolean).join("\n");
}

/** `council:` of a task, with defaults: members are `{engine, model}` or a model name. */
export function councilConfig(task: TaskIR, engine: string | undefined): CouncilConfig {
  const raw = (task.council ?? {}) as Record<string, unknown>;
  const list = Array.isArray(raw.models) ? raw.models : [];
  const members: LlmTarget[] = [];
  for (const entry of list) {
    if (typeof entry === "string" && engine) members.push({ engine, model: entry });
    else if (entry && typeof entry === "object") {
      const e = entry as { engine?: string; model?: string | null };
      const name = e.engine ?? engine;
      if (name) members.push(e.model != null ? { engine: name, model: e.model } : { engine: name });
    }
  }
  const hub = raw.hub as { engine?: string; model?: string } | undefined;
  const config: CouncilConfig = {
    members,
    topology: raw.topology === "chain" ? "chain" : "star",
    rounds: typeof raw.rounds === "number" && raw.rounds >= 1 ? Math.floor(raw.rounds) : 1,
  };
  if (hub && (hub.engine ?? engine)) {
    config.hub = hub.model != null
      ? { engine: (hub.engine ?? engine)!, model: hub.model }
      : { engine: (hub.engine ?? engine)! };
  }
  return config;
}

/** The engine LLM context calls use: `context_engine`, else the task's engine. */
export function contextEngineOf(task: TaskIR): string | undefined {
  return typeof task.context_engine === "string" ? task.context_engine : task.engine;
}

/**
 * Engine, model and args of a task's LLM context calls: `context_engine` (default the task's
 * engine), `context_model` (default undefined: the engine's cheapest model), and the task's
 * args when the calls go to its own engine.
 */
export function contextTarget(
  task: TaskIR,
): { engine: string | undefined; model: string | undefined; args: string[] } {
  const engine = contextEngineOf(task);
  const model = typeof task.context_model === "string" ? task.context_model : undefined;
  const args = engine !== undefined && engine === task.engine ? task.args ?? [] : [];
  return { engine, model, args };
}

/**
 * Prepares a task's context (see the module doc).
 *
 * @param options the task, its dependencies' results, the run's facilities
 */
export async function prepareContext(options: PrepareOptions): Promise<PreparedContext> {
  const { task, written, plan } = options;
  const cfi = plan.control_flow_integrity === true;
  const allowlist = Array.isArray(written.context_allowlist)
    ? written.context_allowlist as string[]
    : undefined;
  const views = new Map<string, UpstreamView>();
  for (const [id, result] of options.results) {
    views.set(
      id,
      viewUpstream(id, result, {
        task: options.upstreamTasks.get(id),
        tainted: options.isTainted(id),
        allowlist,
        cfi,
      }),
    );
  }
  const contextFrom = written.context_from;
  const mode = ((written.context_mode as string | undefined) ?? "raw") as ContextMode;
  // `context_compact: true` (deprecated) is `standard`, which is also the default
  const compaction =
    ((written.context_compaction as string | undefined) ?? "standard") as CompactionMode;
  const logLines: string[] = [];
  const sideCalls: Array<{ call: SideCallResult; purpose: string }> = [];
  let built: BuiltContext | undefined;
  const anyTainted = options.tainted || contextFrom.some((id) => options.isTainted(id));
  if (contextFrom.length > 0) {
    const upstreams = contextFrom.map((id) => views.get(id)).filter((v) => v !== undefined)
      .map(upstreamRecord).filter((u) => u !== undefined);
    const { engine, model, args } = contextTarget(written);
    const call: LlmCaller | undefined = options.caller ?? (engine
      ? async (request) => {
        const target = request.target ?? { engine, model };
        const result = await callEngine({
          engine: target.engine,
          ...(target.model !== undefined ? { model: target.model } : {}),
          prompt: request.prompt,
          ...(target.engine === engine ? { args } : {}),
          workdir: task.workdir,
          env: options.env,
          parentEnv: options.parentEnv,
          signal: options.signal,
          engines: options.engines,
          purpose: request.purpose,
          taskId: task.id,
          ...(options.bus ? { bus: options.bus } : {}),
          ...(options.cache && !anyTainted ? { cache: options.cache } : {}),
          ...(options.graceMs !== undefined ? { graceMs: options.graceMs } : {}),
        }).catch((error: unknown): SideCallResult => ({
          text: "",
          tokens: { input: 0, cached: 0, output: 0 },
          cost_usd: null,
          cost_source: "unknown",
          model: target.model ?? null,
          engine: target.engine,
          is_error: true,
          failure: {
            category: "unknown",
            message: error instanceof Error ? error.message : String(error),
          },
          duration_sec: 0,
          cached: false,
        }));
        sideCalls.push({ call: result, purpose: request.purpose });
        logLines.push(
          `[context] ${request.label}: ${result.engine}/${result.model ?? "(default)"} ` +
            (result.cached
              ? "answer reused from the cache"
              : result.is_error
              ? `failed (${result.failure?.category}): ${result.failure?.message ?? ""}`
              : `tokens=${result.tokens.input}/${result.tokens.cached}/${result.tokens.output} ` +
                `cost_usd=${result.cost_usd}`),
        );
        return {
          text: result.text,
          failed: result.is_error,
          call: {
            purpose: request.purpose,
            label: request.label,
            engine: result.engine,
            model: result.model,
            cached: result.cached,
            is_error: result.is_error,
            tokens: { ...result.tokens },
            cost_usd: result.cost_usd,
          },
        };
      }
      : undefined);
    // the context modes (a score of modules) load with the first task that has context_from
    const { buildContext } = await importLater<typeof import("./build.ts")>(
      new URL("./build.ts", import.meta.url),
    );
    built = await buildContext({
      mode,
      upstreams,
      query: queryOf(written),
      budget: typeof written.context_budget_tokens === "number"
        ? written.context_budget_tokens
        : null,
      compaction,
      wrap: cfi || written.observation_block === true || upstreams.some((u) => u.tainted),
      ...(call ? { call } : {}),
      ...(mode === "council" ? { council: councilConfig(written, engine) } : {}),
    });
    if (LLM_MODES.has(mode) && !engine) {
      built.report.notes.push("no engine for LLM context calls: set context_engine");
    }
    logLines.push(
      `[context] mode=${mode} upstreams=${upstreams.map((u) => u.id).join(",") || "(none)"} ` +
        `budget=${built.report.budget_tokens ?? "none"} raw_tokens=${built.rawTokens} ` +
        `final_tokens=${built.finalTokens}`,
    );
    for (const note of built.report.notes) logLines.push(`[context] ${note}`);
  }
  const layer: LookupLayer = {
    views,
    contextFrom,
    ...(built ? { synthesis: built.text, tails: built.tails, summaries: built.summaries } : {}),
    wrapAll: cfi,
    observationBlock: written.observation_block === true,
  };
  const injectMode = (written.context_inject as InjectMode | undefined) ?? "prepend";
  let delivery: ContextRecord["delivery"] = "none";
  const env: Record<string, string> = {};
  if (built && task.kind !== "engine" && built.text !== "") {
    env.MAESTRO_CONTEXT = envContext(built.text);
    delivery = "env";
  }
  const prepared: PreparedContext = {
    promptLookup: (base) => contextLookup(base, layer),
    commandLookup: (base) => contextLookup(base, { ...layer, noWrap: true }),
    env,
    logLines,
    ...(built ? { built } : {}),
    apply(result) {
      if (built) {
        result.context_raw_tokens = built.rawTokens;
        result.context_final_tokens = built.finalTokens;
        result.context_compression_ratio = built.rawTokens > 0
          ? Math.round((built.finalTokens / built.rawTokens) * 1000) / 1000
          : null;
        result.context_raw_bytes = built.rawBytes;
        result.context_final_bytes = built.finalBytes;
        result.compression_ratio = result.context_compression_ratio;
        const record: ContextRecord = {
          mode,
          upstreams: built.report.upstreams.map((u) => u.id),
          budget_tokens: built.report.budget_tokens,
          compaction,
          delivery,
          tainted: options.tainted,
          llm_calls: built.report.calls.length,
          llm_cached: built.report.calls.filter((c) => c.cached).length,
          notes: built.report.notes,
        };
        result.context = record;
      }
      if (options.tainted) result.tainted = true;
      for (const { call, purpose } of sideCalls) addSideCallToResult(result, call, purpose);
    },
  };
  if (task.kind === "engine" && built) {
    prepared.renderPrompt = (template, render) => {
      const rendered = render(template);
      const out = injectContext(template, rendered, {
        text: built!.text,
        mode: injectMode,
        contextFrom,
      });
      delivery = out.injected
        ? injectMode as "prepend" | "append"
        : hasContextPlaceholder(template, contextFrom)
        ? "placeholder"
        : "none";
      return out.prompt;
    };
  }
  if (written.output_schema != null) {
    const schema = written.output_schema;
    const { checkOutput } = await importLater<typeof import("./output_schema.ts")>(
      new URL("./output_schema.ts", import.meta.url),
    );
    prepared.checkOutput = (text) => checkOutput(schema, text);
  }
  return prepared;
}

/** The report of a built context, for `maestro explain`. */
export type { ContextReport };

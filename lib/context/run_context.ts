/**
 * The context layer's state for one run: which tasks are tainted, the side-call cache
 * (content-addressed, in `<run root>/.side-call-cache/`, shared by later runs), and per task
 * what lib/run/run_plan.ts passes to runTask (renderers, environment, log lines, the
 * output_schema check) and writes into the result afterwards.
 *
 * @module
 */
import { join } from "../path.ts";
import type { PlanIR, TaskIR } from "../plan/ir.ts";
import { renderTemplate } from "../plan/template.ts";
import type { EngineRegistry } from "../run/engine_executor.ts";
import type { EventBus } from "../run/events.ts";
import type { FlatPlan } from "../run/groups.ts";
import type { TaskResult } from "../run/result.ts";
import { SideCallCache } from "../run/side_call.ts";
import { prepareContext } from "./runtime.ts";
import { taintedTasks } from "./upstream.ts";

/** Folder of the side-call cache under the run root. */
export const SIDE_CALL_CACHE_DIR = ".side-call-cache";

/** What {@linkcode ContextRun} needs. */
export interface ContextRunOptions {
  /** The flattened tasks. */
  tasks: readonly TaskIR[];
  /** Flattened inner ids → their origin. */
  inner: FlatPlan["inner"];
  /** The root plan. */
  plan: PlanIR;
  /** Results dependents may still read, by flattened id. */
  results: ReadonlyMap<string, TaskResult>;
  engines: EngineRegistry;
  parentEnv: Readonly<Record<string, string>>;
  signal: AbortSignal;
  bus: EventBus;
  /** The run root (the cache lives under it). */
  runRoot: string;
  /** `--no-cache`: earlier answers are not reused (fresh ones are still stored). */
  noCache?: boolean;
  graceMs?: number;
}

/** A side-call cache that stores answers but never reuses one (`--no-cache`). */
class WriteOnlyCache extends SideCallCache {
  override get(_key: string): string | undefined {
    return undefined;
  }
}

/** What one task gets from the context layer. */
export interface TaskContext {
  /** Renders templates in commands (upstream values redacted, allowlisted, not wrapped). */
  render: (text: string) => string;
  /** Renders the engine prompt (observation wrapping, context injection). */
  renderPrompt: (template: string) => string;
  /** The environment with `MAESTRO_CONTEXT` for shell tasks with context_from. */
  env: Record<string, string>;
  /** Lines for the log after its header. */
  logPreamble: string[];
  /** The output_schema check, when the task has one. */
  checkOutput?: (text: string) => { ok: true; value: unknown } | { ok: false; message: string };
  /** Writes the context sizes, record and LLM costs into the result. */
  apply(result: TaskResult): void;
}

/** The context layer of one run. */
export class ContextRun {
  #opts: ContextRunOptions;
  #byId: Map<string, TaskIR>;
  #tainted: Set<string>;
  /** The side-call cache of context calls. */
  readonly cache: SideCallCache;

  /** @param options the run's tasks, results and facilities */
  constructor(options: ContextRunOptions) {
    this.#opts = options;
    this.#byId = new Map(options.tasks.map((task) => [task.id, task]));
    this.#tainted = taintedTasks(options.tasks, (task) => {
      const origin = options.inner.get(task.id);
      return origin ? origin.task.context_from.map((id) => origin.prefix + id) : task.context_from;
    });
    const dir = join(options.runRoot, SIDE_CALL_CACHE_DIR);
    this.cache = options.noCache ? new WriteOnlyCache({ dir }) : new SideCallCache({ dir });
  }

  /** Whether a task (flattened id) is tainted. */
  isTainted(id: string): boolean {
    return this.#tainted.has(id);
  }

  /**
   * Prepares one task's context.
   *
   * @param task the task as dispatched
   * @param env its child environment
   * @param base its template lookup without the context layer
   */
  async forTask(
    task: TaskIR,
    env: Record<string, string>,
    base: (name: string) => string | undefined,
  ): Promise<TaskContext> {
    const origin = this.#opts.inner.get(task.id);
    const written = origin?.task ?? task;
    const prefix = origin?.prefix ?? "";
    const plan = origin
      ? {
        ...origin.plan,
        control_flow_integrity: this.#opts.plan.control_flow_integrity === true ||
          origin.plan.control_flow_integrity === true,
      }
      : this.#opts.plan;
    const results = new Map<string, TaskResult>();
    const upstreamTasks = new Map<string, TaskIR>();
    for (const dep of written.depends_on) {
      const result = this.#opts.results.get(prefix + dep);
      if (result) results.set(dep, result);
      const upstream = this.#byId.get(prefix + dep);
      if (upstream) upstreamTasks.set(dep, upstream);
    }
    const prepared = await prepareContext({
      task,
      written,
      results,
      upstreamTasks,
      isTainted: (id) => this.#tainted.has(prefix + id),
      tainted: this.#tainted.has(task.id),
      plan,
      env,
      parentEnv: this.#opts.parentEnv,
      engines: this.#opts.engines,
      signal: this.#opts.signal,
      bus: this.#opts.bus,
      cache: this.cache,
      ...(this.#opts.graceMs !== undefined ? { graceMs: this.#opts.graceMs } : {}),
    });
    if (prepared.built) {
      const report = prepared.built.report;
      this.#opts.bus.emit("context_built", {
        task_id: task.id,
        mode: report.mode,
        upstreams: report.upstreams.map((u) => u.id),
        budget_tokens: report.budget_tokens,
        raw_tokens: prepared.built.rawTokens,
        final_tokens: prepared.built.finalTokens,
        llm_calls: report.calls.length,
        llm_cached: report.calls.filter((c) => c.cached).length,
        tainted: this.#tainted.has(task.id),
      });
    }
    const commandLookup = prepared.commandLookup(base);
    const promptLookup = prepared.promptLookup(base);
    const renderPromptText = (text: string) => renderTemplate(text, promptLookup);
    const out: TaskContext = {
      render: (text) => renderTemplate(text, commandLookup),
      renderPrompt: prepared.renderPrompt
        ? (template) => prepared.renderPrompt!(template, renderPromptText)
        : renderPromptText,
      env: { ...env, ...prepared.env },
      logPreamble: prepared.logLines,
      apply: (result) => prepared.apply(result),
    };
    if (prepared.checkOutput) out.checkOutput = prepared.checkOutput;
    return out;
  }
}

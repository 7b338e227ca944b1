/**
 * `maestro explain <plan> --context --task <id>`: rebuilds a task's context from the upstream
 * results a run recorded (`<task>.result.json` in the run directory), with the plan as it is
 * now, and reports what is selected and why: query terms, upstream scores, every candidate
 * (chunk, tier, symbol, entity, ...) with its score, tokens and reason, budget use, and the
 * delivered text. Nothing runs and no LLM is called: an LLM mode's answers come from the
 * side-call cache when a run stored them, else the report says which call would be made.
 *
 * @module
 */
import { pathExists } from "../fs.ts";
import { join, resolve } from "../path.ts";
import type { PlanIR, TaskIR } from "../plan/ir.ts";
import { taskFiles } from "../run/artifacts.ts";
import { builtinEngines, type EngineRegistry } from "../run/engine_executor.ts";
import { flattenGroups } from "../run/groups.ts";
import { findLastRun } from "../run/resume.ts";
import type { TaskResult } from "../run/result.ts";
import { cheapestModel, SideCallCache } from "../run/side_call.ts";
import { hasContextPlaceholder } from "./deliver.ts";
import type { LlmCaller } from "./llm_modes.ts";
import { SIDE_CALL_CACHE_DIR } from "./run_context.ts";
import { contextTarget, prepareContext, promptTemplate } from "./runtime.ts";
import type { ContextReport } from "./types.ts";
import { taintedTasks } from "./upstream.ts";

/** What {@linkcode explainContext} returns. */
export interface ContextExplanation {
  task_id: string;
  /** The run whose upstream results were read. */
  run_path: string;
  /** Upstreams of context_from that have no result in that run. */
  missing: string[];
  /** How the context reaches the task. */
  delivery: "placeholder" | "prepend" | "append" | "env" | "none";
  /** Everything the mode considered. */
  report: ContextReport;
  raw_tokens: number;
  final_tokens: number;
  /** The delivered text. */
  text: string;
  /** What the run recorded for the task itself, when it ran. */
  recorded: { context_raw_tokens: number | null; context_final_tokens: number | null } | null;
}

/** Thrown when the explanation cannot be made (the CLI prints it with a hint). */
export class ExplainError extends Error {
  override name = "ExplainError";
  /** What to do about it. */
  readonly hint: string;
  /** @param message what is wrong @param hint what to do */
  constructor(message: string, hint: string) {
    super(message);
    this.hint = hint;
  }
}

function readResult(path: string): TaskResult | undefined {
  if (!pathExists(path)) return undefined;
  try {
    return JSON.parse(Deno.readTextFileSync(path)) as TaskResult;
  } catch {
    return undefined;
  }
}

/** Options for {@linkcode explainContext}. */
export interface ExplainOptions {
  /** The run directory (default: the plan's latest run). */
  runPath?: string;
  /** Engine adapters (custom engines are not loaded: only names matter). */
  engines?: EngineRegistry;
}

/**
 * Explains a task's context from a run's recorded upstream outputs.
 *
 * @param ir the plan
 * @param taskId the task (a flattened id for tasks inside groups)
 * @param options which run
 * @throws {ExplainError} unknown task, no context_from, no run
 */
export async function explainContext(
  ir: PlanIR,
  taskId: string,
  options: ExplainOptions = {},
): Promise<ContextExplanation> {
  const flat = flattenGroups(ir.tasks);
  const byId = new Map(flat.tasks.map((task) => [task.id, task]));
  const task = byId.get(taskId);
  if (!task) {
    throw new ExplainError(
      `unknown task "${taskId}"`,
      `tasks: ${flat.tasks.map((t) => t.id).join(", ")}`,
    );
  }
  const origin = flat.inner.get(task.id);
  const written: TaskIR = origin?.task ?? task;
  const prefix = origin?.prefix ?? "";
  if (written.context_from.length === 0) {
    throw new ExplainError(
      `task "${taskId}" has no context_from`,
      "add context_from to pass context to it",
    );
  }
  const runPath = options.runPath ? resolve(options.runPath) : findLastRun(ir.run_dir, ir.name);
  if (!runPath || !pathExists(runPath)) {
    throw new ExplainError(
      options.runPath
        ? `run directory not found: ${options.runPath}`
        : `no run of plan "${ir.name}" under ${ir.run_dir}`,
      "run the plan first (its upstream outputs are what is explained), or pass --run <dir>",
    );
  }
  const results = new Map<string, TaskResult>();
  const upstreamTasks = new Map<string, TaskIR>();
  for (const dep of written.depends_on) {
    const result = readResult(taskFiles(runPath, prefix + dep).result);
    if (result) results.set(dep, result);
    const upstream = byId.get(prefix + dep);
    if (upstream) upstreamTasks.set(dep, upstream);
  }
  const missing = written.context_from.filter((id) => !results.has(id));
  const tainted = taintedTasks(flat.tasks, (t) => {
    const o = flat.inner.get(t.id);
    return o ? o.task.context_from.map((id) => o.prefix + id) : t.context_from;
  });
  const cache = new SideCallCache({ dir: join(resolve(runPath, ".."), SIDE_CALL_CACHE_DIR) });
  const target = contextTarget(written);
  const caller: LlmCaller = (request) => {
    const engine = request.target?.engine ?? target.engine ?? "";
    const asked = request.target ? request.target.model : target.model;
    const model = asked === undefined ? cheapestModel(engine) ?? null : asked;
    const args = engine === target.engine ? target.args : [];
    const hit = cache.get(
      SideCallCache.key({ engine, model, args, systemPrompt: "", prompt: request.prompt }),
    );
    return Promise.resolve({
      text: hit ??
        `[not in the side-call cache: a run would ask ${engine}/${model ?? "(default)"}]`,
      failed: false,
      call: {
        purpose: request.purpose,
        label: request.label,
        engine,
        model,
        cached: hit !== undefined,
        is_error: false,
        tokens: { input: 0, cached: 0, output: 0 },
        cost_usd: 0,
      },
    });
  };
  const prepared = await prepareContext({
    task,
    written,
    results,
    upstreamTasks,
    isTainted: (id) => tainted.has(prefix + id),
    tainted: tainted.has(task.id),
    plan: origin
      ? {
        ...origin.plan,
        control_flow_integrity: ir.control_flow_integrity === true ||
          origin.plan.control_flow_integrity === true,
      }
      : ir,
    env: {},
    parentEnv: {},
    engines: options.engines ?? builtinEngines,
    signal: new AbortController().signal,
    caller,
  });
  const built = prepared.built!;
  let delivery: ContextExplanation["delivery"] = "env";
  if (task.kind === "engine") {
    const template = promptTemplate(written);
    const inject = (written.context_inject as string | undefined) ?? "prepend";
    delivery = hasContextPlaceholder(template, written.context_from)
      ? "placeholder"
      : inject === "append"
      ? "append"
      : inject === "none"
      ? "none"
      : "prepend";
  }
  const own = readResult(taskFiles(runPath, task.id).result);
  return {
    task_id: task.id,
    run_path: runPath,
    missing,
    delivery,
    report: built.report,
    raw_tokens: built.rawTokens,
    final_tokens: built.finalTokens,
    text: built.text,
    recorded: own
      ? {
        context_raw_tokens: own.context_raw_tokens,
        context_final_tokens: own.context_final_tokens,
      }
      : null,
  };
}

/**
 * The explanation as text for a terminal.
 *
 * @param e what {@linkcode explainContext} returned
 * @param options `showText`: print the delivered context too
 */
export function formatExplanation(
  e: ContextExplanation,
  options: { showText?: boolean } = {},
): string {
  const r = e.report;
  const lines: string[] = [];
  lines.push(
    `Context of task "${e.task_id}": mode ${r.mode}, budget ${r.budget_tokens ?? "none"}, ` +
      `compaction ${r.compaction}, delivered by ${e.delivery}`,
  );
  lines.push(`from run ${e.run_path}`);
  lines.push(
    `query terms: ${r.query_terms.slice(0, 30).join(" ") || "(none)"}${
      r.query_terms.length > 30 ? " …" : ""
    }`,
  );
  lines.push("");
  lines.push("upstreams:");
  for (const u of r.upstreams) {
    lines.push(
      `  ${u.id}  ${u.status}  ${u.tokens} tokens${u.score !== null ? `  score ${u.score}` : ""}` +
        (u.tainted ? "  (tainted)" : ""),
    );
  }
  for (const id of e.missing) lines.push(`  ${id}  (no result in this run)`);
  lines.push("");
  const selected = r.items.filter((i) => i.selected);
  lines.push(`candidates (${selected.length} of ${r.items.length} selected):`);
  const ordered = [...r.items].sort((a, b) =>
    Number(b.selected) - Number(a.selected) || (b.score ?? 0) - (a.score ?? 0)
  );
  for (const item of ordered.slice(0, 60)) {
    lines.push(
      `  ${item.selected ? "✓" : "✗"} ${item.upstream}  ${item.kind} ${item.label}` +
        `${
          item.score !== null ? `  score ${item.score}` : ""
        }  ${item.tokens} tokens  — ${item.reason}`,
    );
  }
  if (ordered.length > 60) lines.push(`  … ${ordered.length - 60} more (see --json)`);
  if (r.calls.length > 0) {
    lines.push("", "LLM calls:");
    for (const c of r.calls) {
      lines.push(
        `  ${c.label}: ${c.engine}/${c.model ?? "(default)"} ${c.cached ? "cached" : "not cached"}`,
      );
    }
  }
  for (const note of r.notes) lines.push(`note: ${note}`);
  lines.push("");
  const budget = r.budget_tokens !== null ? ` of a ${r.budget_tokens}-token budget` : "";
  lines.push(`tokens: ${e.raw_tokens} upstream → ${e.final_tokens} delivered${budget}`);
  if (e.recorded) {
    lines.push(
      `recorded by the run: ${e.recorded.context_raw_tokens ?? "-"} → ${
        e.recorded.context_final_tokens ?? "-"
      }`,
    );
  }
  if (options.showText) lines.push("", "--- delivered context ---", e.text);
  return lines.join("\n");
}

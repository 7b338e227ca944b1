/**
 * How context reaches a task:
 *
 * - Placeholders. `{{ upstream_synthesis }}` is the built context; `{{ <id>.stdout_tail }}` is
 *   the upstream's tail (budgeted in `raw` mode), `{{ <id>.summary }}` its summary
 *   (`summarized`/`map_reduce`), `{{ <id>.output.<field> }}` a field of its `output_schema`
 *   value; the other `<id>.*` fields as before. Every upstream value has the upstream's
 *   `output_redact` applied and `context_allowlist` enforced; under `control_flow_integrity`
 *   (or from a tainted upstream, or with `observation_block: true`) text values are wrapped
 *   as `<observation source="id">…</observation>` in prompts (never in shell commands).
 * - Injection. When an engine task's prompt has no context placeholder (upstream_synthesis or
 *   a text field of a `context_from` upstream: stdout_tail, summary, result_text, output.*,
 *   files_changed, decisions, errors, warnings), the context is put before (`context_inject:
 *   prepend`, the default) or after (`append`) the prompt, or not at all (`none`).
 * - Shell tasks with `context_from` also get it in the environment variable `MAESTRO_CONTEXT`.
 *
 * @module
 */
import { classifyVar, templateVars } from "../plan/template.ts";
import { wrapObservation } from "./sanitize.ts";
import type { UpstreamView } from "./upstream.ts";

/** `context_inject` values. */
export type InjectMode = "prepend" | "append" | "none";

/** Upstream fields whose placeholder delivers context text. */
const TEXT_FIELDS: ReadonlySet<string> = new Set([
  "stdout_tail",
  "summary",
  "result_text",
  "files_changed",
  "decisions",
  "errors",
  "warnings",
]);

/**
 * Whether a prompt template delivers context itself.
 *
 * @param template the prompt as written
 * @param contextFrom the task's `context_from` ids
 */
export function hasContextPlaceholder(template: string, contextFrom: readonly string[]): boolean {
  const ids = new Set(contextFrom);
  for (const name of templateVars(template)) {
    if (name === "upstream_synthesis") return true;
    const v = classifyVar(name, ids);
    if (v.kind === "upstream" && (TEXT_FIELDS.has(v.field) || v.field.startsWith("output."))) {
      return true;
    }
  }
  return false;
}

/** The block injected into a prompt. */
export function contextBlock(text: string): string {
  return `## Context from upstream tasks\n\n${text}`;
}

/**
 * Puts the context block into a rendered prompt, when the template has no placeholder.
 *
 * @param template the prompt as written
 * @param rendered the prompt rendered
 * @param options what to inject, where, and the task's context_from
 */
export function injectContext(
  template: string,
  rendered: string,
  options: { text: string; mode: InjectMode; contextFrom: readonly string[] },
): { prompt: string; injected: boolean } {
  if (
    options.mode === "none" || options.text.trim() === "" ||
    hasContextPlaceholder(template, options.contextFrom)
  ) {
    return { prompt: rendered, injected: false };
  }
  const block = contextBlock(options.text);
  return {
    prompt: options.mode === "append"
      ? `${rendered}\n\n${block}`
      : `${block}\n\n---\n\n${rendered}`,
    injected: true,
  };
}

/** Looks a JSON value up by a dotted path (`a.b.0.c`). */
export function pathValue(value: unknown, path: readonly string[]): unknown {
  let node = value;
  for (const key of path) {
    if (node === null || typeof node !== "object") return undefined;
    node = Array.isArray(node) ? node[Number(key)] : (node as Record<string, unknown>)[key];
  }
  return node;
}

/** What {@linkcode contextLookup} layers over the base lookup. */
export interface LookupLayer {
  /** Every direct dependency with a result, by the id the task uses. */
  views: ReadonlyMap<string, UpstreamView>;
  /** The task's `context_from` ids. */
  contextFrom: readonly string[];
  /** The built context (`{{ upstream_synthesis }}`), when the task has context_from. */
  synthesis?: string;
  /** raw mode: budgeted tails. */
  tails?: ReadonlyMap<string, string>;
  /** LLM summaries. */
  summaries?: ReadonlyMap<string, string>;
  /** Wrap every upstream text value as an observation (control_flow_integrity). */
  wrapAll: boolean;
  /** The task's `observation_block`. */
  observationBlock: boolean;
  /** Never wrap (values rendered into shell commands). */
  noWrap?: boolean;
}

/**
 * A template lookup with the context layer on top of the base one (lib/run/vars.ts).
 *
 * @param base the task's lookup without context
 * @param layer upstream views, built context and wrapping
 */
export function contextLookup(
  base: (name: string) => string | undefined,
  layer: LookupLayer,
): (name: string) => string | undefined {
  const ids = new Set(layer.views.keys());
  return (name) => {
    if (name === "upstream_synthesis") {
      return layer.synthesis ?? (layer.contextFrom.length > 0 ? "" : base(name));
    }
    const v = classifyVar(name, ids);
    if (v.kind !== "upstream") return base(name);
    const view = layer.views.get(v.task)!;
    const wrap = (text: string) =>
      !layer.noWrap && (layer.wrapAll || view.tainted || layer.observationBlock)
        ? wrapObservation(view.id, text)
        : text;
    if (v.field.startsWith("output.")) {
      if (!view.allowed(v.field)) return view.field(v.field);
      if (view.output === undefined) return "(none)";
      const value = pathValue(view.output, v.field.split(".").slice(1));
      if (value === undefined) return "(none)";
      return wrap(typeof value === "string" ? value : JSON.stringify(value));
    }
    if (v.field === "stdout_tail" && layer.tails?.has(v.task) && view.allowed("stdout_tail")) {
      return wrap(layer.tails.get(v.task)!);
    }
    if (v.field === "summary" && layer.summaries?.has(v.task) && view.allowed("summary")) {
      return wrap(layer.summaries.get(v.task)!);
    }
    const value = view.field(v.field);
    if (value === undefined) return base(name);
    return TEXT_FIELDS.has(v.field) && view.allowed(v.field) ? wrap(value) : value;
  };
}

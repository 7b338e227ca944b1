/**
 * From finished results to what a downstream task may read: each direct dependency's template
 * fields with the upstream's `output_redact` applied, `context_allowlist` enforced, injection
 * markers neutralised when the upstream is tainted or the plan has `control_flow_integrity`;
 * and, for the `context_from` ones, the {@linkcode Upstream} records context modes read.
 *
 * Taint (seed-behaviour §7): a task is tainted when its `context_trust` is `untrusted`, or when
 * it reads context from a tainted task and has neither `guard_command` nor `verify_command` to
 * check what it does with it. Tainted output is neutralised and wrapped as an observation
 * downstream, and LLM context calls over it are never cached.
 *
 * @module
 */
import type { TaskIR } from "../plan/ir.ts";
import { UPSTREAM_FIELDS } from "../plan/template.ts";
import type { TaskResult } from "../run/result.ts";
import { neutraliseInjections, redact, redactors } from "./sanitize.ts";
import type { Upstream } from "./types.ts";

/** Fields `context_allowlist` may name: the template fields, plus `output`. */
export const ALLOWLIST_FIELDS: readonly string[] = [...UPSTREAM_FIELDS, "output"];

/** Statuses whose output is context (a skipped or cancelled task has none). */
const WITH_OUTPUT = new Set(["success", "soft_failed", "failed"]);

/** What a hidden field reads as in templates. */
export const HIDDEN = "(not in context_allowlist)";

/**
 * The tainted tasks of a plan (fixed point over `context_from`).
 *
 * @param tasks every task (flattened)
 * @param contextFrom a task's context sources, as ids of `tasks`
 */
export function taintedTasks(
  tasks: readonly TaskIR[],
  contextFrom: (task: TaskIR) => readonly string[] = (task) => task.context_from,
): Set<string> {
  const tainted = new Set<string>();
  for (const task of tasks) if (task.context_trust === "untrusted") tainted.add(task.id);
  let changed = true;
  while (changed) {
    changed = false;
    for (const task of tasks) {
      if (tainted.has(task.id)) continue;
      const checked = task.guard_command != null || task.verify_command != null;
      if (!checked && contextFrom(task).some((id) => tainted.has(id))) {
        tainted.add(task.id);
        changed = true;
      }
    }
  }
  return tainted;
}

/** One direct dependency as a downstream task sees it. */
export interface UpstreamView {
  /** Id as the downstream task names it. */
  id: string;
  /** Its result. */
  result: TaskResult;
  /** Its output is untrusted. */
  tainted: boolean;
  /** Template field values (redacted, allowlisted, neutralised when needed; not wrapped). */
  field(name: string): string | undefined;
  /** The parsed `output_schema` value, when the upstream has one and it is allowed. */
  output: unknown;
  /** Whether `context_allowlist` lets this field through. */
  allowed(field: string): boolean;
}

/** Options for {@linkcode viewUpstream}. */
export interface ViewOptions {
  /** The upstream task (its `output_redact`). */
  task: TaskIR | undefined;
  /** Its output is untrusted. */
  tainted: boolean;
  /** The downstream task's `context_allowlist` (undefined: everything). */
  allowlist: readonly string[] | undefined;
  /** The plan's `control_flow_integrity`. */
  cfi: boolean;
}

/**
 * What a downstream task may read of one upstream result.
 *
 * @param id the upstream's id as the downstream task names it
 * @param result its result
 * @param options redaction, taint, allowlist
 */
export function viewUpstream(id: string, result: TaskResult, options: ViewOptions): UpstreamView {
  const patterns = redactors(options.task?.output_redact as string[] | undefined);
  const allow = options.allowlist ? new Set(options.allowlist) : undefined;
  const allowed = (field: string) =>
    !allow || allow.has(field) || (field.startsWith("output.") && allow.has("output"));
  const clean = (text: string) => {
    let out = redact(text, patterns);
    if (options.tainted || options.cfi) out = neutraliseInjections(out).text;
    return out;
  };
  const sc = result.structured_context;
  const raw = (name: string): string | undefined => {
    switch (name) {
      case "status":
        return result.status;
      case "exit_code":
        return result.exit_code === null ? "" : String(result.exit_code);
      case "stdout_tail":
        return clean(result.stdout_tail);
      case "log":
        return result.log_path ?? "";
      case "duration":
        return result.duration_sec.toFixed(1);
      case "summary":
        return sc.summary === null ? "(no summary)" : clean(sc.summary);
      case "result_text":
        return sc.result_text === null ? "(none)" : clean(sc.result_text);
      case "files_changed":
      case "decisions":
      case "errors":
      case "warnings": {
        const list = sc[name];
        return list.length > 0 ? clean(list.join("\n")) : "(none)";
      }
      default:
        return undefined;
    }
  };
  const output = allowed("output") ? (result as { output?: unknown }).output : undefined;
  return {
    id,
    result,
    tainted: options.tainted,
    output,
    allowed,
    field: (name) => {
      if (!allowed(name)) return HIDDEN;
      return raw(name);
    },
  };
}

/**
 * The {@linkcode Upstream} record a context mode reads: the upstream's main text (stdout_tail,
 * else result_text, else summary, whichever the allowlist lets through), or undefined when
 * the upstream has no output to give (skipped, cancelled, dry run).
 *
 * @param view the upstream as the downstream task sees it
 */
export function upstreamRecord(view: UpstreamView): Upstream | undefined {
  const result = view.result;
  if (!WITH_OUTPUT.has(result.status)) return undefined;
  let text = "";
  for (const field of ["stdout_tail", "result_text", "summary"]) {
    if (!view.allowed(field)) continue;
    const value = field === "stdout_tail"
      ? view.field(field)
      : field === "result_text"
      ? (result.structured_context.result_text === null ? undefined : view.field(field))
      : (result.structured_context.summary === null ? undefined : view.field(field));
    if (value !== undefined) {
      text = value;
      break;
    }
  }
  return {
    id: view.id,
    status: result.status,
    exit_code: result.exit_code,
    text,
    tainted: view.tainted,
  };
}

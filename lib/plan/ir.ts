/**
 * The plan IR: the only thing the runtime reads. Plain JSON data, normalised: defaults applied,
 * imports inlined, matrix expanded, paths absolute, `when:` parsed. YAML and TypeScript plans
 * lower to the same IR; only provenance (each task's `origin`) says which file a plan came
 * from, and {@linkcode withoutProvenance} removes it for comparison.
 *
 * @module
 */
import type { PlanIssue, SourceLocation } from "../errors.ts";
import type { GraphStats } from "../dag/graph.ts";
import type { WhenExpr } from "./when.ts";

/** Version of the IR layout; bumped on incompatible changes. */
export const IR_VERSION = 1;

/** What a task runs. */
export type TaskKind = "shell" | "engine" | "group";

/** Where an engine task's prompt comes from. */
export type PromptSource =
  | { kind: "inline"; text: string }
  | { kind: "file"; path: string }
  | { kind: "markdown"; path: string; heading: string };

/** One task, with every default applied. */
export interface TaskIR {
  /** Unique id (matrix children: `<id>.<key>-<value>...`; imports: `<prefix>/<id>`). */
  id: string;
  /** What the task runs. */
  kind: TaskKind;
  /** Free text shown in logs. */
  description: string;
  /** Labels for `--tags` / `--skip-tags`. */
  tags: string[];
  /** Direct dependencies (matrix parents already rewritten to their children). */
  depends_on: string[];
  /** Shell: a string runs through `sh -c`, a list runs directly. */
  command?: string | string[];
  /** Explicit shell override for `command`. */
  shell?: boolean;
  /** Engine tasks: which engine (a built-in name, or a custom engine of the plan). */
  engine?: string;
  /**
   * Custom engine tasks: absolute path of the adapter module the plan's `engines:` names for
   * `engine` (absent for built-in engines).
   */
  engine_module?: string;
  /** Engine tasks: model (alias or id) after engine defaults. */
  model?: string;
  /** Engine tasks: reasoning effort after engine defaults. */
  reasoning_effort?: string;
  /** Engine tasks: extra CLI args, engine defaults first. */
  args?: string[];
  /** Engine tasks: the prompt's source. */
  prompt?: PromptSource;
  /** Group tasks: the sub-plan, lowered. */
  group?: { path: string; plan: PlanIR };
  /** Absolute working directory. */
  workdir: string;
  /** defaults.env merged with task env (values as strings). */
  env: Record<string, string>;
  /** Seconds before the task is killed (exit code 124). */
  timeout_sec: number;
  /** Lines of stdout kept as `stdout_tail`. */
  stdout_tail_lines: number;
  /** A failure becomes `soft_failed` and does not block dependents. */
  allow_failure: boolean;
  /** Extra attempts after a failure (0-3). */
  max_retries: number;
  /** Seconds between attempts: one number or one per retry. */
  retry_delay_sec: number | number[];
  /** How a scalar delay grows. */
  retry_strategy: "constant" | "linear" | "exponential";
  /**
   * Whether a successful result may be reused: `cache:` as written, else true for engine tasks
   * and for shell tasks that declare `inputs:` (docs/cache.md).
   */
  cache: boolean;
  /** Upstream ids whose results feed this task's context (`*` expanded). */
  context_from: string[];
  /** Parsed `when:` condition. */
  when?: { source: string; expr: WhenExpr };
  /** Must be approved (or `--auto-approve`) before it runs. */
  requires_approval: boolean;
  /** Matrix children: the values of this combination. */
  matrix_values?: Record<string, string>;
  /**
   * Engine tasks whose `fallback_engine` is another engine: `defaults.<fallback_engine>`'s
   * model, reasoning_effort and args, used by the attempt that switches (absent when none).
   */
  fallback_defaults?: { model?: string; reasoning_effort?: string; args?: string[] };
  /** Where the task was written (provenance: the only field that differs by source file). */
  origin: SourceLocation;
  /** Every other authored field, as written (snake_case), after defaults. */
  [field: string]: unknown;
}

/** A plan, lowered. */
export interface PlanIR {
  /** Layout version, {@linkcode IR_VERSION}. */
  ir_version: number;
  /** Plan name. */
  name: string;
  /** Goal text prefixed to engine prompts. */
  goal: string;
  /** Absolute workspace root, when the plan sets one. */
  workspace_root: string | null;
  /** How many tasks may run at once. */
  max_parallel: number;
  /** Stop dispatching after the first failure. */
  fail_fast: boolean;
  /** Absolute folder where run directories are created. */
  run_dir: string;
  /** Spending limit in USD. */
  max_cost_usd: number | null;
  /** Fraction of the budget at which one warning fires. */
  budget_warning_pct: number;
  /** Names of env vars whose values are masked, or "auto". */
  secrets: string[] | "auto";
  /** Tasks in a stable order: imported tasks first, then the plan's own. */
  tasks: TaskIR[];
  /** Other plan-level fields, as written (snake_case). */
  [field: string]: unknown;
}

/** A lowered plan together with where it came from. */
export interface LoadedPlan {
  /** The IR. */
  ir: PlanIR;
  /** Absolute path of the plan file. */
  source: string;
  /** Warnings found while loading. */
  warnings: PlanIssue[];
  /** Critical path and width of the task graph, when validation computed them. */
  graph?: GraphStats;
}

/**
 * A copy of the IR without provenance (task origins, nested too), so that the same plan written
 * in YAML and in TypeScript compares byte for byte.
 */
export function withoutProvenance(ir: PlanIR): PlanIR {
  return {
    ...ir,
    tasks: ir.tasks.map(({ origin: _origin, ...task }) => {
      const copy = { ...task } as TaskIR;
      if (task.group) copy.group = { ...task.group, plan: withoutProvenance(task.group.plan) };
      return copy;
    }),
  };
}

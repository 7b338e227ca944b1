/**
 * Lowering: authored tasks (already imported and shape-checked) become the IR. Matrix
 * expansion, defaults merging, path resolution and `when:` parsing happen here, so the
 * scheduler never expands anything.
 *
 * @module
 */
import { pathExists } from "../fs.ts";
import { dirname, fromFileUrl, isAbsolute, resolve } from "../path.ts";
import type { AuthoredDefaults, AuthoredPlan, AuthoredTask } from "./schema.ts";
import { isBuiltinEngine } from "./names.ts";
import { KNOWN_KEYS } from "./keys.ts";
import { IR_VERSION, type PlanIR, type PromptSource, type TaskIR } from "./ir.ts";
import { parseWhen } from "./when.ts";
import type { DataPath, SourceMap } from "./yaml.ts";

/** A task on its way to the IR, with where it was written and the defaults of its file. */
export interface WorkingTask {
  /** The authored task (ids already prefixed for imports). */
  task: AuthoredTask;
  /** Positions in the file the task was written in. */
  map: SourceMap;
  /** Path of the task inside that file's data, e.g. `["tasks", 3]`. */
  path: DataPath;
  /** Folder of that file: relative paths resolve against it. */
  baseDir: string;
  /** `defaults:` of that file. */
  defaults: AuthoredDefaults | null | undefined;
  /** `engines:` of that file (custom engine name -> module path relative to `baseDir`). */
  engines?: Record<string, string> | null | undefined;
  /** Matrix children: the combination's values. */
  matrixValues?: Record<string, string>;
  /** Matrix children: the id of the authored (parent) task. */
  matrixParent?: string;
}

/** Replaces characters the reference tool does not keep in matrix child ids. */
export function sanitizeMatrixPart(text: string): string {
  return text.replace(/[^A-Za-z0-9_.-]/g, "_");
}

function combinations(matrix: Record<string, readonly unknown[]>): Array<Record<string, string>> {
  let result: Array<Record<string, string>> = [{}];
  for (const [key, values] of Object.entries(matrix)) {
    const next: Array<Record<string, string>> = [];
    for (const combo of result) {
      for (const value of values) next.push({ ...combo, [key]: String(value) });
    }
    result = next;
  }
  return result;
}

/**
 * Expands matrix tasks into one child per combination (`<id>.<k1>-<v1>.<k2>-<v2>`), copying
 * every field, and rewrites `depends_on` / `context_from` entries that name a matrix parent
 * to all of its children.
 */
export function expandMatrix(tasks: readonly WorkingTask[]): WorkingTask[] {
  const children = new Map<string, string[]>();
  const expanded: WorkingTask[] = [];
  for (const working of tasks) {
    const { matrix, ...rest } = working.task;
    if (!matrix || Object.keys(matrix).length === 0) {
      expanded.push(working);
      continue;
    }
    const ids: string[] = [];
    for (const values of combinations(matrix)) {
      const suffix = Object.entries(values)
        .map(([k, v]) => `${sanitizeMatrixPart(k)}-${sanitizeMatrixPart(v)}`)
        .join(".");
      const id = `${working.task.id}.${suffix}`;
      ids.push(id);
      expanded.push({
        ...working,
        task: { ...rest, id },
        matrixValues: values,
        matrixParent: working.task.id,
      });
    }
    children.set(working.task.id, ids);
  }
  if (children.size === 0) return expanded;
  const rewrite = (list: readonly string[] | null | undefined) =>
    list?.flatMap((id) => children.get(id) ?? [id]);
  return expanded.map((working) => {
    const { depends_on, context_from } = working.task;
    if (!depends_on?.some((d) => children.has(d)) && !context_from?.some((d) => children.has(d))) {
      return working;
    }
    return {
      ...working,
      task: {
        ...working.task,
        depends_on: rewrite(depends_on),
        context_from: rewrite(context_from),
      },
    };
  });
}

/** Fields that the IR builds itself; every other authored field is carried as written. */
const BUILT_FIELDS = new Set([
  "id",
  "description",
  "tags",
  "depends_on",
  "command",
  "shell",
  "engine",
  "model",
  "reasoning_effort",
  "args",
  "prompt",
  "prompt_file",
  "prompt_md_file",
  "prompt_md_heading",
  "group",
  "workdir",
  "env",
  "timeout_sec",
  "stdout_tail_lines",
  "allow_failure",
  "max_retries",
  "retry_delay_sec",
  "retry_strategy",
  "cache",
  "context_from",
  "when",
  "requires_approval",
  "matrix",
]);

/** Task fields whose value falls back to `defaults.<field>`. */
const FROM_DEFAULTS: ReadonlySet<string> = new Set([
  "requires_clean_worktree",
  "edit_policy",
  "context_budget_tokens",
  "context_compaction",
  "workspace_index_exclude",
  "signals",
]);

/** Engine task fields whose value falls back to `defaults.<engine>.<field>`. */
const FROM_ENGINE_DEFAULTS: ReadonlySet<string> = new Set([
  "append_system_prompt",
  "escalation",
  "fallback_engine",
  "fallback_model",
  "allowed_tools",
]);

/** Authored task fields carried into the IR as written (after defaults), in schema order. */
const CARRIED_TASK_FIELDS: readonly string[] = KNOWN_KEYS.task.filter((key) =>
  !BUILT_FIELDS.has(key)
);

/** Default per-task timeout in seconds (the reference tool's). */
export const DEFAULT_TIMEOUT_SEC = 1800;
/** Default number of stdout lines kept as `stdout_tail`. */
export const DEFAULT_STDOUT_TAIL_LINES = 50;

function stringEnv(
  ...layers: Array<Record<string, string | number | boolean> | null | undefined>
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer ?? {})) env[key] = String(value);
  }
  return env;
}

function promptSource(
  task: AuthoredTask,
  baseDir: string,
  workspaceRoot: string | null,
): PromptSource | undefined {
  if (task.prompt != null) return { kind: "inline", text: task.prompt };
  const locate = (file: string) => {
    if (isAbsolute(file)) return file;
    if (workspaceRoot) {
      const inWorkspace = resolve(workspaceRoot, file);
      if (pathExists(inWorkspace)) return inWorkspace;
    }
    return resolve(baseDir, file);
  };
  if (task.prompt_file != null) return { kind: "file", path: locate(task.prompt_file) };
  if (task.prompt_md_file != null) {
    return {
      kind: "markdown",
      path: locate(task.prompt_md_file),
      heading: task.prompt_md_heading ?? "",
    };
  }
  return undefined;
}

/**
 * Absolute path of a custom engine module as declared under `engines:` (a path relative to
 * the plan's folder, an absolute path, or a `file:` URL).
 */
export function engineModulePath(baseDir: string, path: string): string {
  if (path.startsWith("file://")) return fromFileUrl(path);
  return resolve(baseDir, path.startsWith("file:") ? path.slice("file:".length) : path);
}

/** Context shared by every task of one plan while it is lowered. */
export interface LowerContext {
  /** Resolved workspace root, if any. */
  workspaceRoot: string | null;
  /** Sub-plans of group tasks, lowered, by absolute path. */
  groups: ReadonlyMap<string, PlanIR>;
}

/** Builds one task's IR with every default applied. */
export function lowerTask(working: WorkingTask, ctx: LowerContext): TaskIR {
  const { task, defaults, baseDir } = working;
  const engine = task.engine ?? undefined;
  const engineDefaults = engine && isBuiltinEngine(engine) ? defaults?.[engine] : undefined;
  const kind = task.group != null ? "group" : engine ? "engine" : "shell";
  const ir: TaskIR = {
    id: task.id,
    kind,
    description: task.description ?? "",
    tags: task.tags ?? [],
    depends_on: [...new Set(task.depends_on ?? [])],
    workdir: task.workdir != null ? resolve(baseDir, task.workdir) : baseDir,
    env: stringEnv(defaults?.env, task.env),
    timeout_sec: task.timeout_sec ?? defaults?.timeout_sec ?? DEFAULT_TIMEOUT_SEC,
    stdout_tail_lines: task.stdout_tail_lines ?? defaults?.stdout_tail_lines ??
      DEFAULT_STDOUT_TAIL_LINES,
    allow_failure: task.allow_failure ?? false,
    max_retries: task.max_retries ?? 0,
    retry_delay_sec: task.retry_delay_sec ?? defaults?.retry_delay_sec ?? 0,
    retry_strategy: task.retry_strategy ?? defaults?.retry_strategy ?? "constant",
    // a command may read any file: shell tasks are cached only with inputs: (docs/cache.md)
    cache: task.cache ?? (kind !== "shell" || task.inputs != null),
    context_from: task.context_from?.includes("*")
      ? [...(task.depends_on ?? [])]
      : task.context_from ?? [],
    requires_approval: task.requires_approval ?? false,
    origin: { file: working.map.file, ...working.map.locate(working.path) },
  };
  if (task.command != null) ir.command = task.command;
  if (task.shell != null) ir.shell = task.shell;
  if (engine) {
    ir.engine = engine;
    const module = isBuiltinEngine(engine) ? undefined : working.engines?.[engine];
    if (module != null) ir.engine_module = engineModulePath(baseDir, module);
    const model = task.model ?? engineDefaults?.model;
    if (model != null) ir.model = model;
    const effort = task.reasoning_effort ?? engineDefaults?.reasoning_effort;
    if (effort != null) ir.reasoning_effort = effort;
    ir.args = [...(engineDefaults?.args ?? []), ...(task.args ?? [])];
    const prompt = promptSource(task, baseDir, ctx.workspaceRoot);
    if (prompt) ir.prompt = prompt;
  }
  if (task.group != null) {
    const path = resolve(baseDir, task.group);
    const plan = ctx.groups.get(path);
    if (plan) ir.group = { path, plan };
  }
  if (task.when != null) ir.when = { source: task.when, expr: parseWhen(task.when) };
  if (working.matrixValues) ir.matrix_values = working.matrixValues;

  const record = task as Record<string, unknown>;
  for (const key of CARRIED_TASK_FIELDS) {
    let value = record[key];
    if (value == null && FROM_DEFAULTS.has(key)) {
      value = (defaults as Record<string, unknown> | null | undefined)?.[key];
    }
    if (value == null && engineDefaults && FROM_ENGINE_DEFAULTS.has(key)) {
      value = (engineDefaults as Record<string, unknown>)[key];
    }
    if (value != null) ir[key] = value;
  }
  // `defaults.<engine>.context_model` belongs to the engine the context calls go to
  const contextEngine = typeof ir.context_engine === "string" ? ir.context_engine : ir.engine;
  if (ir.context_model == null && contextEngine && isBuiltinEngine(contextEngine)) {
    const model = defaults?.[contextEngine]?.context_model;
    if (model != null) ir.context_model = model;
  }
  const fallbackDefaults = fallbackDefaultsOf(ir, defaults);
  if (fallbackDefaults) ir.fallback_defaults = fallbackDefaults;
  return ir;
}

/**
 * `defaults.<fallback_engine>`'s model, reasoning_effort and args, for the attempt that switches
 * to another engine (lib/run/engine_route.ts); undefined when there are none.
 */
function fallbackDefaultsOf(
  ir: TaskIR,
  defaults: AuthoredDefaults | null | undefined,
): TaskIR["fallback_defaults"] {
  const fallback = ir.fallback_engine;
  if (typeof fallback !== "string" || fallback === ir.engine || !isBuiltinEngine(fallback)) {
    return undefined;
  }
  const block = defaults?.[fallback];
  const picked: NonNullable<TaskIR["fallback_defaults"]> = {};
  if (block?.model != null) picked.model = block.model;
  if (block?.reasoning_effort != null) picked.reasoning_effort = block.reasoning_effort;
  if (block?.args != null) picked.args = block.args;
  return Object.keys(picked).length > 0 ? picked : undefined;
}

/** Plan-level keys the IR builds itself. */
const BUILT_PLAN_FIELDS = new Set([
  "version",
  "name",
  "goal",
  "workspace_root",
  "max_parallel",
  "fail_fast",
  "run_dir",
  "max_cost_usd",
  "budget_warning_pct",
  "secrets",
  "imports",
  "defaults",
  "engines",
  "tasks",
]);

/** Default plan name when a plan has none. */
export const DEFAULT_PLAN_NAME = "unnamed-plan";

/** Resolves `workspace_root` against the plan's folder. */
export function resolveWorkspaceRoot(
  plan: Omit<AuthoredPlan, "tasks">,
  baseDir: string,
): string | null {
  return plan.workspace_root != null ? resolve(baseDir, plan.workspace_root) : null;
}

/** The secrets one plan file declares: `secrets:` and `defaults.secrets`, or `auto`. */
export function planSecrets(plan: Omit<AuthoredPlan, "tasks">): string[] | "auto" {
  const defaults = plan.defaults;
  return defaults?.secrets_auto || plan.secrets === "auto"
    ? "auto"
    : [...new Set([...(plan.secrets ?? []), ...(defaults?.secrets ?? [])])];
}

/** Two files' secrets together (an imported plan's tasks print into the importer's run). */
export function mergeSecrets(a: string[] | "auto", b: string[] | "auto"): string[] | "auto" {
  return a === "auto" || b === "auto" ? "auto" : [...new Set([...a, ...b])];
}

/**
 * Builds the plan's IR from its plan-level fields and its lowered tasks.
 *
 * @param plan the root file's plan-level fields
 * @param source absolute path of the plan file
 * @param tasks the tasks, already lowered
 */
export function lowerPlan(
  plan: Omit<AuthoredPlan, "tasks">,
  source: string,
  tasks: TaskIR[],
): PlanIR {
  const baseDir = dirname(source);
  const defaults = plan.defaults;
  const secrets = planSecrets(plan);
  const ir: PlanIR = {
    ir_version: IR_VERSION,
    name: plan.name ?? DEFAULT_PLAN_NAME,
    goal: plan.goal ?? "",
    workspace_root: resolveWorkspaceRoot(plan, baseDir),
    max_parallel: plan.max_parallel ?? 1,
    fail_fast: plan.fail_fast ?? true,
    run_dir: resolve(baseDir, plan.run_dir ?? ".maestro-runs"),
    max_cost_usd: plan.max_cost_usd ?? null,
    budget_warning_pct: plan.budget_warning_pct ?? defaults?.budget_warning_pct ?? 0.8,
    secrets,
    tasks,
  };
  const record = plan as Record<string, unknown>;
  for (const key of KNOWN_KEYS.plan) {
    if (BUILT_PLAN_FIELDS.has(key)) continue;
    const value = record[key];
    if (value != null) ir[key] = value;
  }
  // keep `tasks` last so the IR reads top-down
  const { tasks: taskList, ...head } = ir;
  return { ...head, tasks: taskList } as PlanIR;
}

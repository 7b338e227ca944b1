/**
 * Loading a plan file (YAML or a TypeScript module) into the IR: read, shape-check, inline
 * imports, load group sub-plans, expand matrices, validate, lower. Every error found on the way
 * is returned, each pointing at its file, line and column.
 *
 * @module
 */
import { importLater } from "../import_later.ts";
import { dirname, extname, resolve } from "../path.ts";
import type { PlanIssue } from "../errors.ts";
import type { GraphStats } from "../dag/graph.ts";
import type { LoadedPlan, PlanIR } from "./ir.ts";
import {
  expandMatrix,
  lowerPlan,
  lowerTask,
  resolveWorkspaceRoot,
  type WorkingTask,
} from "./lower.ts";
import type { AuthoredTask } from "./schema.ts";
import { checkShape, type ShapeResult } from "./shape.ts";
import { classifyVar, renderTemplate } from "./template.ts";
import { validatePlan } from "./validate.ts";
import { namespacedIdIssues } from "./namespaced_ids.ts";
import { parseYaml, type SourceMap } from "./yaml.ts";

/** Options for {@linkcode loadPlan}. */
export interface LoadPlanOptions {
  /** Treat warnings about unknown keys as errors. @default {false} */
  strict?: boolean;
  /** Template variables given with `--set KEY=VALUE`. */
  set?: Record<string, string>;
}

/** What {@linkcode loadPlan} found. */
export interface LoadOutcome {
  /** The lowered plan, when there were no errors. */
  plan?: LoadedPlan;
  /** Every error, in the order found. */
  errors: PlanIssue[];
  /** Every warning. */
  warnings: PlanIssue[];
}

/** Raw data read from one plan file, before shape checking. */
export interface PlanSource {
  /** The file's data (undefined when unreadable). */
  data: unknown;
  /** Positions of nodes in the file. */
  sourceMap: SourceMap;
  /** Errors reading or parsing the file. */
  errors: PlanIssue[];
}

const MAX_IMPORT_DEPTH = 5;
const PREFIX_PATTERN = /^[a-z0-9][a-z0-9-]*$/;

/** True for file names the TypeScript front end reads. */
export function isModulePlan(path: string): boolean {
  return [".ts", ".mts", ".js", ".mjs"].includes(extname(path));
}

async function readSource(file: string): Promise<PlanSource> {
  if (isModulePlan(file)) {
    const { evaluatePlanModule } = await importLater<typeof import("./sandbox.ts")>(
      new URL("./sandbox.ts", import.meta.url),
    );
    return await evaluatePlanModule(file);
  }
  let text: string;
  try {
    const decoded = decodePlanText(await Deno.readFile(file), file);
    if (typeof decoded !== "string") {
      return { data: undefined, sourceMap: { file, locate: () => decoded }, errors: [decoded] };
    }
    text = decoded;
  } catch (error) {
    const missing = error instanceof Deno.errors.NotFound;
    return {
      data: undefined,
      sourceMap: { file, locate: () => ({ line: 0, column: 0 }) },
      errors: [{
        code: "E081",
        message: missing
          ? `plan file not found: ${file}`
          : `cannot read plan file ${file}: ${error}`,
        file,
        line: 0,
        column: 0,
        hint: missing ? "check the path" : "check the file's permissions",
      }],
    };
  }
  const parsed = parseYaml(text, file);
  return { data: parsed.data, sourceMap: parsed.sourceMap, errors: parsed.errors };
}

/**
 * A plan file's text, or E087 at its first byte that is not UTF-8: read leniently, such a byte
 * would silently become U+FFFD in a command or a prompt.
 */
function decodePlanText(bytes: Uint8Array, file: string): string | PlanIssue {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    const lenient = new TextDecoder().decode(bytes);
    const before = lenient.slice(0, Math.max(0, lenient.indexOf("\uFFFD")));
    const lines = before.split("\n");
    return {
      code: "E087",
      message: "the plan file is not valid UTF-8",
      file,
      line: lines.length,
      column: lines.at(-1)!.length + 1,
      hint: "save the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8`)",
    };
  }
}

interface Collected {
  shape: ShapeResult;
  map: SourceMap;
  tasks: WorkingTask[];
  invalidIds: Set<string>;
}

/** Context passed down while following imports and groups. */
interface Walk {
  stack: readonly string[];
  errors: PlanIssue[];
  warnings: PlanIssue[];
  options: LoadPlanOptions;
}

function prefixText(text: string, ids: ReadonlySet<string>, prefix: string): string {
  return renderTemplate(text, (name) => {
    const v = classifyVar(name, ids);
    return v.kind === "upstream" ? `{{ ${prefix}/${v.task}.${v.field} }}` : undefined;
  });
}

function prefixTask(
  task: AuthoredTask,
  ids: ReadonlySet<string>,
  prefix: string,
  overrides: Record<string, unknown> | null | undefined,
): AuthoredTask {
  const ref = (id: string) =>
    id === "*" ? id : ids.has(id) || !id.includes("/") ? `${prefix}/${id}` : id;
  const text = (value: string | null | undefined) =>
    value == null ? value : prefixText(value, ids, prefix);
  const command = (value: string | string[] | null | undefined) =>
    value == null
      ? value
      : typeof value === "string"
      ? prefixText(value, ids, prefix)
      : value.map((v) => prefixText(v, ids, prefix));
  const result: AuthoredTask = {
    ...task,
    id: `${prefix}/${task.id}`,
    depends_on: task.depends_on?.map(ref),
    context_from: task.context_from?.map(ref),
    prompt: text(task.prompt),
    when: text(task.when),
    command: command(task.command),
    pre_command: command(task.pre_command),
    verify_command: command(task.verify_command),
    guard_command: command(task.guard_command),
  };
  for (const [key, value] of Object.entries(overrides ?? {})) {
    if (key === "env" && value && typeof value === "object") {
      result.env = { ...result.env, ...(value as Record<string, string>) };
    } else {
      (result as Record<string, unknown>)[key] = value;
    }
  }
  return result;
}

async function collect(file: string, walk: Walk): Promise<Collected | undefined> {
  const source = await readSource(file);
  walk.errors.push(...source.errors);
  if (source.errors.length > 0) return undefined;
  const map = source.sourceMap;
  const shape = await checkShape(source.data, map);
  walk.errors.push(...shape.issues);
  for (const warning of shape.warnings) {
    if (walk.options.strict && warning.code === "W01") {
      walk.errors.push({
        ...warning,
        code: "E031",
        message: warning.message.replace(" is ignored", ""),
      });
    } else {
      walk.warnings.push(warning);
    }
  }
  const baseDir = dirname(file);
  const defaults = shape.plan?.defaults;
  const engines = shape.plan?.engines;
  const invalidIds = new Set<string>();
  const own: WorkingTask[] = [];
  shape.tasks.forEach((task, i) => {
    if (task) own.push({ task, map, path: ["tasks", i], baseDir, defaults, engines });
    else if (shape.rawIds[i]) invalidIds.add(shape.rawIds[i]!);
  });

  const imported: WorkingTask[] = [];
  const prefixes = new Set<string>();
  const imports = shape.plan?.imports ?? [];
  for (const [i, entry] of imports.entries()) {
    const where = { file, ...map.locate(["imports", i]) };
    if (!PREFIX_PATTERN.test(entry.prefix)) {
      walk.errors.push({
        code: "E028",
        message: `import prefix "${entry.prefix}" is not valid`,
        ...where,
        hint: "use lowercase letters, digits and '-', starting with a letter or digit",
      });
      continue;
    }
    if (prefixes.has(entry.prefix)) {
      walk.errors.push({
        code: "E027",
        message: `import prefix "${entry.prefix}" is used twice`,
        ...where,
      });
      continue;
    }
    prefixes.add(entry.prefix);
    const target = resolve(baseDir, entry.path);
    if (walk.stack.includes(target)) {
      const chain = [...walk.stack.slice(walk.stack.indexOf(target)), target].join(" -> ");
      walk.errors.push({ code: "E025", message: `circular import: ${chain}`, ...where });
      continue;
    }
    if (walk.stack.length > MAX_IMPORT_DEPTH) {
      walk.errors.push({
        code: "E025",
        message: `imports are nested deeper than ${MAX_IMPORT_DEPTH} levels`,
        ...where,
      });
      continue;
    }
    const errorCount = walk.errors.length;
    const sub = await collect(target, { ...walk, stack: [...walk.stack, target] });
    if (!sub) {
      const reason = walk.errors.slice(errorCount).find((e) => e.code === "E081");
      if (reason) {
        walk.errors.splice(walk.errors.indexOf(reason), 1);
        walk.errors.push({
          code: "E026",
          message: `imported plan not found: ${entry.path}`,
          ...where,
          hint: "import paths are relative to the importing plan's folder",
        });
      }
      continue;
    }
    const ids = new Set([...sub.tasks.map((w) => w.task.id), ...sub.invalidIds]);
    for (const working of sub.tasks) {
      imported.push({
        ...working,
        task: prefixTask(working.task, ids, entry.prefix, entry.overrides),
      });
    }
    for (const id of sub.invalidIds) invalidIds.add(`${entry.prefix}/${id}`);
  }
  return { shape, map, tasks: [...imported, ...own], invalidIds };
}

async function loadFile(
  file: string,
  walk: Walk,
): Promise<{ ir: PlanIR; graph?: GraphStats } | undefined> {
  const collected = await collect(file, walk);
  if (!collected) return undefined;
  const { shape, map, invalidIds } = collected;
  const tasks = expandMatrix(collected.tasks);
  const baseDir = dirname(file);
  const plan = shape.plan;
  const workspaceRoot = plan ? resolveWorkspaceRoot(plan, baseDir) : null;

  const groups = new Map<string, PlanIR>();
  for (const working of tasks) {
    const group = working.task.group;
    if (group == null) continue;
    const target = resolve(working.baseDir, group);
    if (groups.has(target)) continue;
    const where = { file: working.map.file, ...working.map.locate([...working.path, "group"]) };
    if (walk.stack.includes(target)) {
      walk.errors.push({
        code: "E106",
        message: `group sub-plan includes itself: ${group}`,
        ...where,
      });
      continue;
    }
    const errorCount = walk.errors.length;
    const sub = await loadFile(target, { ...walk, stack: [...walk.stack, target] });
    if (sub) groups.set(target, sub.ir);
    const missing = walk.errors.slice(errorCount).find((e) => e.code === "E081");
    if (missing) {
      walk.errors.splice(walk.errors.indexOf(missing), 1);
      walk.errors.push({
        code: "E106",
        message: `group sub-plan not found: ${group}`,
        ...where,
        hint: "group paths are relative to the plan's folder",
      });
    }
  }

  const result = validatePlan({
    plan,
    tasks,
    invalidIds,
    baseDir,
    workspaceRoot,
    setVars: new Set(Object.keys(walk.options.set ?? {})),
    file,
    locate: (path) => map.locate(path),
  });
  walk.errors.push(...result.errors);
  walk.warnings.push(...result.warnings);
  if (walk.errors.length > 0 || !plan) return undefined;
  const ctx = { workspaceRoot, groups };
  const ir = lowerPlan(plan, file, tasks.map((w) => lowerTask(w, ctx)));
  return result.graph ? { ir, graph: result.graph } : { ir };
}

function bySource(a: PlanIssue, b: PlanIssue): number {
  return a.file === b.file ? a.line - b.line || a.column - b.column : 0;
}

/**
 * Loads a plan file (`.yaml`/`.yml`, or a `.ts` module evaluated in a sandbox) into the IR.
 * Never throws for problems in the plan: they come back as errors with positions.
 *
 * @param path the plan file
 * @param options strictness and `--set` values
 * @returns the plan (when valid), errors and warnings
 */
export async function loadPlan(path: string, options: LoadPlanOptions = {}): Promise<LoadOutcome> {
  const file = resolve(path);
  const walk: Walk = { stack: [file], errors: [], warnings: [], options };
  const loaded = await loadFile(file, walk);
  // group members get their run ids only now, with every sub-plan loaded
  if (loaded) walk.errors.push(...namespacedIdIssues(loaded.ir));
  const errors = walk.errors.sort(bySource);
  const warnings = walk.warnings.sort(bySource);
  if (!loaded || errors.length > 0) return { errors, warnings };
  const plan: LoadedPlan = { ir: loaded.ir, source: file, warnings };
  if (loaded.graph) plan.graph = loaded.graph;
  return { plan, errors, warnings };
}

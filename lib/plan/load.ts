/**
 * Loading a plan file (YAML or a TypeScript module) into the IR: read, shape-check, inline
 * imports, load group sub-plans, expand matrices, validate, lower. Every error found on the way
 * is returned, each pointing at its file, line and column.
 *
 * @module
 */
import { importLater } from "../import_later.ts";
import { dirname, resolve } from "../path.ts";
import type { PlanIssue } from "../errors.ts";
import type { GraphStats } from "../dag/graph.ts";
import type { LoadedPlan, PlanIR } from "./ir.ts";
import {
  expandMatrix,
  lowerPlan,
  lowerTask,
  mergeSecrets,
  planSecrets,
  resolveWorkspaceRoot,
  type WorkingTask,
} from "./lower.ts";
import type { AuthoredTask } from "./schema.ts";
import { dotted } from "./describe.ts";
import { KNOWN_KEYS } from "./keys.ts";
import { isModulePlan } from "./names.ts";
import { checkShape, type ShapeResult } from "./shape.ts";
import { classifyVar, renderTemplate } from "./template.ts";
import { validatePlan } from "./validate.ts";
import { namespacedIdIssues } from "./namespaced_ids.ts";
import { type DataPath, parseYaml, type SourceMap } from "./yaml.ts";

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
  /** Warnings about how the file is written (W41: a key written twice). */
  warnings?: PlanIssue[];
}

const MAX_IMPORT_DEPTH = 5;
const PREFIX_PATTERN = /^[a-z0-9][a-z0-9-]*$/;

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
  return {
    data: parsed.data,
    sourceMap: parsed.sourceMap,
    errors: parsed.errors,
    warnings: parsed.warnings,
  };
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
  /** What the imported files (nested too) declare secret: masked in the importer's run. */
  importedSecrets: string[] | "auto";
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
  overrides: Readonly<Record<string, unknown>>,
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
  for (const [key, value] of Object.entries(overrides)) {
    if (key === "env" && value && typeof value === "object") {
      result.env = { ...result.env, ...(value as Record<string, string>) };
    } else {
      (result as Record<string, unknown>)[key] = value;
    }
  }
  return result;
}

/**
 * Task keys an import's `overrides` may not set. They are the task's identity and its place in
 * the graph (`id`, `depends_on`, `context_from` would hold ids of the importing file, which the
 * prefixing cannot tell from the imported file's), or turn it into other tasks (`group`,
 * `matrix`).
 */
const NOT_OVERRIDABLE: readonly string[] = ["id", "depends_on", "context_from", "group", "matrix"];

/** Task keys whose relative value is a path: in `overrides` it is the importing file's. */
const PATH_KEYS: readonly string[] = ["workdir", "prompt_file", "prompt_md_file"];

/** The id the overrides are checked under: checkShape wants a whole task. */
const OVERRIDES_TASK_ID = "overrides";

/**
 * A source map that sends the paths checkShape reports for `{ tasks: [overrides] }` to the
 * `overrides:` mapping at `at`, so issues point at what the author wrote.
 */
function overridesSourceMap(map: SourceMap, at: DataPath): SourceMap {
  return {
    file: map.file,
    locate: (path, options) => map.locate([...at, ...path.slice(2)], options),
  };
}

/** checkShape names the overrides `tasks[0]`; the author knows them as `name`. */
function renameTaskPath(issue: PlanIssue, name: string): PlanIssue {
  const message = issue.message
    .replace(/^tasks\[0\]/, name)
    .replace(/ in tasks\[0\](?=[.\w]* is ignored$)/, ` in ${name}`);
  return { ...issue, message };
}

/** Relative path values made absolute against `baseDir`, the folder of the importing file. */
function anchorPaths(
  overrides: Record<string, unknown>,
  baseDir: string,
): Record<string, unknown> {
  const anchored = { ...overrides };
  for (const key of PATH_KEYS) {
    const value = anchored[key];
    if (typeof value === "string") anchored[key] = resolve(baseDir, value);
  }
  return anchored;
}

/** What {@linkcode checkOverrides} found. */
interface CheckedOverrides {
  /** The overrides to apply: known, valid keys only, paths absolute. */
  overrides: Record<string, unknown>;
  /** Errors, pointing into the `overrides:` mapping. */
  issues: PlanIssue[];
  /** Unknown keys (W01). */
  warnings: PlanIssue[];
}

/**
 * Checks an import's `overrides` as the task fields they set, with the checks (and codes) a
 * task gets, so a value that would be an error in a task is one here too.
 *
 * @param overrides the `overrides:` value (already known to be a mapping, or nullish)
 * @param at its path in the importing file's data
 * @param map positions in the importing file
 * @param baseDir the importing file's folder, for relative paths
 */
async function checkOverrides(
  overrides: Record<string, unknown> | null | undefined,
  at: DataPath,
  map: SourceMap,
  baseDir: string,
): Promise<CheckedOverrides> {
  const issues: PlanIssue[] = [];
  if (overrides == null || Object.keys(overrides).length === 0) {
    return { overrides: {}, issues, warnings: [] };
  }
  const settable: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(overrides)) {
    if (!NOT_OVERRIDABLE.includes(key)) {
      settable[key] = value;
      continue;
    }
    issues.push({
      code: "E026",
      message: `overrides cannot set "${key}"`,
      file: map.file,
      ...map.locate([...at, key], { key: true }),
      hint: `overrides may set any task key but ${
        NOT_OVERRIDABLE.join(", ")
      }; change it in the imported file`,
    });
  }
  const shape = await checkShape(
    { tasks: [{ ...settable, id: OVERRIDES_TASK_ID }] },
    overridesSourceMap(map, at),
  );
  const name = dotted(at);
  issues.push(...shape.issues.map((issue) => renameTaskPath(issue, name)));
  const warnings = shape.warnings.map((warning) => renameTaskPath(warning, name));
  // a task whose command or engine is broken comes back undefined: nothing is applied then,
  // which is harmless as the plan has errors anyway
  const checked = (shape.tasks[0] ?? {}) as Record<string, unknown>;
  const known = Object.fromEntries(
    Object.entries(checked).filter(([key]) => key !== "id" && KNOWN_KEYS.task.includes(key)),
  );
  return { overrides: anchorPaths(known, baseDir), issues, warnings };
}

/** Shape warnings go to the warnings, or, unknown keys under `--strict`, to the errors. */
function reportShapeWarnings(warnings: readonly PlanIssue[], walk: Walk): void {
  for (const warning of warnings) {
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
}

async function collect(file: string, walk: Walk): Promise<Collected | undefined> {
  const source = await readSource(file);
  walk.errors.push(...source.errors);
  if (source.errors.length > 0) return undefined;
  walk.warnings.push(...source.warnings ?? []);
  const map = source.sourceMap;
  const shape = await checkShape(source.data, map);
  walk.errors.push(...shape.issues);
  reportShapeWarnings(shape.warnings, walk);
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
  let importedSecrets: string[] | "auto" = [];
  const prefixes = new Set<string>();
  const imports = shape.plan?.imports ?? [];
  for (const [kept, entry] of imports.entries()) {
    const i = shape.importIndex?.[kept] ?? kept;
    const where = { file, ...map.locate(["imports", i]) };
    // checked before anything else about the entry, so its problems show in the same pass
    const checked = await checkOverrides(
      entry.overrides,
      ["imports", i, "overrides"],
      map,
      baseDir,
    );
    walk.errors.push(...checked.issues);
    reportShapeWarnings(checked.warnings, walk);
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
        hint: "give each import its own prefix: the tasks of both would get the same ids",
      });
      continue;
    }
    prefixes.add(entry.prefix);
    const target = resolve(baseDir, entry.path);
    if (walk.stack.includes(target)) {
      const chain = [...walk.stack.slice(walk.stack.indexOf(target)), target].join(" -> ");
      walk.errors.push({
        code: "E025",
        message: `circular import: ${chain}`,
        ...where,
        hint: "a plan cannot import itself, directly or through others: remove one import",
      });
      continue;
    }
    if (walk.stack.length > MAX_IMPORT_DEPTH) {
      walk.errors.push({
        code: "E025",
        message: `imports are nested deeper than ${MAX_IMPORT_DEPTH} levels`,
        ...where,
        hint: "import the deeper plans from a higher level instead",
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
    if (sub.shape.plan) {
      importedSecrets = mergeSecrets(importedSecrets, planSecrets(sub.shape.plan));
    }
    importedSecrets = mergeSecrets(importedSecrets, sub.importedSecrets);
    const ids = new Set([...sub.tasks.map((w) => w.task.id), ...sub.invalidIds]);
    for (const working of sub.tasks) {
      imported.push({
        ...working,
        task: prefixTask(working.task, ids, entry.prefix, checked.overrides),
      });
    }
    for (const id of sub.invalidIds) invalidIds.add(`${entry.prefix}/${id}`);
  }
  return { shape, map, tasks: [...imported, ...own], invalidIds, importedSecrets };
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
        hint: "a group runs another plan file; point `group:` at a file that does not lead back",
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
  // unknown keys found by validation (inside assert: entries) are W01 too: E031 under --strict
  reportShapeWarnings(result.warnings, walk);
  if (walk.errors.length > 0 || !plan) return undefined;
  const ctx = { workspaceRoot, groups };
  const ir = lowerPlan(plan, file, tasks.map((w) => lowerTask(w, ctx)));
  ir.secrets = mergeSecrets(ir.secrets, collected.importedSecrets);
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

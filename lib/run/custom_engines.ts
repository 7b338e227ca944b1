/**
 * Custom engines: a plan's `engines:` maps a name to a TypeScript (or JavaScript) module that
 * exports an adapter of the engines/types.ts shape. Lowering puts the module's absolute path
 * on each task that uses it (`engine_module`); before a run starts, the runtime imports every
 * module its tasks use, once, checks that it exports an engine, and looks those names up before
 * the built-in adapters.
 *
 * A custom engine module runs inside maestro's own process, with maestro's permissions: unlike
 * a TypeScript plan, which is evaluated in a sandboxed child, it is trusted code.
 *
 * @module
 */
import { isAbsolute, relative, toFileUrl } from "../path.ts";
import type { Engine } from "../../engines/types.ts";
import { EXIT, MaestroError } from "../errors.ts";
import type { TaskIR } from "../plan/ir.ts";
import type { EngineRegistry } from "./engine_executor.ts";

const FUNCTIONS = ["build", "parser", "parse", "classify"] as const;

const SHAPE_HINT = "export the adapter as the module's default export (or as `engine`): " +
  "{ name, binary, build, parser, parse, classify }; type it with " +
  '`import type { Engine } from "jsr:@maestro/core"` (see docs/engines.md, Custom engines)';

/**
 * What keeps a value from being an {@linkcode Engine}: one entry per missing or mistyped member
 * (empty when it is one).
 *
 * @param value what a module exported
 */
export function engineShapeProblems(value: unknown): string[] {
  if (value === null || (typeof value !== "object" && typeof value !== "function")) {
    return [`it is ${value === null ? "null" : typeof value}, not an object`];
  }
  const record = value as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of ["name", "binary"] as const) {
    if (typeof record[key] !== "string" || record[key] === "") {
      problems.push(`${key} must be a non-empty string`);
    }
  }
  for (const key of FUNCTIONS) {
    if (typeof record[key] !== "function") problems.push(`${key}() is missing`);
  }
  const alt = record.altBinaries;
  if (alt !== undefined && !(Array.isArray(alt) && alt.every((a) => typeof a === "string"))) {
    problems.push("altBinaries must be a list of strings");
  }
  return problems;
}

function shown(path: string): string {
  const rel = relative(Deno.cwd(), path);
  return rel && !rel.startsWith("..") && !isAbsolute(rel) ? rel : path;
}

function failure(name: string, message: string, hint: string): MaestroError {
  return new MaestroError("E102", `custom engine "${name}": ${message}`, {
    exitCode: EXIT.invalid,
    hint,
  });
}

/**
 * Imports a custom engine module and returns its adapter: the default export, else the export
 * named `engine`.
 *
 * @param name the engine's name in the plan (for messages)
 * @param modulePath absolute path of the module
 * @returns the adapter
 * @throws {MaestroError} E102 (exit 2) when the module cannot be imported or exports no engine
 */
export async function importEngine(name: string, modulePath: string): Promise<Engine> {
  let exports: Record<string, unknown>;
  try {
    exports = await import(toFileUrl(modulePath).href);
  } catch (error) {
    const why = error instanceof Error ? error.message.split("\n")[0] : String(error);
    throw failure(
      name,
      `cannot import ${shown(modulePath)}: ${why}`,
      `\`deno check ${shown(modulePath)}\` finds type errors, \`deno run ${
        shown(modulePath)
      }\` shows load errors`,
    );
  }
  const candidate = exports.default ?? exports.engine;
  if (candidate === undefined) {
    const names = Object.keys(exports);
    throw failure(
      name,
      `${shown(modulePath)} exports no engine: no default export and no export named "engine" ` +
        `(it exports ${names.length > 0 ? names.join(", ") : "nothing"})`,
      SHAPE_HINT,
    );
  }
  const problems = engineShapeProblems(candidate);
  if (problems.length > 0) {
    throw failure(
      name,
      `${shown(modulePath)} does not export an engine: ${problems.join("; ")}`,
      SHAPE_HINT,
    );
  }
  return candidate as Engine;
}

/**
 * The custom engines a run's tasks use: name -> absolute module path.
 *
 * @param tasks the run's tasks (group members included)
 * @throws {MaestroError} E102 when one name stands for two modules (only possible across group
 *   sub-plans, which are validated one by one)
 */
export function customEngineModules(tasks: readonly TaskIR[]): Map<string, string> {
  const modules = new Map<string, string>();
  for (const task of tasks) {
    if (!task.engine || typeof task.engine_module !== "string") continue;
    const earlier = modules.get(task.engine);
    if (earlier !== undefined && earlier !== task.engine_module) {
      throw failure(
        task.engine,
        `declared with two modules: ${shown(earlier)} and ${shown(task.engine_module)}`,
        "one name means one adapter in a run; rename one of them in its plan's `engines:`",
      );
    }
    modules.set(task.engine, task.engine_module);
  }
  return modules;
}

/**
 * A registry with the run's custom engines in front of `base`: imports every custom engine
 * module the tasks use (in parallel), or returns `base` itself when they use none.
 *
 * @param tasks the run's tasks (group members included)
 * @param base the registry for every other name
 * @throws {MaestroError} E102 (exit 2) when a module cannot be imported or exports no engine
 */
export async function withCustomEngines(
  tasks: readonly TaskIR[],
  base: EngineRegistry,
): Promise<EngineRegistry> {
  const modules = customEngineModules(tasks);
  if (modules.size === 0) return base;
  const loaded = new Map(
    await Promise.all(
      [...modules].map(async ([name, path]) => [name, await importEngine(name, path)] as const),
    ),
  );
  return (name) => loaded.get(name) ?? base(name);
}

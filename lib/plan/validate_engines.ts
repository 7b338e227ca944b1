/**
 * Custom engines: the `engines:` declarations of each plan file (E084 for the module path,
 * E085 for the name) and the `engine:` name of each task (E006). Validation never imports an
 * engine module, so checking a plan runs none of its code; the runtime imports it
 * (lib/run/custom_engines.ts).
 *
 * @module
 */
import { extname } from "../path.ts";
import { didYouMean, type PlanIssue } from "../errors.ts";
import { engineModulePath, type WorkingTask } from "./lower.ts";
import {
  CUSTOM_ENGINE_NAME,
  ENGINE_MODULE_EXTENSIONS,
  ENGINE_NAMES,
  isBuiltinEngine,
} from "./names.ts";
import { issue } from "./validate_common.ts";
import type { ValidateInput } from "./validate.ts";
import type { DataPath } from "./yaml.ts";

/** One file's `engines:` block and how to point into that file. */
interface Declarations {
  engines: Readonly<Record<string, string>>;
  file: string;
  baseDir: string;
  locate(path: DataPath): { line: number; column: number };
}

/** The `engines:` blocks of the root file and of every imported file that has tasks. */
function declarationBlocks(input: ValidateInput): Declarations[] {
  const blocks: Declarations[] = [];
  const seen = new Set<string>();
  if (input.plan?.engines) {
    seen.add(input.file);
    blocks.push({
      engines: input.plan.engines,
      file: input.file,
      baseDir: input.baseDir,
      locate: input.locate,
    });
  }
  for (const working of input.tasks) {
    const file = working.map.file;
    if (!working.engines || seen.has(file)) continue;
    seen.add(file);
    blocks.push({
      engines: working.engines,
      file,
      baseDir: working.baseDir,
      locate: (path) => working.map.locate(path),
    });
  }
  return blocks;
}

const REMOTE = /^[a-z][a-z0-9+.-]*:/i;

/** What is wrong with a module path, or undefined when it names an existing module file. */
function moduleProblem(
  path: string,
  absolute: string,
): { message: string; hint: string } | undefined {
  if (REMOTE.test(path) && !path.startsWith("file:")) {
    return {
      message: `"${path}" is not a file path`,
      hint: `write a local module that re-exports it (export { default } from "${path}") ` +
        "and name that file",
    };
  }
  if (!ENGINE_MODULE_EXTENSIONS.includes(extname(path))) {
    return {
      message: `"${path}" is not a TypeScript or JavaScript module`,
      hint: `name a ${ENGINE_MODULE_EXTENSIONS.slice(0, -1).join(", ")} or ${
        ENGINE_MODULE_EXTENSIONS.at(-1)
      } file`,
    };
  }
  let info;
  try {
    info = Deno.statSync(absolute);
  } catch {
    return {
      message: `module not found: ${path}`,
      hint: `module paths are relative to the plan's folder (${absolute} does not exist)`,
    };
  }
  if (!info.isFile) return { message: `"${path}" is not a file`, hint: "name the module file" };
  return undefined;
}

/**
 * Checks every `engines:` entry: a valid name that is not a built-in engine's (E085), the same
 * module wherever the name is declared (E085), an existing .ts/.js module file (E084).
 */
export function checkEngineDeclarations(input: ValidateInput, errors: PlanIssue[]): void {
  const modules = new Map<string, string>();
  for (const block of declarationBlocks(input)) {
    for (const [name, path] of Object.entries(block.engines)) {
      const where = { file: block.file, ...block.locate(["engines", name]) };
      if (isBuiltinEngine(name)) {
        errors.push({
          code: "E085",
          message: `custom engine "${name}" has the name of a built-in engine`,
          ...where,
          hint: "built-in engines need no declaration; give the custom engine another name",
        });
        continue;
      }
      if (!CUSTOM_ENGINE_NAME.test(name)) {
        errors.push({
          code: "E085",
          message: `custom engine name "${name}" is not valid`,
          ...where,
          hint: "use lowercase letters, digits, '_' and '-', starting with a letter",
        });
        continue;
      }
      let absolute: string;
      try {
        absolute = engineModulePath(block.baseDir, path);
      } catch {
        absolute = "";
      }
      const problem = absolute
        ? moduleProblem(path, absolute)
        : { message: `"${path}" is not a valid file URL`, hint: "write a path instead" };
      if (problem) {
        errors.push({
          code: "E084",
          message: `custom engine "${name}": ${problem.message}`,
          ...where,
          hint: problem.hint,
        });
        continue;
      }
      const earlier = modules.get(name);
      if (earlier !== undefined && earlier !== absolute) {
        errors.push({
          code: "E085",
          message:
            `custom engine "${name}" is declared with two modules: ${earlier} and ${absolute}`,
          ...where,
          hint: "one name means one adapter in a run; give one of them another name",
        });
      }
      modules.set(name, absolute);
    }
  }
}

/** A task's `engine:` must be a built-in engine or one its file declares under `engines:`. */
export function checkEngineName(working: WorkingTask, errors: PlanIssue[]): void {
  const engine = working.task.engine;
  if (engine == null || isBuiltinEngine(engine)) return;
  const declared = Object.keys(working.engines ?? {}).filter((name) =>
    CUSTOM_ENGINE_NAME.test(name) && !isBuiltinEngine(name)
  );
  if (declared.includes(engine)) return;
  const suggestion = didYouMean(engine, [...ENGINE_NAMES, ...declared]);
  const custom = declared.length > 0
    ? ` or a custom engine of the plan (${declared.join(", ")})`
    : "";
  errors.push(issue(
    working,
    ["engine"],
    "E006",
    `engine must be one of ${ENGINE_NAMES.join(", ")}${custom}, got "${engine}"`,
    suggestion
      ? `did you mean "${suggestion}"?`
      : "declare a custom engine under the plan's `engines:` (name: path/to/adapter.ts)",
  ));
}

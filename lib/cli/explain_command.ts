/**
 * `maestro explain <plan> --context --task <id> [--run <dir>] [--json] [--text]`: why a task
 * gets the context it gets (lib/context/explain.ts). Each view is one entry of
 * {@linkcode EXPLAIN_VIEWS}. Without a view flag, the cache view: `maestro explain <plan>
 * [--task <id>] [--json]`, hit or miss per task and what changed (cache_commands.ts).
 *
 * @module
 */
import { importLater } from "../import_later.ts";
import { EXIT } from "../errors.ts";
import { loadPlan } from "../plan/load.ts";
import type { LoadedPlan } from "../plan/ir.ts";
import { issueLines, printJson } from "./output.ts";
import { parseSetValues } from "./plan_commands.ts";

/** Options of `maestro explain`. */
export interface ExplainCommandOptions {
  /** Show the context view. */
  context?: boolean;
  /** The task to explain. */
  task?: string;
  /** A run directory (default: the plan's latest run). */
  run?: string;
  /** Print one JSON document. */
  json?: boolean;
  /** Print the delivered context text too. */
  text?: boolean;
  /** `--set KEY=VALUE` pairs. */
  set?: string[];
  /** Show the cache view (the default when no other view is asked for). */
  cache?: boolean;
  /** `--db`: the run store holding the cache. */
  db?: string;
}

/** One view of `maestro explain`. */
interface ExplainView {
  /** The option that selects it. */
  flag: keyof ExplainCommandOptions;
  /** Prints the view; returns the exit code. */
  show(plan: LoadedPlan, options: ExplainCommandOptions): Promise<number>;
}

async function showContext(plan: LoadedPlan, options: ExplainCommandOptions): Promise<number> {
  if (!options.task) {
    console.error("maestro: explain --context needs --task <id>");
    return EXIT.invalid;
  }
  const { explainContext, ExplainError, formatExplanation } = await importLater<
    typeof import("../context/explain.ts")
  >(new URL("../context/explain.ts", import.meta.url));
  try {
    const explanation = await explainContext(plan.ir, options.task, {
      ...(options.run ? { runPath: options.run } : {}),
    });
    if (options.json) printJson(explanation);
    else console.log(formatExplanation(explanation, { showText: options.text ?? false }));
    return EXIT.ok;
  } catch (error) {
    if (!(error instanceof ExplainError)) throw error;
    console.error(`maestro: cannot explain the context: ${error.message}`);
    console.error(`  hint: ${error.hint}`);
    return EXIT.failed;
  }
}

async function showCache(plan: LoadedPlan, options: ExplainCommandOptions): Promise<number> {
  const { explainCacheView } = await importLater<typeof import("./cache_commands.ts")>(
    new URL("./cache_commands.ts", import.meta.url),
  );
  return await explainCacheView(plan, options);
}

/** The views, in the order they are tried; the last one (cache) is the default. */
export const EXPLAIN_VIEWS: readonly ExplainView[] = [
  { flag: "context", show: showContext },
  { flag: "cache", show: showCache },
];

/**
 * `maestro explain`.
 *
 * @param path the plan file
 * @param options which view, which task, which run, output format
 * @returns the exit code
 */
export async function explainCommand(
  path: string,
  options: ExplainCommandOptions,
): Promise<number> {
  const view = EXPLAIN_VIEWS.find((v) => options[v.flag] === true) ?? EXPLAIN_VIEWS.at(-1)!;
  const set = parseSetValues(options.set);
  if (typeof set === "string") {
    console.error(`maestro: ${set}`);
    return EXIT.invalid;
  }
  const outcome = await loadPlan(path, { strict: false, set });
  if (!outcome.plan) {
    for (const e of outcome.errors) console.error(issueLines(e, "error"));
    return EXIT.invalid;
  }
  return await view.show(outcome.plan, options);
}

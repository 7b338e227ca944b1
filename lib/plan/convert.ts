/**
 * `maestro convert`: a plan in YAML or TypeScript, written in the other form (or the same).
 * Lossless for what Maestro reads: the converted plan lowers to the same IR (apart from
 * provenance). Comments, anchors and unknown keys are not carried over: anchors and merge keys
 * are resolved, and unknown keys are dropped (the loader ignores them anyway, with a warning).
 *
 * @module
 */
import { importLater } from "../import_later.ts";
import { basename } from "../path.ts";
import { stringify } from "yaml";
import type { PlanIssue } from "../errors.ts";
import { loadPlan } from "./load.ts";
import { KNOWN_KEYS } from "./keys.ts";
import { ENGINE_NAMES, isModulePlan } from "./names.ts";
import { authoredToTypeScript } from "./to_typescript.ts";
import { parseYaml } from "./yaml.ts";

/** The two ways to write a plan. */
export type PlanFormat = "yaml" | "ts";

/** What {@linkcode convertPlan} produced. */
export interface ConvertOutcome {
  /** The converted plan's text, when the input was valid. */
  text?: string;
  /** Problems with the input (the conversion does not happen when there are any). */
  errors: PlanIssue[];
  /** Warnings about the input, e.g. unknown keys, which the conversion drops. */
  warnings: PlanIssue[];
}

/** The format a file name stands for. */
export function formatOf(path: string): PlanFormat {
  return isModulePlan(path) ? "ts" : "yaml";
}

type Data = Record<string, unknown>;

function isRecord(value: unknown): value is Data {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function pick(value: unknown, known: readonly string[]): unknown {
  if (!isRecord(value)) return value;
  return Object.fromEntries(Object.entries(value).filter(([k]) => known.includes(k)));
}

/**
 * Authored data with only the keys the schema knows, at every level that has known keys.
 * Top-level `_name:` / `x-name:` keys (homes of YAML anchors) go too.
 */
export function knownKeysOnly(data: Readonly<Data>): Data {
  const plan = pick(data, KNOWN_KEYS.plan) as Data;
  if (isRecord(plan.defaults)) {
    const defaults = pick(plan.defaults, KNOWN_KEYS.defaults) as Data;
    for (const engine of ENGINE_NAMES) {
      if (isRecord(defaults[engine])) {
        defaults[engine] = pick(defaults[engine], KNOWN_KEYS.engineDefaults);
      }
    }
    plan.defaults = defaults;
  }
  if (Array.isArray(plan.imports)) {
    plan.imports = plan.imports.map((entry) => pick(entry, KNOWN_KEYS.import));
  }
  if (Array.isArray(plan.tasks)) {
    plan.tasks = plan.tasks.map((task) => {
      const kept = pick(task, KNOWN_KEYS.task);
      if (isRecord(kept) && isRecord(kept.judge)) kept.judge = pick(kept.judge, KNOWN_KEYS.judge);
      return kept;
    });
  }
  return plan;
}

/**
 * Authored data as a YAML document (YAML 1.1 quoting, as the loader reads it). Checks that
 * the text reads back as the same data, so a quoting surprise cannot slip through.
 *
 * @param data the plan as authored
 * @param source where it came from, named in the header comment
 */
export function authoredToYaml(data: Readonly<Data>, source?: string): string {
  const header = source ? `# Converted from ${source} by \`maestro convert\`.\n` : "";
  const text = header + stringify(data, { version: "1.1", lineWidth: 0 });
  const back = parseYaml(text, "converted.yaml");
  if (back.errors.length > 0 || JSON.stringify(back.data) !== JSON.stringify(data)) {
    throw new Error("the YAML writer did not round-trip this plan; please report it");
  }
  return text;
}

async function authoredData(file: string): Promise<{ data?: unknown; errors: PlanIssue[] }> {
  if (isModulePlan(file)) {
    const { evaluatePlanModule } = await importLater<typeof import("./sandbox.ts")>(
      new URL("./sandbox.ts", import.meta.url),
    );
    return await evaluatePlanModule(file);
  }
  const parsed = parseYaml(await Deno.readTextFile(file), file);
  return parsed;
}

/**
 * Converts a plan file. The input is fully validated first (the same checks as `validate`);
 * an invalid plan is not converted.
 *
 * @param file the plan (YAML or TypeScript module)
 * @param to the format to write
 * @returns the text, or the errors that prevented it
 */
export async function convertPlan(file: string, to: PlanFormat): Promise<ConvertOutcome> {
  const outcome = await loadPlan(file);
  if (!outcome.plan) return { errors: outcome.errors, warnings: outcome.warnings };
  const read = await authoredData(file);
  if (read.errors.length > 0 || !isRecord(read.data)) {
    return { errors: read.errors, warnings: outcome.warnings };
  }
  const data = knownKeysOnly(read.data);
  const source = basename(file);
  const text = to === "ts" ? authoredToTypeScript(data, source) : authoredToYaml(data, source);
  return { text, errors: [], warnings: outcome.warnings };
}

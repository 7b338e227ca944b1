/**
 * The child side of the TypeScript plan sandbox: turns an evaluated plan module into one JSON
 * line on stdout for sandbox.ts. Loaded only inside the sandboxed child, next to the plan
 * module and the builder, so it imports nothing else.
 *
 * @module
 */
import { PlanBuilder, type PlanSites } from "./builder.ts";

/** Prefix of the result line, so the plan's own console output cannot be mistaken for it. */
export const RESULT_MARKER = "\u0000maestro-plan\u0000";

/** A number JSON cannot hold (NaN, Infinity, -Infinity), found at `path` in the plan data. */
export interface NonFiniteNumber {
  /** Where in the authored (snake_case) plan data, e.g. `["tasks", 0, "timeout_sec"]`. */
  path: Array<string | number>;
  /** `"NaN"`, `"Infinity"` or `"-Infinity"`. */
  value: string;
}

/** What the child reports: the authored plan and where it was written, or why not. */
export type ChildResult =
  | { ok: true; plan: unknown; sites: PlanSites }
  | { ok: false; problem: "no_default" | "not_a_plan" | "not_json"; detail: string }
  | {
    ok: false;
    problem: "not_finite";
    detail: string;
    numbers: NonFiniteNumber[];
    sites: PlanSites;
  };

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "function") return "a function (call it: export default plan(...))";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Inspects the plan module's exports. */
export function inspectModule(module: Readonly<Record<string, unknown>>): ChildResult {
  if (!("default" in module)) {
    return { ok: false, problem: "no_default", detail: "the module has no default export" };
  }
  const value = module.default;
  if (value instanceof PlanBuilder) return { ok: true, plan: value.toJSON(), sites: value.sites };
  // A plain object in the YAML shape (snake_case) is a plan too: `satisfies AuthoredPlan`.
  if (isPlainObject(value)) return { ok: true, plan: value, sites: { plan: [], tasks: [] } };
  return {
    ok: false,
    problem: "not_a_plan",
    detail: `the default export is ${describe(value)}, not a plan`,
  };
}

/**
 * The result as JSON, plus the non-finite numbers of its plan data. JSON.stringify writes
 * those as `null`, which the schema reads as "not set": a `maxCostUsd: Number("12,50")` would
 * silently drop a budget limit. The replacer sees exactly what JSON.stringify writes (after
 * `toJSON`), so the paths it records are the paths of the parsed data.
 */
export function serialise(result: ChildResult): { text: string; numbers: NonFiniteNumber[] } {
  const paths = new WeakMap<object, Array<string | number>>();
  const numbers: NonFiniteNumber[] = [];
  const text = JSON.stringify(result, function (this: unknown, key: string, value: unknown) {
    const holder = this as object;
    const parent = paths.get(holder);
    const path = parent === undefined ? [] : [...parent, Array.isArray(holder) ? Number(key) : key];
    if (value !== null && typeof value === "object") paths.set(value, path);
    if (typeof value === "number" && !Number.isFinite(value) && path[0] === "plan") {
      numbers.push({ path: path.slice(1), value: String(value) });
    }
    return value;
  });
  return { text, numbers };
}

/**
 * Prints the result line for the parent.
 *
 * @param module the plan module's namespace object
 */
export function report(module: Readonly<Record<string, unknown>>): void {
  const result = inspectModule(module);
  let text: string;
  try {
    const written = serialise(result);
    text = written.text;
    if (written.numbers.length > 0 && result.ok) {
      text = JSON.stringify(
        {
          ok: false,
          problem: "not_finite",
          detail: "the plan holds numbers that JSON cannot: NaN or Infinity",
          numbers: written.numbers,
          sites: result.sites,
        } satisfies ChildResult,
      );
    }
  } catch (error) {
    text = JSON.stringify(
      {
        ok: false,
        problem: "not_json",
        detail: `the plan cannot be written as JSON: ${
          error instanceof Error ? error.message : error
        }`,
      } satisfies ChildResult,
    );
  }
  console.log(RESULT_MARKER + text);
}

/**
 * The detailed half of shape checking, loaded only when the fast JSON Schema check says a plan
 * or a task is invalid: zod parses it again and every problem becomes an issue with the
 * reference tool's error code, a readable message and a position.
 *
 * @module
 */
import type { z } from "zod";
import type { PlanIssue } from "../errors.ts";
import { didYouMean } from "../errors.ts";
import { type AuthoredPlan, type AuthoredTask, planSchema, taskSchema } from "./schema.ts";
import { dotted, show, typeName } from "./describe.ts";
import type { DataPath, SourceMap } from "./yaml.ts";

const planWithoutTasks = planSchema.omit({ tasks: true });

/** Codes for range problems, by the key they are on. */
const RANGE_CODES: Record<string, string> = {
  context_budget_tokens: "E019",
  budget_warning_pct: "E023",
  max_cost_usd: "E014",
  max_iterations: "E022",
  retry_delay_sec: "E013",
  quorum: "E054",
};

/** Codes for invalid enum values, by the key they are on. */
const ENUM_CODES: Record<string, string> = {
  engine: "E006",
  fallback_engine: "E006",
  retry_strategy: "E051",
  context_compaction: "E068",
  routing_strategy: "E053",
  quorum_strategy: "E055",
};

/** Codes for type problems, by the key they are on. */
const TYPE_CODES: Record<string, string> = {
  engine: "E006",
  retry_delay_sec: "E013",
  secrets: "E024",
  tasks: "E001",
  id: "E001",
};

/** The plan key a path ends in; under maps of the author's own keys, the map's key. */
function lastKey(path: readonly PropertyKey[]): string {
  const own = path.findIndex((segment) => segment === "matrix" || segment === "env");
  if (own >= 0 && own < path.length - 1) return path[own] as string;
  for (let i = path.length - 1; i >= 0; i--) {
    if (typeof path[i] === "string") return path[i] as string;
  }
  return "";
}

function codeFor(issue: z.core.$ZodIssue, path: readonly PropertyKey[]): string {
  const key = lastKey(path);
  const inJudge = path.includes("judge");
  const inImports = path[0] === "imports";
  if (inImports) return "E026";
  if (issue.code === "too_small" || issue.code === "too_big") {
    if (key === "tasks") return "E001";
    if (key === "id") return "E001";
    return RANGE_CODES[key] ?? (inJudge ? "E020" : "E012");
  }
  if (issue.code === "invalid_value") return ENUM_CODES[key] ?? (inJudge ? "E020" : "E008");
  if (key === "judge" || inJudge) return "E020";
  if (issue.code === "invalid_type" && issue.input === undefined && key === "id") return "E001";
  return TYPE_CODES[key] ?? "E018";
}

function at(data: unknown, path: readonly PropertyKey[]): unknown {
  let node = data;
  for (const key of path) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

/** Where a key is described, for issues that have nothing more specific to suggest. */
function referenceHint(key: string): string {
  return key === "" ? "see docs/plan-reference.md" : `see \`${key}\` in docs/plan-reference.md`;
}

function describeIssue(issue: z.core.$ZodIssue, value: unknown, name: string, key: string): {
  message: string;
  hint?: string;
} {
  switch (issue.code) {
    case "invalid_type": {
      if (value === undefined) return { message: `${name} is required`, hint: `add \`${key}:\`` };
      const quotedNumber = issue.expected === "number" && typeof value === "string" &&
        value.trim() !== "" && Number.isFinite(Number(value));
      return {
        message: `${name} must be ${
          issue.expected === "object"
            ? "a mapping"
            : issue.expected === "array"
            ? "a list"
            : issue.expected
        }, got ${typeName(value)} ${show(value)}`,
        hint: quotedNumber ? `drop the quotes: ${key}: ${Number(value)}` : referenceHint(key),
      };
    }
    case "invalid_union":
      return {
        message: `${name} has the wrong type (${typeName(value)} ${show(value)})`,
        hint: referenceHint(key),
      };
    case "invalid_value": {
      const options = issue.values.map(String);
      const suggestion = typeof value === "string" ? didYouMean(value, options) : undefined;
      return {
        message: `${name} must be one of ${options.join(", ")}, got ${show(value)}`,
        hint: suggestion
          ? `did you mean "${suggestion}"?`
          : `${referenceHint(key)} for what each value does`,
      };
    }
    case "too_small": {
      if (issue.origin === "array") {
        return {
          message: `${name} must have at least ${issue.minimum} item(s)`,
          hint: referenceHint(key),
        };
      }
      if (issue.origin === "string") {
        return { message: `${name} must not be empty`, hint: `give ${key} a value, or remove it` };
      }
      const bound = issue.inclusive ? "at least" : "greater than";
      return {
        message: `${name} must be ${bound} ${issue.minimum}, got ${show(value)}`,
        hint: `${referenceHint(key)} for the allowed values`,
      };
    }
    case "too_big": {
      const bound = issue.inclusive ? "at most" : "less than";
      return {
        message: `${name} must be ${bound} ${issue.maximum}, got ${show(value)}`,
        hint: `${referenceHint(key)} for the allowed values`,
      };
    }
    case "invalid_format":
      return { message: `${name} has an invalid format`, hint: referenceHint(key) };
    default:
      return { message: `${name}: ${issue.message}`, hint: referenceHint(key) };
  }
}

function toIssues(
  error: z.ZodError,
  data: unknown,
  prefix: DataPath,
  map: SourceMap,
): PlanIssue[] {
  return error.issues.map((issue) => {
    const path = [...prefix, ...issue.path];
    const value = at(data, issue.path);
    const name = dotted(path) || "plan";
    const { message, hint } = describeIssue(issue, value, name, lastKey(path));
    const missing = value === undefined;
    const location = map.locate(missing ? path.slice(0, -1) : path, { key: false });
    return {
      code: codeFor(issue, path),
      message,
      file: map.file,
      ...location,
      ...(hint ? { hint } : {}),
    };
  });
}

/**
 * The task without the fields that failed the shape check, so the cross-task checks can still
 * report its other problems in the same pass. Undefined when even that is not a task.
 */
function withoutBadFields(task: unknown, error: z.ZodError): AuthoredTask | undefined {
  if (task === null || typeof task !== "object" || Array.isArray(task)) return undefined;
  const copy: Record<string, unknown> = { ...task };
  for (const issue of error.issues) {
    const key = issue.path[0];
    // without a valid kind, every later check on this task would only echo the first error
    if (key === "id" || key === "command" || key === "engine" || key === "group") return undefined;
    if (typeof key === "string") delete copy[key];
  }
  const retry = taskSchema.safeParse(copy);
  return retry.success ? retry.data : undefined;
}

/**
 * Checks the plan's top level (without `tasks`) with zod.
 *
 * @returns the issues, and the top level without its bad fields when that is valid
 */
export function checkPlanHead(
  rest: Record<string, unknown>,
  map: SourceMap,
): { plan?: Omit<AuthoredPlan, "tasks">; issues: PlanIssue[]; importIndex?: number[] } {
  const top = planWithoutTasks.safeParse(rest);
  if (top.success) return { plan: top.data, issues: [] };
  const issues = toIssues(top.error, rest, [], map);
  // a bad import entry costs only itself: the others are still loaded and checked
  const badImports = new Set(
    top.error.issues.filter((i) => i.path[0] === "imports" && typeof i.path[1] === "number")
      .map((i) => i.path[1] as number),
  );
  const good = Object.fromEntries(
    Object.entries(rest).flatMap(([key, value]): Array<[string, unknown]> => {
      if (key === "imports" && Array.isArray(value) && badImports.size > 0) {
        return [[key, value.filter((_, i) => !badImports.has(i))]];
      }
      return top.error.issues.some((i) => i.path[0] === key) ? [] : [[key, value]];
    }),
  );
  const retry = planWithoutTasks.safeParse(good);
  if (!retry.success) return { issues };
  if (badImports.size === 0 || !Array.isArray(rest.imports)) return { plan: retry.data, issues };
  // where each kept entry was written, for the positions of its own problems
  const importIndex = rest.imports.map((_, i) => i).filter((i) => !badImports.has(i));
  return { plan: retry.data, issues, importIndex };
}

/**
 * Checks one task with zod.
 *
 * @returns the issues, and the task without its bad fields when that is still a task
 */
export function checkTaskShape(
  task: unknown,
  index: number,
  map: SourceMap,
): { task?: AuthoredTask; issues: PlanIssue[] } {
  const parsed = taskSchema.safeParse(task);
  if (parsed.success) return { task: parsed.data, issues: [] };
  const issues = toIssues(parsed.error, task, ["tasks", index], map);
  const rescued = withoutBadFields(task, parsed.error);
  return rescued ? { task: rescued, issues } : { issues };
}

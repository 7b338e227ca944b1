/**
 * Shape checking of authored plan data against the zod schema, with the reference tool's error
 * codes, positions from the source map, and "did you mean" warnings for unknown keys.
 *
 * The plan and each task are checked separately, so one broken task does not hide the problems
 * of the others, and the valid tasks still take part in the cross-task checks.
 *
 * @module
 */
import type { z } from "zod";
import { didYouMean, type PlanIssue } from "../errors.ts";
import {
  type AuthoredPlan,
  type AuthoredTask,
  ENGINE_NAMES,
  KNOWN_KEYS,
  planSchema,
  taskSchema,
} from "./schema.ts";
import type { DataPath, SourceMap } from "./yaml.ts";

/** The result of checking one file's data. */
export interface ShapeResult {
  /** The plan-level data (tasks not included; fields that failed the shape check left out). */
  plan?: Omit<AuthoredPlan, "tasks">;
  /**
   * One entry per authored task: the parsed task (fields that failed the shape check left out,
   * so other checks still run), or undefined when the entry is not a task at all.
   */
  tasks: Array<AuthoredTask | undefined>;
  /** The raw task id of each entry, when it is a string (kept for invalid tasks too). */
  rawIds: Array<string | undefined>;
  /** Errors. */
  issues: PlanIssue[];
  /** Unknown keys and similar. */
  warnings: PlanIssue[];
}

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
  retry_delay_sec: "E013",
  secrets: "E024",
  tasks: "E001",
  id: "E001",
};

function lastKey(path: readonly PropertyKey[]): string {
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

function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "list";
  if (typeof value === "object") return "mapping";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

function show(value: unknown): string {
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 40 ? text.slice(0, 37) + "..." : text;
}

function dotted(path: readonly PropertyKey[]): string {
  return path.map((p, i) => typeof p === "number" ? `[${p}]` : (i ? "." : "") + String(p)).join("");
}

function at(data: unknown, path: readonly PropertyKey[]): unknown {
  let node = data;
  for (const key of path) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

function describeIssue(issue: z.core.$ZodIssue, value: unknown, name: string): {
  message: string;
  hint?: string;
} {
  switch (issue.code) {
    case "invalid_type":
      if (value === undefined) return { message: `${name} is required` };
      return {
        message: `${name} must be ${
          issue.expected === "object"
            ? "a mapping"
            : issue.expected === "array"
            ? "a list"
            : issue.expected
        }, got ${typeName(value)} ${show(value)}`,
      };
    case "invalid_union":
      return { message: `${name} has the wrong type (${typeName(value)} ${show(value)})` };
    case "invalid_value": {
      const options = issue.values.map(String);
      const suggestion = typeof value === "string" ? didYouMean(value, options) : undefined;
      return {
        message: `${name} must be one of ${options.join(", ")}, got ${show(value)}`,
        ...(suggestion ? { hint: `did you mean "${suggestion}"?` } : {}),
      };
    }
    case "too_small": {
      if (issue.origin === "array") {
        return { message: `${name} must have at least ${issue.minimum} item(s)` };
      }
      if (issue.origin === "string") return { message: `${name} must not be empty` };
      const bound = issue.inclusive ? "at least" : "greater than";
      return { message: `${name} must be ${bound} ${issue.minimum}, got ${show(value)}` };
    }
    case "too_big": {
      const bound = issue.inclusive ? "at most" : "less than";
      return { message: `${name} must be ${bound} ${issue.maximum}, got ${show(value)}` };
    }
    case "invalid_format":
      return { message: `${name} has an invalid format` };
    default:
      return { message: `${name}: ${issue.message}` };
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
    const { message, hint } = describeIssue(issue, value, name);
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

type KeyLevel = keyof typeof KNOWN_KEYS;

const planWithoutTasks = planSchema.omit({ tasks: true });

function unknownKeys(
  value: unknown,
  level: KeyLevel,
  path: DataPath,
  map: SourceMap,
  out: PlanIssue[],
): void {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return;
  const known = KNOWN_KEYS[level];
  for (const key of Object.keys(value)) {
    // `_name:` and `x-name:` at the top level are the usual homes of YAML anchors
    if (level === "plan" && (key.startsWith("_") || key.startsWith("x-"))) continue;
    if (!known.includes(key)) {
      const suggestion = didYouMean(key, known);
      out.push({
        code: "W01",
        message: `unknown key "${key}" in ${dotted(path) || "plan"} is ignored`,
        file: map.file,
        ...map.locate([...path, key], { key: true }),
        hint: suggestion
          ? `did you mean "${suggestion}"?`
          : "remove it or check the plan reference",
      });
    }
  }
  const record = value as Record<string, unknown>;
  if (level === "plan") {
    unknownKeys(record.defaults, "defaults", [...path, "defaults"], map, out);
    if (Array.isArray(record.imports)) {
      record.imports.forEach((entry, i) =>
        unknownKeys(entry, "import", [...path, "imports", i], map, out)
      );
    }
  } else if (level === "defaults") {
    for (const engine of ENGINE_NAMES) {
      unknownKeys(record[engine], "engineDefaults", [...path, engine], map, out);
    }
  } else if (level === "task") {
    unknownKeys(record.judge, "judge", [...path, "judge"], map, out);
  }
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
 * Checks one file's data against the authored schema.
 *
 * @param data the parsed document
 * @param map positions for issues
 */
export function checkShape(data: unknown, map: SourceMap): ShapeResult {
  const issues: PlanIssue[] = [];
  const warnings: PlanIssue[] = [];
  const result: ShapeResult = { tasks: [], rawIds: [], issues, warnings };
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    issues.push({
      code: "E018",
      message: `a plan must be a YAML mapping, got ${typeName(data)}`,
      file: map.file,
      ...map.locate([]),
      hint: "start the file with keys such as `name:` and `tasks:`",
    });
    return result;
  }
  const record = data as Record<string, unknown>;
  unknownKeys(record, "plan", [], map, warnings);

  const version = record.version ?? 1;
  if (typeof version === "number" && version > 1) {
    issues.push({
      code: "E002",
      message: `plan version ${version} is not supported (this Maestro reads version 1)`,
      file: map.file,
      ...map.locate(["version"]),
      hint: "Please upgrade Maestro, or set `version: 1`",
    });
  }

  const { tasks, ...rest } = record;
  const top = planWithoutTasks.safeParse(rest);
  if (top.success) {
    result.plan = top.data;
  } else {
    issues.push(...toIssues(top.error, rest, [], map));
    const good = Object.fromEntries(
      Object.entries(rest).filter(([key]) => !top.error.issues.some((i) => i.path[0] === key)),
    );
    const retry = planWithoutTasks.safeParse(good);
    if (retry.success) result.plan = retry.data;
  }

  if (!Array.isArray(tasks) || tasks.length === 0) {
    issues.push({
      code: "E001",
      message: tasks === undefined || tasks === null
        ? "the plan has no tasks"
        : Array.isArray(tasks)
        ? "tasks must not be empty"
        : `tasks must be a list, got ${typeName(tasks)}`,
      file: map.file,
      ...map.locate(tasks === undefined ? [] : ["tasks"]),
      hint: "add a `tasks:` list with at least one task that has an `id`",
    });
    return result;
  }
  tasks.forEach((task, i) => {
    unknownKeys(task, "task", ["tasks", i], map, warnings);
    const rawId = (task as Record<string, unknown> | null)?.id;
    result.rawIds.push(typeof rawId === "string" && rawId.length > 0 ? rawId : undefined);
    const parsed = taskSchema.safeParse(task);
    if (parsed.success) {
      result.tasks.push(parsed.data);
    } else {
      issues.push(...toIssues(parsed.error, task, ["tasks", i], map));
      result.tasks.push(withoutBadFields(task, parsed.error));
    }
  });
  return result;
}

/**
 * Shape checking of authored plan data: a fast check against the JSON Schema generated from the
 * zod schema, then — only for what fails it — zod's detailed issues (shape_issues.ts), with the
 * reference tool's error codes and positions; plus "did you mean" warnings for unknown keys.
 *
 * The plan and each task are checked separately, so one broken task does not hide the problems
 * of the others, and the valid tasks still take part in the cross-task checks.
 *
 * @module
 */
import { importLater } from "../import_later.ts";
import { didYouMean, type PlanIssue } from "../errors.ts";
import { dotted, typeName } from "./describe.ts";
import { matchesSchema } from "./json_schema_check.ts";
import { KNOWN_KEYS, PLAN_HEAD_JSON_SCHEMA, TASK_JSON_SCHEMA } from "./keys.ts";
import { ENGINE_NAMES, isModulePlan } from "./names.ts";
import { camelCase } from "./camel.ts";
import type { AuthoredPlan, AuthoredTask } from "./schema.ts";
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
  /** The authored index of each entry of `plan.imports`, when bad entries were left out. */
  importIndex?: number[];
}

type KeyLevel = keyof typeof KNOWN_KEYS;

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
      // a TS plan's author wrote camelCase (the builder turned it into snake_case)
      const spelt = isModulePlan(map.file) ? camelCase : (k: string) => k;
      out.push({
        code: "W01",
        message: `unknown key "${spelt(key)}" in ${dotted(path) || "plan"} is ignored`,
        file: map.file,
        ...map.locate([...path, key], { key: true }),
        hint: suggestion
          ? `did you mean "${spelt(suggestion)}"?`
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
 * Checks one file's data against the authored schema.
 *
 * @param data the parsed document
 * @param map positions for issues
 */
export async function checkShape(data: unknown, map: SourceMap): Promise<ShapeResult> {
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
  if (matchesSchema(PLAN_HEAD_JSON_SCHEMA, rest)) {
    result.plan = rest as Omit<AuthoredPlan, "tasks">;
  } else {
    const { checkPlanHead } = await importLater<typeof import("./shape_issues.ts")>(
      new URL("./shape_issues.ts", import.meta.url),
    );
    const head = checkPlanHead(rest, map);
    issues.push(...head.issues);
    if (head.plan) result.plan = head.plan;
    if (head.importIndex) result.importIndex = head.importIndex;
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
  const slow: number[] = [];
  tasks.forEach((task, i) => {
    unknownKeys(task, "task", ["tasks", i], map, warnings);
    const rawId = (task as Record<string, unknown> | null)?.id;
    result.rawIds.push(typeof rawId === "string" && rawId.length > 0 ? rawId : undefined);
    if (matchesSchema(TASK_JSON_SCHEMA, task)) {
      result.tasks.push(task as AuthoredTask);
    } else {
      slow.push(i);
      result.tasks.push(undefined);
    }
  });
  if (slow.length > 0) {
    const { checkTaskShape } = await importLater<typeof import("./shape_issues.ts")>(
      new URL("./shape_issues.ts", import.meta.url),
    );
    for (const i of slow) {
      const checked = checkTaskShape(tasks[i], i, map);
      issues.push(...checked.issues);
      result.tasks[i] = checked.task;
    }
  }
  return result;
}

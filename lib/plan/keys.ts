/**
 * The authored format as data, read from the generated plan.schema.json: the JSON Schema of the
 * plan and of one task, and the known keys at each level. Loading it is cheap; the zod schema it
 * is generated from is loaded only when a plan is invalid.
 *
 * @module
 */
import planJson from "./plan.schema.json" with { type: "json" };
import type { JsonSchema } from "./json_schema_check.ts";
import { ENGINE_NAMES } from "./names.ts";

/** The JSON Schema of a whole authored plan. */
export const PLAN_JSON_SCHEMA: JsonSchema = planJson as JsonSchema;

/** The object variant of a `nullish()` property (`anyOf: [object, null]`), or the node itself. */
function objectOf(schema: JsonSchema | undefined): JsonSchema {
  if (!schema) return {};
  if (schema.properties) return schema;
  return schema.anyOf?.find((option) => option.properties) ?? {};
}

/** The item schema of a (possibly `nullish()`) array property. */
function arrayItemsOf(schema: JsonSchema | undefined): JsonSchema | undefined {
  if (!schema) return undefined;
  return schema.items ?? schema.anyOf?.find((option) => option.items)?.items;
}

const planProperties = PLAN_JSON_SCHEMA.properties!;
const taskSchema = objectOf(arrayItemsOf(planProperties.tasks));
const defaultsSchema = objectOf(planProperties.defaults);
const importSchema = objectOf(arrayItemsOf(planProperties.imports));

/** The JSON Schema of one authored task. */
export const TASK_JSON_SCHEMA: JsonSchema = taskSchema;

/** The JSON Schema of a plan's top level without `tasks`. */
export const PLAN_HEAD_JSON_SCHEMA: JsonSchema = {
  ...PLAN_JSON_SCHEMA,
  properties: Object.fromEntries(Object.entries(planProperties).filter(([key]) => key !== "tasks")),
  required: (PLAN_JSON_SCHEMA.required ?? []).filter((key) => key !== "tasks"),
};

/** Known keys at each level, in schema order, for lowering and "unknown key" warnings. */
export const KNOWN_KEYS: {
  plan: readonly string[];
  task: readonly string[];
  defaults: readonly string[];
  engineDefaults: readonly string[];
  judge: readonly string[];
  import: readonly string[];
} = {
  plan: Object.keys(planProperties),
  task: Object.keys(taskSchema.properties ?? {}),
  defaults: Object.keys(defaultsSchema.properties ?? {}),
  engineDefaults: Object.keys(
    objectOf(defaultsSchema.properties?.[ENGINE_NAMES[0]]).properties ?? {},
  ),
  judge: Object.keys(objectOf(taskSchema.properties?.judge).properties ?? {}),
  import: Object.keys(importSchema.properties ?? {}),
};

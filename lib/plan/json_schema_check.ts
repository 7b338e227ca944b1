/**
 * A small JSON Schema (draft 2020-12 subset) checker that answers only "valid or not".
 *
 * The plan loader runs every plan through it first, against the schema generated from the zod
 * schema (plan.schema.json); zod itself, with its detailed messages, is loaded only when this
 * says no. Importing and building the zod schema costs about 85 ms of start-up, more than half
 * of the budget of `maestro validate`. A test checks both always agree.
 *
 * Supported keywords: type, anyOf, enum, const, properties, required, additionalProperties,
 * items, minItems, minLength, minimum, maximum, exclusiveMinimum — what zod emits for our schema.
 *
 * @module
 */

/** A JSON Schema node, as far as this checker reads it. */
export interface JsonSchema {
  type?: string | string[];
  anyOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  minItems?: number;
  minLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  [keyword: string]: unknown;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function hasType(type: string, value: unknown): boolean {
  switch (type) {
    case "string":
      return typeof value === "string";
    case "number":
      return typeof value === "number" && Number.isFinite(value);
    case "integer":
      return typeof value === "number" && Number.isSafeInteger(value);
    case "boolean":
      return typeof value === "boolean";
    case "null":
      return value === null;
    case "array":
      return Array.isArray(value);
    case "object":
      return isPlainObject(value);
    default:
      return false;
  }
}

/**
 * Whether `value` satisfies `schema`.
 *
 * @param schema the schema node
 * @param value the data
 */
export function matchesSchema(schema: JsonSchema, value: unknown): boolean {
  if (schema.type !== undefined) {
    const types = typeof schema.type === "string" ? [schema.type] : schema.type;
    if (!types.some((type) => hasType(type, value))) return false;
  }
  if (schema.anyOf && !schema.anyOf.some((option) => matchesSchema(option, value))) return false;
  if (schema.enum && !schema.enum.includes(value)) return false;
  if ("const" in schema && schema.const !== value) return false;
  if (typeof value === "number") {
    if (schema.minimum !== undefined && value < schema.minimum) return false;
    if (schema.maximum !== undefined && value > schema.maximum) return false;
    if (schema.exclusiveMinimum !== undefined && value <= schema.exclusiveMinimum) return false;
  }
  if (
    typeof value === "string" && schema.minLength !== undefined && value.length < schema.minLength
  ) {
    return false;
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) return false;
    if (schema.items && !value.every((item) => matchesSchema(schema.items!, item))) return false;
  }
  if (isPlainObject(value)) {
    for (const key of schema.required ?? []) {
      if (value[key] === undefined) return false;
    }
    const properties = schema.properties ?? {};
    for (const key in value) {
      const child = value[key];
      const known = properties[key];
      if (known) {
        if (child !== undefined && !matchesSchema(known, child)) return false;
      } else if (schema.additionalProperties === false) {
        return false;
      } else if (typeof schema.additionalProperties === "object") {
        if (!matchesSchema(schema.additionalProperties, child)) return false;
      }
    }
  }
  return true;
}

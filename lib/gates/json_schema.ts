/**
 * A JSON Schema validator for gate assertions (`is-json` with a schema, `contains-json`,
 * `json-schema`): the common keywords of drafts 07 and 2020-12, with one message per problem
 * (JSON Pointer path first). Unknown keywords are ignored, as the specification says.
 *
 * Supported: type, enum, const, properties, required, additionalProperties,
 * patternProperties, propertyNames, minProperties, maxProperties, items (schema, or a tuple in
 * draft 07), prefixItems, additionalItems, contains, minItems, maxItems, uniqueItems,
 * minLength, maxLength, pattern, format (date-time, date, email, uri, uuid, ipv4), minimum,
 * maximum, exclusiveMinimum, exclusiveMaximum (number and draft-04 boolean forms), multipleOf,
 * allOf, anyOf, oneOf, not, if/then/else, and `$ref` to `#`, `#/definitions/…` and `#/$defs/…`.
 *
 * @module
 */

type Schema = Record<string, unknown> | boolean;

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function typeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

function hasType(type: string, value: unknown): boolean {
  const actual = typeOf(value);
  return type === actual || (type === "number" && actual === "integer");
}

/** Deep equality of JSON values. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, i) => jsonEqual(item, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length &&
      keys.every((key) => Object.hasOwn(b, key) && jsonEqual(a[key], b[key]));
  }
  return false;
}

const FORMATS: Record<string, RegExp> = {
  "date-time": /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/,
  date: /^\d{4}-\d{2}-\d{2}$/,
  email: /^[^\s@]+@[^\s@]+\.[^\s@]+$/,
  uri: /^[a-zA-Z][a-zA-Z0-9+.-]*:[^\s]*$/,
  uuid: /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/,
  ipv4: /^((25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(25[0-5]|2[0-4]\d|1?\d?\d)$/,
};

function pointer(path: string, key: string | number): string {
  return `${path}/${String(key).replace(/~/g, "~0").replace(/\//g, "~1")}`;
}

function resolveRef(root: Schema, ref: string): Schema | undefined {
  if (ref === "#") return root;
  if (!ref.startsWith("#/")) return undefined;
  let node: unknown = root;
  for (const raw of ref.slice(2).split("/")) {
    const key = decodeURIComponent(raw).replace(/~1/g, "/").replace(/~0/g, "~");
    if (!isObject(node)) return undefined;
    node = node[key];
  }
  return isObject(node) || typeof node === "boolean" ? node : undefined;
}

class Validator {
  #root: Schema;
  #depth = 0;

  constructor(root: Schema) {
    this.#root = root;
  }

  check(schema: Schema, value: unknown, path: string, out: string[]): void {
    if (schema === true) return;
    if (schema === false) {
      out.push(`${path || "/"}: no value is allowed here`);
      return;
    }
    if (++this.#depth > 64) {
      this.#depth--;
      out.push(`${path || "/"}: schema nesting too deep ($ref loop?)`);
      return;
    }
    try {
      this.#checkObject(schema, value, path || "", out);
    } finally {
      this.#depth--;
    }
  }

  #checkObject(s: Record<string, unknown>, value: unknown, path: string, out: string[]) {
    const at = path || "/";
    if (typeof s.$ref === "string") {
      const target = resolveRef(this.#root, s.$ref);
      if (target === undefined) out.push(`${at}: cannot resolve $ref '${s.$ref}'`);
      else this.check(target, value, path, out);
    }
    if (s.type !== undefined) {
      const types = Array.isArray(s.type) ? s.type as string[] : [s.type as string];
      if (!types.some((t) => hasType(t, value))) {
        out.push(`${at}: expected ${types.join(" or ")}, got ${typeOf(value)}`);
        return;
      }
    }
    if (Array.isArray(s.enum) && !s.enum.some((option) => jsonEqual(option, value))) {
      out.push(`${at}: must be one of ${JSON.stringify(s.enum)}`);
    }
    if ("const" in s && !jsonEqual(s.const, value)) {
      out.push(`${at}: must equal ${JSON.stringify(s.const)}`);
    }
    if (typeof value === "number") this.#number(s, value, at, out);
    if (typeof value === "string") this.#string(s, value, at, out);
    if (Array.isArray(value)) this.#array(s, value, path, out);
    if (isObject(value)) this.#object(s, value, path, out);
    this.#combinators(s, value, path, out);
  }

  #number(s: Record<string, unknown>, value: number, at: string, out: string[]) {
    const num = (key: string) => typeof s[key] === "number" ? s[key] as number : undefined;
    const min = num("minimum");
    const max = num("maximum");
    if (min !== undefined) {
      if (s.exclusiveMinimum === true ? value <= min : value < min) {
        out.push(`${at}: must be ${s.exclusiveMinimum === true ? ">" : ">="} ${min}`);
      }
    }
    if (max !== undefined) {
      if (s.exclusiveMaximum === true ? value >= max : value > max) {
        out.push(`${at}: must be ${s.exclusiveMaximum === true ? "<" : "<="} ${max}`);
      }
    }
    const exMin = num("exclusiveMinimum");
    if (exMin !== undefined && value <= exMin) out.push(`${at}: must be > ${exMin}`);
    const exMax = num("exclusiveMaximum");
    if (exMax !== undefined && value >= exMax) out.push(`${at}: must be < ${exMax}`);
    const multiple = num("multipleOf");
    if (multiple !== undefined && multiple > 0) {
      const q = value / multiple;
      if (Math.abs(q - Math.round(q)) > 1e-9) out.push(`${at}: must be a multiple of ${multiple}`);
    }
  }

  #string(s: Record<string, unknown>, value: string, at: string, out: string[]) {
    const length = [...value].length;
    if (typeof s.minLength === "number" && length < s.minLength) {
      out.push(`${at}: must have at least ${s.minLength} characters`);
    }
    if (typeof s.maxLength === "number" && length > s.maxLength) {
      out.push(`${at}: must have at most ${s.maxLength} characters`);
    }
    if (typeof s.pattern === "string") {
      let re: RegExp | undefined;
      try {
        re = new RegExp(s.pattern, "u");
      } catch {
        out.push(`${at}: invalid pattern ${JSON.stringify(s.pattern)}`);
      }
      if (re && !re.test(value)) out.push(`${at}: must match ${JSON.stringify(s.pattern)}`);
    }
    if (typeof s.format === "string" && FORMATS[s.format] && !FORMATS[s.format]!.test(value)) {
      out.push(`${at}: must be a valid ${s.format}`);
    }
  }

  #array(s: Record<string, unknown>, value: unknown[], path: string, out: string[]) {
    const at = path || "/";
    if (typeof s.minItems === "number" && value.length < s.minItems) {
      out.push(`${at}: must have at least ${s.minItems} items`);
    }
    if (typeof s.maxItems === "number" && value.length > s.maxItems) {
      out.push(`${at}: must have at most ${s.maxItems} items`);
    }
    if (s.uniqueItems === true) {
      for (let i = 0; i < value.length; i++) {
        if (value.slice(0, i).some((other) => jsonEqual(other, value[i]))) {
          out.push(`${at}: items must be unique (item ${i} repeats)`);
          break;
        }
      }
    }
    const tuple = Array.isArray(s.prefixItems)
      ? s.prefixItems as Schema[]
      : Array.isArray(s.items)
      ? s.items as Schema[]
      : [];
    tuple.forEach((item, i) => {
      if (i < value.length) this.check(item, value[i], pointer(path, i), out);
    });
    const rest = Array.isArray(s.prefixItems)
      ? s.items
      : Array.isArray(s.items)
      ? s.additionalItems
      : s.items;
    if (isObject(rest) || typeof rest === "boolean") {
      for (let i = tuple.length; i < value.length; i++) {
        this.check(rest, value[i], pointer(path, i), out);
      }
    }
    if (isObject(s.contains) || typeof s.contains === "boolean") {
      const hit = value.some((item) => this.valid(s.contains as Schema, item));
      if (!hit) out.push(`${at}: must contain an item matching the 'contains' schema`);
    }
  }

  #object(s: Record<string, unknown>, value: Record<string, unknown>, path: string, out: string[]) {
    const at = path || "/";
    const keys = Object.keys(value);
    if (Array.isArray(s.required)) {
      for (const key of s.required as string[]) {
        if (!Object.hasOwn(value, key)) out.push(`${at}: missing required property '${key}'`);
      }
    }
    if (typeof s.minProperties === "number" && keys.length < s.minProperties) {
      out.push(`${at}: must have at least ${s.minProperties} properties`);
    }
    if (typeof s.maxProperties === "number" && keys.length > s.maxProperties) {
      out.push(`${at}: must have at most ${s.maxProperties} properties`);
    }
    const properties = isObject(s.properties) ? s.properties : {};
    const patterns = isObject(s.patternProperties) ? Object.entries(s.patternProperties) : [];
    for (const key of keys) {
      const child = pointer(path, key);
      let matched = false;
      if (Object.hasOwn(properties, key)) {
        matched = true;
        this.check(properties[key] as Schema, value[key], child, out);
      }
      for (const [pattern, schema] of patterns) {
        let re: RegExp;
        try {
          re = new RegExp(pattern, "u");
        } catch {
          continue;
        }
        if (re.test(key)) {
          matched = true;
          this.check(schema as Schema, value[key], child, out);
        }
      }
      if (!matched && s.additionalProperties !== undefined) {
        if (s.additionalProperties === false) {
          out.push(`${at}: property '${key}' is not allowed`);
        } else if (isObject(s.additionalProperties)) {
          this.check(s.additionalProperties, value[key], child, out);
        }
      }
      if (isObject(s.propertyNames) && !this.valid(s.propertyNames, key)) {
        out.push(`${at}: property name '${key}' does not match propertyNames`);
      }
    }
  }

  #combinators(s: Record<string, unknown>, value: unknown, path: string, out: string[]) {
    const at = path || "/";
    if (Array.isArray(s.allOf)) {
      for (const sub of s.allOf as Schema[]) this.check(sub, value, path, out);
    }
    if (Array.isArray(s.anyOf) && !(s.anyOf as Schema[]).some((sub) => this.valid(sub, value))) {
      out.push(`${at}: must match at least one schema of anyOf`);
    }
    if (Array.isArray(s.oneOf)) {
      const n = (s.oneOf as Schema[]).filter((sub) => this.valid(sub, value)).length;
      if (n !== 1) out.push(`${at}: must match exactly one schema of oneOf (matched ${n})`);
    }
    if ((isObject(s.not) || typeof s.not === "boolean") && this.valid(s.not, value)) {
      out.push(`${at}: must not match the 'not' schema`);
    }
    if (isObject(s.if) || typeof s.if === "boolean") {
      const branch = this.valid(s.if, value) ? s.then : s.else;
      if (isObject(branch) || typeof branch === "boolean") this.check(branch, value, path, out);
    }
  }

  valid(schema: Schema, value: unknown): boolean {
    const out: string[] = [];
    this.check(schema, value, "", out);
    return out.length === 0;
  }
}

/**
 * Validates a JSON value against a JSON Schema.
 *
 * @param schema the schema (an object, or `true`/`false`)
 * @param value the value
 * @returns the problems, one line each, `<json pointer>: <what is wrong>`; empty when valid
 *
 * @example Usage
 * ```ts
 * import { validateJsonSchema } from "./json_schema.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(validateJsonSchema({ type: "object", required: ["a"] }, { a: 1 }), []);
 * ```
 */
export function validateJsonSchema(schema: unknown, value: unknown): string[] {
  if (!isObject(schema) && typeof schema !== "boolean") {
    return ["/: the schema must be an object or a boolean"];
  }
  const out: string[] = [];
  new Validator(schema).check(schema, value, "", out);
  return out;
}

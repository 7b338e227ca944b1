/**
 * Deterministic assertions over a task's output, named as promptfoo names them: each scores 1
 * (pass) or 0 (fail), costs nothing and makes no call. Every type also has a `not-` form that
 * inverts it. The reference tool's names (`cost_under`, `duration_under`, `json-schema`) are
 * accepted too.
 *
 * | type | passes when | spec |
 * | --- | --- | --- |
 * | equals | the output (trimmed) equals `value`; an object/array `value` is compared as JSON | value |
 * | contains / icontains | the output contains `value` (icontains: ignoring case) | value |
 * | contains-all / icontains-all | it contains every string of `value` | value: list |
 * | contains-any / icontains-any | it contains at least one | value: list |
 * | starts-with | the trimmed output starts with `value` | value |
 * | regex | `value` (or `pattern`) matches somewhere; `flags` optional | value |
 * | word-count | the word count equals `value`, or lies in `{min, max}` | value |
 * | is-json | the whole output (one ```` ```json ```` fence allowed) is JSON; with `value`/`schema`, it also validates | [value] |
 * | contains-json | some JSON object or array inside the output parses (and validates, with a schema) | [value] |
 * | json-schema / is-valid-json-schema | the output's JSON validates against `value`/`schema` | value |
 * | cost | the task's cost so far is ≤ `threshold` USD (unknown cost counts as 0) | threshold |
 * | latency | the attempt took ≤ `threshold` milliseconds | threshold |
 * | cost_under / duration_under | reference forms: ≤ `value` USD / ≤ `value` seconds | value |
 *
 * @module
 */
import { jsonEqual, validateJsonSchema } from "./json_schema.ts";
import type { CheckResult, GateSubject } from "./types.ts";

/** Types handled here (without the `not-` prefix). */
export const OUTPUT_ASSERTION_TYPES: readonly string[] = [
  "equals",
  "contains",
  "icontains",
  "contains-all",
  "contains-any",
  "icontains-all",
  "icontains-any",
  "starts-with",
  "regex",
  "word-count",
  "is-json",
  "contains-json",
  "json-schema",
  "is-valid-json-schema",
  "cost",
  "latency",
  "cost_under",
  "duration_under",
];

/** Whether `type` (with or without `not-`) is a deterministic output assertion. */
export function isOutputAssertion(type: string): boolean {
  return OUTPUT_ASSERTION_TYPES.includes(type.startsWith("not-") ? type.slice(4) : type);
}

/** Why a spec cannot be evaluated (for validation), or undefined when it can. */
export function outputAssertionProblem(spec: Record<string, unknown>): string | undefined {
  const type = String(spec.type ?? "");
  const base = type.startsWith("not-") ? type.slice(4) : type;
  if (!OUTPUT_ASSERTION_TYPES.includes(base)) return `unknown assertion type '${type}'`;
  const value = spec.value ?? spec.pattern;
  switch (base) {
    case "contains":
    case "icontains":
    case "starts-with":
      return typeof value === "string" || typeof value === "number"
        ? undefined
        : `${type} needs a string value`;
    case "contains-all":
    case "contains-any":
    case "icontains-all":
    case "icontains-any":
      return Array.isArray(spec.value) && spec.value.every((v) => typeof v === "string")
        ? undefined
        : `${type} needs a list of strings as value`;
    case "regex": {
      if (typeof value !== "string") return "regex needs a pattern (value)";
      try {
        new RegExp(value, typeof spec.flags === "string" ? spec.flags : "");
      } catch (error) {
        return `invalid regex: ${(error as Error).message}`;
      }
      return undefined;
    }
    case "equals":
      return spec.value === undefined ? "equals needs a value" : undefined;
    case "word-count":
      return typeof spec.value === "number" ||
          (typeof spec.value === "object" && spec.value !== null)
        ? undefined
        : "word-count needs a number or {min, max} as value";
    case "json-schema":
    case "is-valid-json-schema":
      return typeof (spec.value ?? spec.schema) === "object" && (spec.value ?? spec.schema) !== null
        ? undefined
        : `${type} needs a JSON Schema (value or schema)`;
    case "cost":
    case "latency":
      return typeof (spec.threshold ?? spec.value) === "number"
        ? undefined
        : `${type} needs a numeric threshold`;
    case "cost_under":
    case "duration_under":
      return typeof (spec.value ?? spec.threshold) === "number"
        ? undefined
        : `${type} needs a numeric value`;
    default:
      return undefined;
  }
}

function short(value: unknown, max = 60): string {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** The output without one surrounding ```` ```json ```` (or bare ```` ``` ````) fence. */
function unfenced(output: string): string {
  const trimmed = output.trim();
  const fence = /^```[a-zA-Z]*\s*\n([\s\S]*?)\n?```$/.exec(trimmed);
  return fence ? fence[1]!.trim() : trimmed;
}

/** The whole output as JSON, or undefined. */
export function parseWholeJson(output: string): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(unfenced(output)) };
  } catch {
    return undefined;
  }
}

/**
 * Every JSON object or array found inside a text, outermost first (at most 20): each `{` or
 * `[` is tried as the start of a value whose matching close bracket ends it.
 */
export function findJsonValues(text: string): unknown[] {
  const found: unknown[] = [];
  let i = 0;
  while (i < text.length && found.length < 20) {
    const ch = text[i];
    if (ch !== "{" && ch !== "[") {
      i++;
      continue;
    }
    const end = matchingClose(text, i);
    if (end > i) {
      try {
        found.push(JSON.parse(text.slice(i, end + 1)));
        i = end + 1;
        continue;
      } catch {
        // not JSON from here: try the next bracket
      }
    }
    i++;
  }
  return found;
}

/** Index of the bracket closing the one at `start` (strings skipped), or -1. */
function matchingClose(text: string, start: number): number {
  const stack: string[] = [];
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const ch = text[i]!;
    if (inString) {
      if (ch === "\\") i++;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') inString = true;
    else if (ch === "{") stack.push("}");
    else if (ch === "[") stack.push("]");
    else if (ch === "}" || ch === "]") {
      if (stack.pop() !== ch) return -1;
      if (stack.length === 0) return i;
    }
  }
  return -1;
}

function schemaOf(spec: Record<string, unknown>): unknown {
  const schema = spec.schema ?? spec.value;
  return typeof schema === "object" && schema !== null ? schema : undefined;
}

type Evaluation = { passed: boolean; reason: string };

function evaluateBase(
  base: string,
  spec: Record<string, unknown>,
  subject: GateSubject,
): Evaluation {
  const output = subject.output;
  const value = spec.value ?? spec.pattern;
  switch (base) {
    case "equals": {
      if (typeof spec.value === "object" && spec.value !== null) {
        const parsed = parseWholeJson(output);
        const passed = parsed !== undefined && jsonEqual(parsed.value, spec.value);
        return { passed, reason: passed ? "output equals the JSON value" : "output differs" };
      }
      const passed = output.trim() === String(spec.value).trim();
      return { passed, reason: passed ? "output equals the value" : "output differs" };
    }
    case "contains":
    case "icontains": {
      const needle = String(value);
      const passed = base === "contains"
        ? output.includes(needle)
        : output.toLowerCase().includes(needle.toLowerCase());
      return { passed, reason: `${passed ? "found" : "did not find"} ${JSON.stringify(needle)}` };
    }
    case "contains-all":
    case "contains-any":
    case "icontains-all":
    case "icontains-any": {
      const fold = base.startsWith("i");
      const hay = fold ? output.toLowerCase() : output;
      const needles = (spec.value as string[]).map(String);
      const missing = needles.filter((n) => !hay.includes(fold ? n.toLowerCase() : n));
      const passed = base.endsWith("all") ? missing.length === 0 : missing.length < needles.length;
      return {
        passed,
        reason: missing.length === 0
          ? "found every value"
          : `missing ${missing.map((m) => JSON.stringify(m)).join(", ")}`,
      };
    }
    case "starts-with": {
      const passed = output.trim().startsWith(String(value));
      return { passed, reason: `${passed ? "starts" : "does not start"} with ${short(value)}` };
    }
    case "regex": {
      const re = new RegExp(String(value), typeof spec.flags === "string" ? spec.flags : "");
      const passed = re.test(output);
      return { passed, reason: `${passed ? "matches" : "does not match"} /${short(value)}/` };
    }
    case "word-count": {
      const words = output.trim() === "" ? 0 : output.trim().split(/\s+/).length;
      if (typeof spec.value === "number") {
        return { passed: words === spec.value, reason: `${words} words (want ${spec.value})` };
      }
      const range = spec.value as { min?: number; max?: number };
      const passed = (range.min === undefined || words >= range.min) &&
        (range.max === undefined || words <= range.max);
      return {
        passed,
        reason: `${words} words (want ${range.min ?? 0}..${range.max ?? "∞"})`,
      };
    }
    case "is-json": {
      const parsed = parseWholeJson(output);
      if (!parsed) return { passed: false, reason: "output is not JSON" };
      const schema = schemaOf(spec);
      if (!schema) return { passed: true, reason: "output is JSON" };
      const problems = validateJsonSchema(schema, parsed.value);
      return problems.length === 0
        ? { passed: true, reason: "output is JSON and matches the schema" }
        : { passed: false, reason: `schema: ${problems.slice(0, 3).join("; ")}` };
    }
    case "contains-json": {
      const whole = parseWholeJson(output);
      const values = whole && typeof whole.value === "object" && whole.value !== null
        ? [whole.value]
        : findJsonValues(output);
      if (values.length === 0) return { passed: false, reason: "no JSON found in the output" };
      const schema = schemaOf(spec);
      if (!schema) return { passed: true, reason: "output contains JSON" };
      let first: string[] = [];
      for (const v of values) {
        const problems = validateJsonSchema(schema, v);
        if (problems.length === 0) {
          return { passed: true, reason: "output contains JSON matching the schema" };
        }
        if (first.length === 0) first = problems;
      }
      return { passed: false, reason: `schema: ${first.slice(0, 3).join("; ")}` };
    }
    case "json-schema":
    case "is-valid-json-schema": {
      const whole = parseWholeJson(output);
      const candidates = whole ? [whole.value] : findJsonValues(output);
      if (candidates.length === 0) return { passed: false, reason: "no JSON found in the output" };
      const problems = validateJsonSchema(schemaOf(spec), candidates[0]);
      return problems.length === 0
        ? { passed: true, reason: "JSON matches the schema" }
        : { passed: false, reason: `schema: ${problems.slice(0, 3).join("; ")}` };
    }
    case "cost":
    case "cost_under": {
      const limit = Number(base === "cost" ? spec.threshold ?? spec.value : spec.value);
      const cost = subject.costUsd ?? 0;
      const passed = cost <= limit;
      return {
        passed,
        reason: `cost $${cost}${subject.costUsd === null ? " (unknown, counted as 0)" : ""} ` +
          `${passed ? "<=" : ">"} $${limit}`,
      };
    }
    case "latency": {
      const ms = Math.round(subject.durationSec * 1000);
      const limit = Number(spec.threshold ?? spec.value);
      const passed = ms <= limit;
      return { passed, reason: `latency ${ms} ms ${passed ? "<=" : ">"} ${limit} ms` };
    }
    case "duration_under": {
      const limit = Number(spec.value ?? spec.threshold);
      const passed = subject.durationSec <= limit;
      return {
        passed,
        reason: `duration ${subject.durationSec}s ${passed ? "<=" : ">"} ${limit}s`,
      };
    }
  }
  return { passed: false, reason: `unknown assertion type '${base}'` };
}

/** A display name for an assertion: its `metric`/`name`, else `type value`. */
export function assertionName(spec: Record<string, unknown>): string {
  if (typeof spec.metric === "string") return spec.metric;
  if (typeof spec.name === "string") return spec.name;
  const value = spec.value ?? spec.pattern ?? spec.threshold;
  return value === undefined || typeof value === "object"
    ? String(spec.type)
    : `${spec.type} ${short(value, 40)}`;
}

/**
 * Evaluates one deterministic output assertion.
 *
 * @param spec the assertion as written (`type`, `value`, ...)
 * @param subject the output and its figures
 */
export function evaluateOutputAssertion(
  spec: Record<string, unknown>,
  subject: GateSubject,
): CheckResult {
  const type = String(spec.type ?? "");
  const negated = type.startsWith("not-");
  const base = negated ? type.slice(4) : type;
  const weight = typeof spec.weight === "number" ? spec.weight : 1;
  const name = assertionName(spec);
  const problem = outputAssertionProblem(spec);
  if (problem) {
    return { type, name, passed: false, score: 0, reason: problem, weight, error: true };
  }
  const { passed, reason } = evaluateBase(base, spec, subject);
  const result = negated ? !passed : passed;
  const check: CheckResult = {
    type,
    name,
    passed: result,
    score: result ? 1 : 0,
    reason: negated ? `not: ${reason}` : reason,
    weight,
  };
  if (spec.required === true) check.required = true;
  return check;
}

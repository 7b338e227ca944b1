/**
 * `output_schema`: a task's final text must be JSON that satisfies a JSON Schema; the parsed
 * value is kept in the result (`output`) and its fields are `{{ <id>.output.<field> }}`
 * downstream.
 *
 * The final text is an engine task's last answer, or a shell task's `stdout_tail` (so the
 * JSON must fit in `stdout_tail_lines`). It is read as JSON as a whole, else the last
 * ```` ```json ```` fence in it, else the last balanced `{…}` or `[…]` in it (agents like to
 * say a sentence around their JSON). Validation uses lib/gates/json_schema.ts, our own
 * validator of the common keywords of drafts 07 and 2020-12 (no dependency: the gates share
 * it for their `is-json`/`json-schema` assertions).
 *
 * @module
 */
import { validateJsonSchema } from "../gates/json_schema.ts";

/** The outcome of an output check. */
export type OutputCheck =
  | { ok: true; value: unknown }
  | { ok: false; message: string };

function tryParse(text: string): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(text) };
  } catch {
    return undefined;
  }
}

/** The last balanced JSON object or array in a text, parsed, if any. */
function lastBalanced(text: string): { value: unknown } | undefined {
  for (let end = text.length - 1; end >= 0; end--) {
    const close = text[end];
    if (close !== "}" && close !== "]") continue;
    const open = close === "}" ? "{" : "[";
    let depth = 0;
    let inString = false;
    for (let i = end; i >= 0; i--) {
      const ch = text[i]!;
      if (inString) {
        if (ch === '"' && text[i - 1] !== "\\") inString = false;
        continue;
      }
      if (ch === '"') inString = true;
      else if (ch === close) depth++;
      else if (ch === open && --depth === 0) {
        const parsed = tryParse(text.slice(i, end + 1));
        if (parsed) return parsed;
        break;
      }
    }
  }
  return undefined;
}

/**
 * Finds the JSON value in a task's final text.
 *
 * @param text the final text
 * @returns the value, or undefined when there is no JSON in it
 *
 * @example Usage
 * ```ts
 * import { extractJson } from "./output_schema.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(extractJson('Done. Here it is: {"ok": true}'), { value: { ok: true } });
 * ```
 */
export function extractJson(text: string): { value: unknown } | undefined {
  const whole = tryParse(text.trim());
  if (whole) return whole;
  const fences = [...text.matchAll(/```(?:json|JSON)?\s*\n([\s\S]*?)```/g)];
  for (const fence of fences.reverse()) {
    const parsed = tryParse(fence[1]!.trim());
    if (parsed) return parsed;
  }
  return lastBalanced(text);
}

/**
 * Checks a final text against an `output_schema`.
 *
 * @param schema the task's `output_schema`
 * @param text the final text
 * @returns the parsed value, or the failure message of the result
 *
 * @example Usage
 * ```ts
 * import { checkOutput } from "./output_schema.ts";
 * import assert from "node:assert/strict";
 * const schema = { type: "object", required: ["verdict"] };
 * assert.deepEqual(checkOutput(schema, '{"verdict": "pass"}'), { ok: true, value: { verdict: "pass" } });
 * assert.equal(checkOutput(schema, "{}").ok, false);
 * ```
 */
export function checkOutput(schema: unknown, text: string): OutputCheck {
  const found = extractJson(text);
  if (!found) {
    return { ok: false, message: "output_schema validation failed: the output has no JSON value" };
  }
  const problems = validateJsonSchema(schema, found.value);
  if (problems.length > 0) {
    const shown = problems.slice(0, 5).join("; ") +
      (problems.length > 5 ? `; … (${problems.length - 5} more)` : "");
    return { ok: false, message: `output_schema validation failed: ${shown}` };
  }
  return { ok: true, value: found.value };
}

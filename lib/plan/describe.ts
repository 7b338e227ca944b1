/**
 * Words for values and paths in messages.
 *
 * @module
 */

/** The YAML name of a value's type. */
export function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "list";
  if (typeof value === "object") return "mapping";
  if (typeof value === "number") {
    if (!Number.isFinite(value)) return "non-finite number";
    return Number.isInteger(value) ? "integer" : "number";
  }
  return typeof value;
}

/** A short JSON rendering of a value for messages. */
export function show(value: unknown): string {
  // JSON has no NaN or Infinity (YAML's .nan, .inf): it would print them as null
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 40 ? text.slice(0, 37) + "..." : text;
}

/** `tasks[3].depends_on` for a data path. */
export function dotted(path: readonly PropertyKey[]): string {
  return path.map((p, i) => typeof p === "number" ? `[${p}]` : (i ? "." : "") + String(p)).join("");
}

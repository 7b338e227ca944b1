/**
 * RFC 8785 JSON Canonicalization Scheme (JCS): the byte-exact text that the event hash chain is
 * computed over. Object keys are sorted by UTF-16 code units, numbers use the ECMAScript
 * Number-to-String algorithm, strings use the minimal escaping of `JSON.stringify`
 * (which, since ES2019, is exactly what RFC 8785 §3.2.2.2 asks for, lone surrogates included).
 *
 * @module
 */

/** A JSON value as parsed by `JSON.parse`. */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };

/** Thrown for values that have no canonical form (NaN, Infinity, functions, undefined...). */
export class CanonicalJsonError extends Error {
  /** @param message what could not be serialised */
  constructor(message: string) {
    super(message);
    this.name = "CanonicalJsonError";
  }
}

function serialiseNumber(value: number): string {
  if (!Number.isFinite(value)) throw new CanonicalJsonError(`not a finite number: ${value}`);
  // JSON.stringify applies ECMAScript Number::toString, which RFC 8785 §3.2.2.3 adopts;
  // it also turns -0 into "0" as the RFC requires.
  return JSON.stringify(value);
}

/**
 * Serialises a value canonically (RFC 8785). Object members whose value is `undefined` are
 * left out, as `JSON.stringify` does, so a TypeScript object with optional fields hashes the
 * same as its JSON round trip.
 *
 * @param value any JSON-compatible value
 * @returns the canonical text (UTF-16 string; hash its UTF-8 bytes)
 * @throws {CanonicalJsonError} for non-finite numbers and non-JSON values
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "boolean":
      return value ? "true" : "false";
    case "number":
      return serialiseNumber(value);
    case "string":
      return JSON.stringify(value);
    case "object":
      break;
    default:
      throw new CanonicalJsonError(`cannot serialise a value of type ${typeof value}`);
  }
  if (Array.isArray(value)) {
    // undefined inside arrays becomes null, like JSON.stringify
    return `[${value.map((item) => item === undefined ? "null" : canonicalJson(item)).join(",")}]`;
  }
  const record = value as Record<string, unknown>;
  // Default sort compares UTF-16 code units, which is exactly RFC 8785 §3.2.3.
  const keys = Object.keys(record).filter((key) => record[key] !== undefined).sort();
  const members = keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`);
  return `{${members.join(",")}}`;
}

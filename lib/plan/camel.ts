/**
 * camelCase keys for plans written in TypeScript, snake_case keys in the authored format.
 *
 * The type-level mapping and the runtime conversion follow the same rule (`_x` <-> `X`), so
 * the builder's option types are derived from the generated authored interfaces instead of
 * being written a second time. camel_test.ts checks the rule is lossless for every key of
 * the schema.
 *
 * @module
 */

/** `timeout_sec` -> `timeoutSec`, at the type level. */
export type CamelCase<S extends string> = S extends `${infer Head}_${infer Tail}`
  ? `${Head}${Capitalize<CamelCase<Tail>>}`
  : S;

/** An object type with its (string) keys in camelCase; values and optionality unchanged. */
export type CamelKeys<T> = {
  [K in keyof T as K extends string ? CamelCase<K> : K]: T[K];
};

/**
 * `timeout_sec` -> `timeoutSec`.
 *
 * @param key a snake_case key
 * @returns the camelCase key
 */
export function camelCase(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, ch: string) => ch.toUpperCase());
}

/**
 * `timeoutSec` -> `timeout_sec`.
 *
 * @param key a camelCase key
 * @returns the snake_case key
 */
export function snakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (ch) => `_${ch.toLowerCase()}`);
}

/**
 * A copy of a plain object with its own keys renamed; values are kept as they are (maps keyed
 * by the user, such as `env`, are never renamed because only one level is touched).
 *
 * @param value the object
 * @param rename the key conversion
 */
export function renameKeys(
  value: Readonly<Record<string, unknown>>,
  rename: (key: string) => string,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (item !== undefined) out[rename(key)] = item;
  }
  return out;
}

/**
 * Terms for relevance scoring: words of a text, lower-cased, identifiers split at camelCase,
 * `snake_case`, `kebab-case` and dots (the whole identifier is kept too), English stop words
 * dropped, and a light suffix stemming so that `tests`/`testing`/`tested` meet `test`.
 *
 * @module
 */

const STOP_WORDS: ReadonlySet<string> = new Set(
  (
    "a an and are as at be been but by can could did do does for from had has have he her his " +
    "how i if in into is it its me my no not of on or our she so than that the their them then " +
    "there these they this those to too us was we were what when where which while who why will " +
    "with would you your all any each few more most other some such only own same just also " +
    "should now here about above after again against below between both during once over under " +
    "until up down out off very via per let get got use used using make made please"
  ).split(" "),
);

const WORD = /[\p{L}\p{N}_][\p{L}\p{N}_'.\-/]*/gu;

/** Strips common English suffixes (a tiny Porter-like step; enough to match word forms). */
export function stem(word: string): string {
  if (word.length <= 4 || /\d/.test(word)) return word;
  for (
    const [suffix, keep] of [
      ["ations", 4],
      ["ation", 4],
      ["ings", 4],
      ["ing", 4],
      ["ies", 3],
      ["ied", 3],
      ["edly", 4],
      ["ed", 4],
      ["ers", 4],
      ["er", 4],
      ["es", 4],
      ["s", 4],
      ["ly", 4],
    ] as const
  ) {
    if (word.endsWith(suffix) && word.length - suffix.length >= keep) {
      const base = word.slice(0, -suffix.length);
      if (suffix === "ies" || suffix === "ied") return `${base}y`;
      if (suffix === "s" && base.endsWith("s")) return word;
      return base;
    }
  }
  return word;
}

function parts(token: string): string[] {
  const pieces = token
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
    .split(/[\s_.\-/']+/)
    .filter(Boolean);
  return pieces;
}

/**
 * The terms of a text, in order, duplicates kept (BM25 counts them).
 *
 * @param text any text
 * @returns lower-cased, stemmed terms without stop words
 *
 * @example Usage
 * ```ts
 * import { terms } from "./terms.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(terms("The parseConfig tests"), ["parseconfig", "parse", "config", "test"]);
 * ```
 */
export function terms(text: string): string[] {
  const out: string[] = [];
  for (const match of text.matchAll(WORD)) {
    const token = match[0].replace(/[.\-/']+$/, "");
    const split = parts(token);
    const whole = token.toLowerCase();
    if (split.length > 1 && whole.length <= 64) {
      const joined = whole.replace(/[_.\-/']/g, "");
      if (!STOP_WORDS.has(joined)) out.push(joined);
    }
    for (const piece of split) {
      const lower = piece.toLowerCase();
      if (lower.length < 2 || STOP_WORDS.has(lower)) continue;
      out.push(stem(lower));
    }
  }
  return out;
}

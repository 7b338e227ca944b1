/**
 * Okapi BM25: how well each document of a small collection matches a query. Used to rank
 * chunks of upstream output (selective), whole upstream outputs (raw, layered), and extracted
 * symbols and entities (structural, knowledge_graph) against the task's prompt.
 *
 * score(d, q) = Σ over query terms t of idf(t) · tf(t, d) · (k1 + 1) /
 *               (tf(t, d) + k1 · (1 − b + b · |d| / avgdl)),
 * idf(t) = ln(1 + (N − n(t) + 0.5) / (n(t) + 0.5)) (the Lucene form: never negative).
 *
 * @module
 */

/** Options for {@linkcode bm25Scores}. */
export interface Bm25Options {
  /** Term-frequency saturation. @default {1.2} */
  k1?: number;
  /** Length normalisation (0: none, 1: full). @default {0.75} */
  b?: number;
}

/**
 * Scores every document against a query.
 *
 * @param documents each document's terms (see terms.ts)
 * @param query the query's terms (duplicates count once)
 * @param options k1 and b
 * @returns one score per document, in the documents' order
 *
 * @example Usage
 * ```ts
 * import { bm25Scores } from "./bm25.ts";
 * import assert from "node:assert/strict";
 * const scores = bm25Scores([["cat", "sat"], ["dog", "ran"]], ["dog"]);
 * assert.ok(scores[1]! > scores[0]!);
 * ```
 */
export function bm25Scores(
  documents: readonly (readonly string[])[],
  query: readonly string[],
  options: Bm25Options = {},
): number[] {
  const k1 = options.k1 ?? 1.2;
  const b = options.b ?? 0.75;
  const n = documents.length;
  if (n === 0) return [];
  const wanted = new Set(query);
  const df = new Map<string, number>();
  const tfs = documents.map((doc) => {
    const tf = new Map<string, number>();
    for (const term of doc) if (wanted.has(term)) tf.set(term, (tf.get(term) ?? 0) + 1);
    for (const term of tf.keys()) df.set(term, (df.get(term) ?? 0) + 1);
    return tf;
  });
  const avgdl = documents.reduce((sum, doc) => sum + doc.length, 0) / n || 1;
  return tfs.map((tf, i) => {
    let score = 0;
    const norm = k1 * (1 - b + b * documents[i]!.length / avgdl);
    for (const [term, f] of tf) {
      const d = df.get(term)!;
      const idf = Math.log(1 + (n - d + 0.5) / (d + 0.5));
      score += idf * f * (k1 + 1) / (f + norm);
    }
    return score;
  });
}

/**
 * `selective`: upstream output cut into chunks of whole lines (chunks.ts), each chunk scored
 * with BM25 against the task's prompt (the collection is every chunk of every upstream), and
 * the best chunks taken greedily while they fit the budget (a chunk too big for what is left
 * is skipped and smaller ones are still tried). Chunks scoring under {@linkcode MIN_SCORE} are
 * left out. When nothing matches (a prompt with no words in common with the output), the most
 * recent chunks of each upstream are taken in turn instead. Delivered per upstream, chunks in
 * their original order, `…` where chunks were skipped.
 *
 * @module
 */
import { bm25Scores } from "./bm25.ts";
import { CHUNK_CHARS, chunkText } from "./chunks.ts";
import { headingTokens, upstreamHeading } from "./mode_raw.ts";
import { terms } from "./terms.ts";
import { estimateTokens, truncateToTokens } from "./tokens.ts";
import type { ContextItem, ContextSection, ModeResult, Upstream } from "./types.ts";

/** Chunks scoring below this are not relevant (the reference tool's threshold). */
export const MIN_SCORE = 0.1;

interface Candidate {
  up: number;
  index: number;
  text: string;
  label: string;
  tokens: number;
  score: number;
  selected: boolean;
  reason: string;
}

/**
 * `selective`'s result, noting why a mode that found nothing of its own kind (facts, entities)
 * fell back to it: context is never dropped silently.
 *
 * @param why what the mode did not find, e.g. "no code facts in the upstream output"
 */
export function selectiveFallback(
  why: string,
  upstreams: readonly Upstream[],
  queryTerms: readonly string[],
  budget: number,
): ModeResult {
  const fallback = selectiveMode(upstreams, queryTerms, budget);
  return {
    ...fallback,
    notes: [`${why}: selected as \`selective\` does`, ...fallback.notes ?? []],
  };
}

/**
 * Builds `selective` context.
 *
 * @param upstreams the upstreams, in `context_from` order
 * @param queryTerms the prompt's terms
 * @param budget tokens allowed
 */
export function selectiveMode(
  upstreams: readonly Upstream[],
  queryTerms: readonly string[],
  budget: number,
): ModeResult {
  const candidates: Candidate[] = [];
  // small budgets get smaller chunks, so that a few of them still fit
  const size = Math.max(80, Math.min(CHUNK_CHARS, budget * 2));
  upstreams.forEach((up, u) => {
    chunkText(up.text, size).forEach((chunk, index) => {
      candidates.push({
        up: u,
        index,
        text: chunk.text,
        label: chunk.startLine === chunk.endLine
          ? `line ${chunk.startLine}`
          : `lines ${chunk.startLine}-${chunk.endLine}`,
        tokens: estimateTokens(chunk.text) + 2,
        score: 0,
        selected: false,
        reason: "",
      });
    });
  });
  const scores = bm25Scores(candidates.map((c) => terms(c.text)), queryTerms);
  candidates.forEach((c, i) => (c.score = scores[i]!));
  const headingCost = upstreams.map((up) => headingTokens(upstreamHeading(up)));
  const opened = new Set<number>();
  let left = budget;
  const take = (c: Candidate, why: string) => {
    const cost = c.tokens + (opened.has(c.up) ? 0 : headingCost[c.up]!);
    if (cost > left) {
      c.reason = "over budget";
      return;
    }
    left -= cost;
    opened.add(c.up);
    c.selected = true;
    c.reason = why;
  };
  const relevant = candidates.filter((c) => c.score >= MIN_SCORE);
  const notes: string[] = [];
  if (relevant.length > 0) {
    const ranked = [...relevant].sort((a, b) =>
      b.score - a.score || a.up - b.up || a.index - b.index
    );
    ranked.forEach((c, rank) => take(c, `rank ${rank + 1}`));
    for (const c of candidates) if (c.score < MIN_SCORE) c.reason = `score below ${MIN_SCORE}`;
  } else {
    notes.push("no chunk matches the prompt: the most recent output of each upstream was taken");
    const queues = upstreams.map((_, u) => candidates.filter((c) => c.up === u).reverse());
    for (let round = 0; queues.some((q) => q.length > round); round++) {
      for (const queue of queues) {
        const c = queue[round];
        if (c) take(c, "most recent (no match)");
      }
    }
  }
  // nothing fits whole: the best candidate, cut to what there is
  if (!candidates.some((c) => c.selected)) {
    const best = relevant.length > 0
      ? [...relevant].sort((a, b) => b.score - a.score)[0]
      : candidates.at(-1);
    const room = budget - (best ? headingCost[best.up]! : 0) - 2;
    if (best && room > 0) {
      best.text = truncateToTokens(best.text, room);
      best.tokens = estimateTokens(best.text) + 2;
      best.selected = best.text !== "";
      best.reason = "cut to fit the budget";
    }
  }
  const sections: ContextSection[] = [];
  upstreams.forEach((up, u) => {
    const mine = candidates.filter((c) => c.up === u && c.selected).sort((a, b) =>
      a.index - b.index
    );
    if (mine.length === 0) return;
    const parts: string[] = [];
    let previous = -1;
    for (const c of mine) {
      if (c.index > previous + 1) parts.push("…");
      parts.push(c.text);
      previous = c.index;
    }
    const total = candidates.filter((c) => c.up === u).length;
    if (previous < total - 1) parts.push("…");
    sections.push({ source: up.id, heading: upstreamHeading(up), text: parts.join("\n") });
  });
  const items: ContextItem[] = candidates.map((c) => ({
    upstream: upstreams[c.up]!.id,
    kind: "chunk",
    label: c.label,
    score: round(c.score),
    tokens: c.tokens,
    selected: c.selected,
    reason: c.reason,
  }));
  const upstreamScores = new Map<string, number>();
  for (const c of candidates) {
    const id = upstreams[c.up]!.id;
    upstreamScores.set(id, Math.max(upstreamScores.get(id) ?? 0, round(c.score)));
  }
  return { sections, items, upstreamScores, notes };
}

/** A score rounded for display. */
export function round(score: number): number {
  return Math.round(score * 1000) / 1000;
}

/**
 * `raw`: each upstream's tail as it is. Under a budget the tails share it max-min fairly
 * (water-filling): upstreams are taken from the smallest up, each gets the smaller of its size
 * and an equal share of what is left, so short tails stay whole and long ones are compacted
 * (`context_compaction`; `none` keeps each tail's end, the freshest output).
 *
 * @module
 */
import { type CompactionMode, compactText } from "./compaction.ts";
import { estimateTokens } from "./tokens.ts";
import type { ContextItem, ModeResult, Upstream } from "./types.ts";

/** The heading of an upstream's section. */
export function upstreamHeading(up: Upstream): string {
  const exit = up.exit_code !== null && up.exit_code !== 0 ? `, exit ${up.exit_code}` : "";
  return `${up.id} (${up.status}${exit})`;
}

/** Tokens a section heading costs (`--- heading ---` and blank lines). */
export function headingTokens(heading: string): number {
  return estimateTokens(`--- ${heading} ---\n\n`);
}

/**
 * Max-min fair shares of a budget.
 *
 * @param sizes what each one wants
 * @param budget what there is
 * @returns what each one gets (same order)
 *
 * @example Usage
 * ```ts
 * import { fairShares } from "./mode_raw.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(fairShares([10, 500, 80], 300), [10, 210, 80]);
 * ```
 */
export function fairShares(sizes: readonly number[], budget: number): number[] {
  const order = sizes.map((size, i) => ({ size, i })).sort((a, b) => a.size - b.size);
  const shares = new Array<number>(sizes.length).fill(0);
  let left = Math.max(0, budget);
  order.forEach(({ size, i }, k) => {
    const share = Math.min(size, Math.floor(left / (order.length - k)));
    shares[i] = share;
    left -= share;
  });
  return shares;
}

/**
 * Builds `raw` context.
 *
 * @param upstreams the upstreams, in `context_from` order
 * @param budget tokens allowed (null: none)
 * @param compaction how tails over their share are fitted
 * @param summarise progressive compaction's LLM stage (a tail over its share after pruning)
 */
export async function rawMode(
  upstreams: readonly Upstream[],
  budget: number | null,
  compaction: CompactionMode,
  summarise?: (up: Upstream, text: string, budget: number) => Promise<string | undefined>,
): Promise<ModeResult> {
  const headings = upstreams.map(upstreamHeading);
  const sizes = upstreams.map((up) => estimateTokens(up.text));
  const headers = headings.reduce((sum, h) => sum + headingTokens(h), 0);
  const shares = budget === null ? sizes : fairShares(sizes, budget - headers);
  const tails = new Map<string, string>();
  const items: ContextItem[] = [];
  const sections = [];
  for (const [i, up] of upstreams.entries()) {
    const share = shares[i]!;
    let fitted = compactText(up.text, share, compaction, { keep: "tail" });
    let reason = fitted.stage === "fits" ? "whole" : `${fitted.stage} to its share`;
    if (compaction === "progressive" && fitted.stage === "cut" && summarise) {
      const summary = await summarise(up, up.text, share);
      if (summary !== undefined && estimateTokens(summary) <= share) {
        fitted = { ...fitted, text: summary, tokens: estimateTokens(summary), stage: "summarised" };
        reason = "summarised to its share (progressive)";
      }
    }
    tails.set(up.id, fitted.text);
    items.push({
      upstream: up.id,
      kind: "tail",
      label: budget === null ? `${sizes[i]} tokens` : `${sizes[i]} tokens, share ${share}`,
      score: null,
      tokens: fitted.tokens,
      selected: fitted.text !== "",
      reason: up.text === "" ? "no output" : reason,
    });
    sections.push({ source: up.id, heading: headings[i]!, text: fitted.text });
  }
  return { sections, tails, items };
}

/**
 * `layered`: three tiers per upstream, and the most relevant upstreams get the deepest one.
 *
 * - L0, one line (≤ 50 tokens): id, status, exit code and the output's first meaningful line.
 * - L1, headlines (≤ 200 tokens): the first line, headings, lines that report results, errors,
 *   warnings, decisions or changes, and the last three lines, in their order.
 * - L2, the full output (compacted to what is left when it does not fit whole).
 *
 * Every upstream starts at L0 (the least relevant are dropped if even that is over budget);
 * then, from the most relevant down (BM25 of the whole output against the prompt), each is
 * raised to L1 while that fits, then to L2.
 *
 * @module
 */
import { bm25Scores } from "./bm25.ts";
import { type CompactionMode, compactText } from "./compaction.ts";
import { headingTokens } from "./mode_raw.ts";
import { round } from "./mode_selective.ts";
import { terms } from "./terms.ts";
import { estimateTokens, truncateToTokens } from "./tokens.ts";
import type { ContextItem, ContextSection, ModeResult, Upstream } from "./types.ts";

/** Token caps of the first two tiers. */
export const TIER_TOKENS = { L0: 50, L1: 200 } as const;

const KEY_LINE =
  /\b(error|errors|fail(ed|ure|s)?|warn(ing)?s?|pass(ed)?|success(ful)?|result|summary|conclusion|decision|decided|todo|fixed|changed|created|updated|added|removed|deleted|wrote|total|found|missing|exception|panic)\b/i;
const HEADING = /^(#{1,6}\s|\s*[A-Z][A-Za-z0-9 /_-]{2,60}:\s*$|={3,}|\s*\*\*[^*]+\*\*\s*$)/;

function meaningful(line: string): boolean {
  return /[\p{L}\p{N}]/u.test(line);
}

/** An upstream's one-line tier. */
export function tierL0(up: Upstream): string {
  const first = up.text.split("\n").find(meaningful)?.trim() ?? "(no output)";
  const exit = up.exit_code !== null && up.exit_code !== 0 ? ` exit ${up.exit_code}` : "";
  return truncateToTokens(`${up.id}: ${up.status}${exit}: ${first}`, TIER_TOKENS.L0);
}

/** An upstream's headline tier. */
export function tierL1(up: Upstream): string {
  const lines = up.text.split("\n");
  const keep = new Set<number>();
  const first = lines.findIndex(meaningful);
  if (first >= 0) keep.add(first);
  lines.forEach((line, i) => {
    if (meaningful(line) && (HEADING.test(line) || KEY_LINE.test(line))) keep.add(i);
  });
  for (let i = Math.max(0, lines.length - 3); i < lines.length; i++) {
    if (meaningful(lines[i]!)) keep.add(i);
  }
  const picked = [...keep].sort((a, b) => a - b).map((i) => lines[i]!.trimEnd());
  return truncateToTokens(picked.join("\n"), TIER_TOKENS.L1);
}

type Tier = "L0" | "L1" | "L2";

/**
 * Builds `layered` context.
 *
 * @param upstreams the upstreams, in `context_from` order
 * @param queryTerms the prompt's terms
 * @param budget tokens allowed
 * @param compaction how a full output is fitted into what is left
 */
export function layeredMode(
  upstreams: readonly Upstream[],
  queryTerms: readonly string[],
  budget: number,
  compaction: CompactionMode,
): ModeResult {
  const scores = bm25Scores(upstreams.map((up) => terms(up.text)), queryTerms);
  const tiers = upstreams.map((up) => {
    const l0 = tierL0(up);
    const l1 = tierL1(up);
    return {
      L0: l0,
      L1: l1.length >= up.text.length ? up.text : l1,
      L2: up.text,
      heading: (tier: Tier) => `${up.id} [${tier}]`,
    };
  });
  const cost = (i: number, tier: Tier, text?: string) =>
    estimateTokens(text ?? tiers[i]![tier]) + headingTokens(tiers[i]!.heading(tier));
  const order = upstreams.map((_, i) => i).sort((a, b) => scores[b]! - scores[a]! || a - b);
  const level = new Map<number, { tier: Tier; text: string }>();
  const items: ContextItem[] = [];
  let used = 0;
  // L0 for every upstream, most relevant first
  for (const i of order) {
    const c = cost(i, "L0");
    if (used + c > budget) continue;
    used += c;
    level.set(i, { tier: "L0", text: tiers[i]!.L0 });
  }
  for (const target of ["L1", "L2"] as const) {
    for (const i of order) {
      const current = level.get(i);
      if (!current) continue;
      const text = tiers[i]![target];
      if (text === current.text) {
        level.set(i, { tier: target, text });
        continue;
      }
      const delta = cost(i, target) - cost(i, current.tier, current.text);
      if (used + delta <= budget) {
        used += delta;
        level.set(i, { tier: target, text });
      } else if (target === "L2" && current.tier === "L1") {
        // the full output compacted into what is left, when that is well over the headlines
        const room = budget - used + cost(i, current.tier, current.text) -
          headingTokens(tiers[i]!.heading("L2"));
        if (room > estimateTokens(current.text) * 1.5) {
          const fitted = compactText(text, room, compaction);
          used += estimateTokens(fitted.text) + headingTokens(tiers[i]!.heading("L2")) -
            cost(i, current.tier, current.text);
          level.set(i, { tier: "L2", text: fitted.text });
        }
      }
    }
  }
  const sections: ContextSection[] = [];
  upstreams.forEach((up, i) => {
    const chosen = level.get(i);
    const rank = order.indexOf(i) + 1;
    for (const tier of ["L0", "L1", "L2"] as const) {
      const text = tiers[i]![tier];
      const isChosen = chosen?.tier === tier;
      items.push({
        upstream: up.id,
        kind: "tier",
        label: tier,
        score: round(scores[i]!),
        tokens: isChosen ? estimateTokens(chosen.text) : estimateTokens(text),
        selected: isChosen,
        reason: isChosen
          ? `relevance rank ${rank}${chosen.text !== text ? ", compacted" : ""}`
          : !chosen
          ? "over budget even as one line"
          : tierRank(tier) < tierRank(chosen.tier)
          ? `expanded to ${chosen.tier}`
          : "over budget",
      });
    }
    if (chosen) {
      sections.push({ source: up.id, heading: tiers[i]!.heading(chosen.tier), text: chosen.text });
    }
  });
  const upstreamScores = new Map(upstreams.map((up, i) => [up.id, round(scores[i]!)]));
  return { sections, items, upstreamScores };
}

function tierRank(tier: Tier): number {
  return tier === "L0" ? 0 : tier === "L1" ? 1 : 2;
}

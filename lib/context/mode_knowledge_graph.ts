/**
 * `knowledge_graph`: the entities and relations of upstream output (entities.ts), merged over
 * upstreams, selected by relevance to the prompt.
 *
 * An entity's score is the BM25 of its name against the prompt plus 0.3·ln(1 + degree); a
 * relation's is the sum of its two entities' scores, ×1.5 when a relation phrase states it
 * (not only co-occurrence). Relations are taken by score while they fit the budget, then
 * entities not yet covered. Delivered as `A —depends_on→ B (from a)` lines and an entity list.
 * Output with no entities falls back to `selective` (as `structural` does with no code facts),
 * so the context is never dropped silently.
 *
 * @module
 */
import { bm25Scores } from "./bm25.ts";
import { type Entity, extractGraph, type Relation } from "./entities.ts";
import { round, selectiveFallback } from "./mode_selective.ts";
import { terms } from "./terms.ts";
import { estimateTokens } from "./tokens.ts";
import type { ContextItem, ModeResult, Upstream } from "./types.ts";

interface Node extends Entity {
  sources: Set<string>;
  degree: number;
  score: number;
}

interface Edge extends Relation {
  sources: Set<string>;
  score: number;
}

/**
 * Builds `knowledge_graph` context.
 *
 * @param upstreams the upstreams, in `context_from` order
 * @param queryTerms the prompt's terms
 * @param budget tokens allowed
 */
export function knowledgeGraphMode(
  upstreams: readonly Upstream[],
  queryTerms: readonly string[],
  budget: number,
): ModeResult {
  const nodes = new Map<string, Node>();
  const edges = new Map<string, Edge>();
  for (const up of upstreams) {
    const graph = extractGraph(up.text);
    for (const e of graph.entities) {
      const key = e.name.toLowerCase();
      const node = nodes.get(key) ?? { ...e, mentions: 0, sources: new Set(), degree: 0, score: 0 };
      node.mentions += e.mentions;
      node.sources.add(up.id);
      nodes.set(key, node);
    }
    for (const r of graph.relations) {
      const key = `${r.from.toLowerCase()}\0${r.relation}\0${r.to.toLowerCase()}`;
      const edge = edges.get(key) ?? { ...r, count: 0, sources: new Set(), score: 0 };
      edge.count += r.count;
      edge.sources.add(up.id);
      edges.set(key, edge);
    }
  }
  if (nodes.size === 0) {
    return selectiveFallback(
      "no entities found in the upstream output",
      upstreams,
      queryTerms,
      budget,
    );
  }
  for (const edge of edges.values()) {
    nodes.get(edge.from.toLowerCase())!.degree++;
    nodes.get(edge.to.toLowerCase())!.degree++;
  }
  const list = [...nodes.values()];
  const scores = bm25Scores(list.map((n) => terms(n.name)), queryTerms);
  list.forEach((n, i) => (n.score = scores[i]! + 0.3 * Math.log(1 + n.degree)));
  for (const edge of edges.values()) {
    const sum = nodes.get(edge.from.toLowerCase())!.score + nodes.get(edge.to.toLowerCase())!.score;
    edge.score = edge.explicit ? sum * 1.5 : sum;
  }
  const items: ContextItem[] = [];
  const lines: string[] = [];
  const covered = new Set<string>();
  let left = budget - estimateTokens("Relations:\n\nEntities:\n");
  const ranked = [...edges.values()].sort((a, b) => b.score - a.score);
  ranked.forEach((edge, rank) => {
    const text = `- ${edge.from} —${edge.relation}→ ${edge.to} (${[...edge.sources].join(", ")})`;
    const tokens = estimateTokens(text) + 1;
    const selected = tokens <= left && (edge.score > 0 || rank < 20);
    if (selected) {
      left -= tokens;
      lines.push(text);
      covered.add(edge.from.toLowerCase());
      covered.add(edge.to.toLowerCase());
    }
    items.push({
      upstream: [...edge.sources].join(", "),
      kind: "relation",
      label: `${edge.from} ${edge.relation} ${edge.to}`,
      score: round(edge.score),
      tokens,
      selected,
      reason: selected ? `rank ${rank + 1}` : tokens > left ? "over budget" : "not relevant",
    });
  });
  const entityLines: string[] = [];
  const rankedNodes = [...list].sort((a, b) => b.score - a.score || b.mentions - a.mentions);
  rankedNodes.forEach((node, rank) => {
    const key = node.name.toLowerCase();
    const text = `${node.name} (${node.kind}; ${[...node.sources].join(", ")})`;
    const tokens = estimateTokens(text) + 1;
    let selected = covered.has(key);
    let reason = selected ? "in a selected relation" : "";
    if (!selected) {
      selected = tokens <= left && (node.score > 0 || rank < 30);
      if (selected) left -= tokens;
      reason = selected ? `rank ${rank + 1}` : tokens > left ? "over budget" : "not relevant";
    }
    if (selected && !covered.has(key)) entityLines.push(text);
    items.push({
      upstream: [...node.sources].join(", "),
      kind: "entity",
      label: `${node.name} (${node.kind})`,
      score: round(node.score),
      tokens,
      selected,
      reason,
    });
  });
  const blocks = [
    lines.length ? `Relations:\n${lines.join("\n")}` : "",
    entityLines.length ? `Entities:\n${entityLines.join(", ")}` : "",
  ].filter(Boolean);
  const sources = [
    ...new Set(items.filter((i) => i.selected).flatMap((i) => i.upstream.split(", "))),
  ];
  return {
    sections: blocks.length
      ? [{ source: sources.join(", "), heading: "knowledge graph", text: blocks.join("\n\n") }]
      : [],
    items,
    notes: [],
  };
}

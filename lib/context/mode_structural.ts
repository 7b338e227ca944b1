/**
 * `structural`: the code facts of upstream output (code_facts.ts: files changed or mentioned,
 * symbol definitions, imports), selected by relevance to the prompt.
 *
 * Score of a fact = BM25 of its name, file and line against the prompt, + 2 when the prompt
 * names its file, + half the best score of another fact in the same file (the blast radius:
 * what sits next to a relevant symbol is likely relevant), + half the best score of a fact in
 * a module it imports, + 0.3 for a changed file. Changed files are listed first (up to a
 * quarter of the budget), then facts by score while they fit. Output with no code facts falls
 * back to `selective`.
 *
 * @module
 */
import { bm25Scores } from "./bm25.ts";
import { type CodeFact, codeFacts } from "./code_facts.ts";
import { round, selectiveFallback } from "./mode_selective.ts";
import { terms } from "./terms.ts";
import { estimateTokens, truncateToTokens } from "./tokens.ts";
import type { ContextItem, ModeResult, Upstream } from "./types.ts";

interface Scored extends CodeFact {
  upstream: string;
  score: number;
  text: string;
  tokens: number;
  selected: boolean;
  reason: string;
}

function basename(path: string): string {
  return path.replace(/\\/g, "/").split("/").pop()!.replace(/\.[^.]+$/, "");
}

function describe(f: Scored): string {
  if (f.kind === "symbol") {
    return `- ${f.detail} ${f.name}${f.file ? ` — ${f.file}` : ""}: ${f.line}`;
  }
  if (f.kind === "import") return `- ${f.file ?? "(unknown file)"} imports ${f.name}`;
  return `- ${f.name} (${f.detail})`;
}

/**
 * Builds `structural` context.
 *
 * @param upstreams the upstreams, in `context_from` order
 * @param queryTerms the prompt's terms
 * @param queryText the prompt itself (file names in it get a bonus)
 * @param budget tokens allowed
 */
export function structuralMode(
  upstreams: readonly Upstream[],
  queryTerms: readonly string[],
  queryText: string,
  budget: number,
): ModeResult {
  const facts: Scored[] = [];
  for (const up of upstreams) {
    for (const fact of codeFacts(up.text)) {
      facts.push({
        ...fact,
        upstream: up.id,
        score: 0,
        text: "",
        tokens: 0,
        selected: false,
        reason: "",
      });
    }
  }
  if (facts.length === 0) {
    return selectiveFallback("no code facts in the upstream output", upstreams, queryTerms, budget);
  }
  const base = bm25Scores(
    facts.map((f) => terms(`${f.name} ${f.file ?? ""} ${f.line}`)),
    queryTerms,
  );
  const lowerQuery = queryText.toLowerCase();
  // per file: the best score, its fact, and the second best (for "another fact in the file")
  const top = new Map<string, { best: number; index: number; second: number }>();
  facts.forEach((f, i) => {
    if (!f.file) return;
    const t = top.get(f.file) ?? { best: -1, index: -1, second: 0 };
    if (base[i]! > t.best) {
      t.second = Math.max(t.second, t.best);
      t.best = base[i]!;
      t.index = i;
    } else t.second = Math.max(t.second, base[i]!);
    top.set(f.file, t);
  });
  const bestInFile = new Map([...top].map(([file, t]) => [file, t.best]));
  const bestByModule = new Map<string, number>();
  for (const [file, score] of bestInFile) {
    const name = basename(file);
    bestByModule.set(name, Math.max(bestByModule.get(name) ?? 0, score));
  }
  facts.forEach((f, i) => {
    let score = base[i]!;
    const file = f.kind === "file" ? f.name : f.file;
    if (
      file &&
      (lowerQuery.includes(file.toLowerCase()) || lowerQuery.includes(basename(file).toLowerCase()))
    ) {
      score += 2;
    }
    const t = f.file ? top.get(f.file) : undefined;
    if (t) score += 0.5 * Math.max(0, t.index === i ? t.second : t.best);
    if (f.kind === "import") score += 0.5 * (bestByModule.get(basename(f.name)) ?? 0);
    if (f.kind === "file" && f.detail === "changed") score += 0.3;
    f.score = score;
    f.text = describe(f);
    f.tokens = estimateTokens(f.text) + 1;
  });
  let left = budget;
  const changed = facts.filter((f) => f.kind === "file" && f.detail === "changed");
  let changedLine = "";
  if (changed.length > 0) {
    const full = `Files changed: ${changed.map((f) => `${f.name} (${f.upstream})`).join(", ")}`;
    changedLine = truncateToTokens(full, Math.floor(budget / 4));
    if (changedLine.length < full.length) changedLine = changedLine.replace(/,[^,]*$/, ", …");
    left -= estimateTokens(changedLine) + 2;
    for (const f of changed) {
      f.selected = changedLine.includes(f.name);
      f.reason = f.selected ? "changed file" : "over a quarter of the budget";
    }
  }
  const rest = facts.filter((f) => !(f.kind === "file" && f.detail === "changed"));
  const ranked = [...rest].sort((a, b) => b.score - a.score);
  ranked.forEach((f, rank) => {
    if (f.score <= 0 && rank >= 12) {
      f.reason = "not relevant";
      return;
    }
    if (f.tokens > left) {
      f.reason = "over budget";
      return;
    }
    left -= f.tokens;
    f.selected = true;
    f.reason = `rank ${rank + 1}`;
  });
  const pick = (kind: CodeFact["kind"]) =>
    ranked.filter((f) => f.selected && f.kind === kind).map((f) => f.text);
  const blocks = [
    changedLine,
    pick("symbol").length ? `Symbols:\n${pick("symbol").join("\n")}` : "",
    pick("import").length ? `Imports:\n${pick("import").join("\n")}` : "",
    pick("file").length ? `Files mentioned:\n${pick("file").join("\n")}` : "",
  ].filter(Boolean);
  const sources = [...new Set(facts.filter((f) => f.selected).map((f) => f.upstream))].join(", ");
  const items: ContextItem[] = facts.map((f) => ({
    upstream: f.upstream,
    kind: f.kind,
    label: f.kind === "symbol"
      ? `${f.name} (${f.detail})`
      : f.kind === "file"
      ? `${f.name} (${f.detail})`
      : f.name,
    score: round(f.score),
    tokens: f.tokens,
    selected: f.selected,
    reason: f.reason,
  }));
  return {
    sections: blocks.length
      ? [{ source: sources, heading: "code structure", text: blocks.join("\n\n") }]
      : [],
    items,
  };
}

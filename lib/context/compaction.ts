/**
 * Fitting a text into a token budget (`context_compaction`):
 *
 * - `none`: cut to the budget (the start of a text is kept; for an upstream's tail, its end),
 *   with the marker `\n...[truncated: N chars removed]...\n`.
 * - `standard`: first prune low-signal lines (ANSI colour codes, runs of blank lines, lines of
 *   only punctuation or box drawing, repeated lines as `line (×N)`, runs of four or more lines
 *   of the same shape as first, `… (N similar lines)`, last); if that is not enough, keep the
 *   start (40 %) and the end (60 %) with the reference's marker
 *   `\n...[compacted: N chars removed]...\n` between them.
 * - `progressive`: `standard`'s pruning, then, when still over budget, one LLM call summarises
 *   the text into the budget (the caller provides it, lib/context/llm.ts); if that call fails,
 *   `standard`'s cut.
 *
 * @module
 */
import { estimateTokens, lastTokens, truncateToTokens } from "./tokens.ts";

/** `context_compaction` values. */
export type CompactionMode = "none" | "standard" | "progressive";

/** How a text was made to fit. */
export type CompactionStage = "fits" | "truncated" | "pruned" | "cut" | "summarised";

/** A compacted text. */
export interface Compacted {
  /** The text, within the budget. */
  text: string;
  /** Its estimated tokens. */
  tokens: number;
  /** Characters removed. */
  removedChars: number;
  /** The last step that was needed. */
  stage: CompactionStage;
}

/** Options for {@linkcode compactText}. */
export interface CompactOptions {
  /** Which end to keep when a cut is the only way (`none`). @default {"head"} */
  keep?: "head" | "tail";
}

// deno-lint-ignore no-control-regex
const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b\][^\u0007]*\u0007/g;
const DECORATION = /^[\s\p{P}\p{S}]{3,}$/u;

function shapeOf(line: string): string {
  return line.replace(/\d+/g, "0").replace(/\s+/g, " ").trim().slice(0, 24);
}

/**
 * Removes low-signal lines (see the module doc): what `standard` compaction does before it
 * cuts anything.
 *
 * @param text any text
 * @returns the pruned text
 *
 * @example Usage
 * ```ts
 * import { pruneLowSignal } from "./compaction.ts";
 * import assert from "node:assert/strict";
 * assert.equal(pruneLowSignal("ok\nok\nok\n-----\n\n\n\ndone"), "ok (×3)\n\ndone");
 * ```
 */
export function pruneLowSignal(text: string): string {
  const lines = text.replace(ANSI, "").split("\n").map((l) => l.replace(/\s+$/, ""));
  const kept: string[] = [];
  let blank = false;
  for (const line of lines) {
    if (line === "") {
      if (!blank && kept.length > 0) kept.push("");
      blank = true;
      continue;
    }
    blank = false;
    if (DECORATION.test(line)) continue;
    kept.push(line);
  }
  while (kept.at(-1) === "") kept.pop();
  // repeated lines
  const deduped: string[] = [];
  for (let i = 0; i < kept.length;) {
    let j = i + 1;
    while (j < kept.length && kept[j] === kept[i] && kept[i] !== "") j++;
    deduped.push(j - i > 1 ? `${kept[i]} (×${j - i})` : kept[i]!);
    i = j;
  }
  // runs of lines of the same shape
  const out: string[] = [];
  for (let i = 0; i < deduped.length;) {
    const shape = shapeOf(deduped[i]!);
    let j = i + 1;
    while (j < deduped.length && shape !== "" && shapeOf(deduped[j]!) === shape) j++;
    if (j - i >= 4) {
      out.push(deduped[i]!, `… (${j - i - 2} similar lines)`, deduped[j - 1]!);
    } else {
      out.push(...deduped.slice(i, j));
    }
    i = j;
  }
  return out.join("\n");
}

function marker(kind: "truncated" | "compacted", removed: number): string {
  return `\n...[${kind}: ${removed} chars removed]...\n`;
}

/** Cuts `text` to `budget` tokens keeping one end, with the `truncated` marker. */
function truncate(text: string, budget: number, keep: "head" | "tail"): string {
  // too small for a marker: a plain cut
  if (budget < 24) {
    return keep === "head" ? truncateToTokens(text, budget) : lastTokens(text, budget);
  }
  const room = Math.max(0, budget - 12);
  const part = keep === "head" ? truncateToTokens(text, room) : lastTokens(text, room);
  const removed = text.length - part.length;
  return keep === "head"
    ? part + marker("truncated", removed)
    : marker("truncated", removed) + part;
}

/** Keeps the start (40 %) and the end (60 %) of `text` with the `compacted` marker between. */
export function cutMiddle(text: string, budget: number): string {
  if (budget < 24) return truncateToTokens(text, budget);
  const room = Math.max(0, budget - 12);
  const head = truncateToTokens(text, Math.floor(room * 0.4));
  const tail = lastTokens(text.slice(head.length), room - estimateTokens(head));
  const removed = text.length - head.length - tail.length;
  if (removed <= 0) return text;
  return head.replace(/\n$/, "") + marker("compacted", removed) + tail.replace(/^\n/, "");
}

/**
 * Fits a text into a budget without an LLM (`none`, or `standard`; `progressive` is
 * `standard` here, its LLM stage is the caller's).
 *
 * @param text the text
 * @param budget tokens allowed (null: no budget, the text is returned as it is)
 * @param mode the compaction mode
 * @param options which end `none` keeps
 */
export function compactText(
  text: string,
  budget: number | null,
  mode: CompactionMode,
  options: CompactOptions = {},
): Compacted {
  const tokens = estimateTokens(text);
  if (budget === null || tokens <= budget) {
    return { text, tokens, removedChars: 0, stage: "fits" };
  }
  if (mode === "none") {
    const cut = truncate(text, budget, options.keep ?? "head");
    return {
      text: cut,
      tokens: estimateTokens(cut),
      removedChars: Math.max(0, text.length - cut.length),
      stage: "truncated",
    };
  }
  const pruned = pruneLowSignal(text);
  const prunedTokens = estimateTokens(pruned);
  if (prunedTokens <= budget) {
    return {
      text: pruned,
      tokens: prunedTokens,
      removedChars: text.length - pruned.length,
      stage: "pruned",
    };
  }
  const cut = cutMiddle(pruned, budget);
  return {
    text: cut,
    tokens: estimateTokens(cut),
    removedChars: Math.max(0, text.length - cut.length),
    stage: "cut",
  };
}

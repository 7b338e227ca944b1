/**
 * Builds one task's context: runs the mode over the upstreams, puts the sections together
 * (`--- heading ---` blocks; each wrapped as an observation when asked), holds the whole to the
 * budget, and reports what was considered, selected and why.
 *
 * The budget is a ceiling on the delivered text, measured with tokens.ts. Modes fill it as
 * well as they can; if the assembled text is still over (headings, LLM answers longer than
 * asked), each section is fitted into a fair share of the budget (mode_raw.ts) with the task's
 * compaction, `progressive` asking the LLM to shorten a section first.
 *
 * @module
 */
import { type CompactionMode, compactText } from "./compaction.ts";
import {
  cleanAnswer,
  type CouncilConfig,
  councilMode,
  type LlmCaller,
  mapReduceMode,
  shortenPrompt,
  summarizedMode,
} from "./llm_modes.ts";
import { knowledgeGraphMode } from "./mode_knowledge_graph.ts";
import { layeredMode } from "./mode_layered.ts";
import { fairShares, rawMode } from "./mode_raw.ts";
import { selectiveMode } from "./mode_selective.ts";
import { structuralMode } from "./mode_structural.ts";
import { wrapObservation } from "./sanitize.ts";
import { terms } from "./terms.ts";
import { estimateTokens, truncateToTokens } from "./tokens.ts";
import {
  type ContextCall,
  type ContextMode,
  type ContextReport,
  type ContextSection,
  DEFAULT_SELECTION_BUDGET,
  type ModeResult,
  SELECTION_MODES,
  type Upstream,
} from "./types.ts";

/** What {@linkcode buildContext} needs. */
export interface BuildRequest {
  /** The mode. */
  mode: ContextMode;
  /** The upstreams, in `context_from` order (finished ones only). */
  upstreams: Upstream[];
  /** What relevance is scored against: the task's prompt (unrendered) and description. */
  query: string;
  /** `context_budget_tokens` (null: none; selection modes then use 6000). */
  budget: number | null;
  /** `context_compaction`. @default {"standard"} */
  compaction?: CompactionMode;
  /** Wrap each section as `<observation source="…">`. @default {false} */
  wrap?: boolean;
  /** Makes LLM calls (LLM modes, progressive compaction). */
  call?: LlmCaller;
  /** `council` mode's configuration. */
  council?: CouncilConfig;
}

/** A built context. */
export interface BuiltContext {
  /** The delivered text: `{{ upstream_synthesis }}`, and what is injected into prompts. */
  text: string;
  /** raw: each upstream's budgeted tail (`{{ id.stdout_tail }}`). */
  tails: Map<string, string>;
  /** summarized, map_reduce: each upstream's summary (`{{ id.summary }}`). */
  summaries: Map<string, string>;
  /** What was considered and why. */
  report: ContextReport;
  /** Tokens of the upstreams' whole text. */
  rawTokens: number;
  /** Tokens of the delivered text. */
  finalTokens: number;
  /** UTF-8 bytes of the upstreams' whole text. */
  rawBytes: number;
  /** UTF-8 bytes of the delivered text. */
  finalBytes: number;
}

const encoder = new TextEncoder();

/** The effective budget of a mode: the task's, else 6000 for the selection modes. */
export function effectiveBudget(mode: string, budget: number | null | undefined): number | null {
  if (typeof budget === "number") return budget;
  return SELECTION_MODES.has(mode) ? DEFAULT_SELECTION_BUDGET : null;
}

function render(section: ContextSection, wrap: boolean): string {
  const body = wrap ? wrapObservation(section.source, section.text) : section.text;
  return `--- ${section.heading} ---\n${body}`;
}

function assemble(sections: readonly ContextSection[], wrap: boolean): string {
  return sections.map((s) => render(s, wrap)).join("\n\n");
}

async function runMode(
  request: BuildRequest,
  budget: number | null,
  compaction: CompactionMode,
  queryTerms: string[],
  shorten:
    | ((source: string, text: string, budget: number) => Promise<string | undefined>)
    | undefined,
): Promise<ModeResult & { calls?: ContextCall[] }> {
  const { upstreams: ups, query } = request;
  const selectionBudget = budget ?? DEFAULT_SELECTION_BUDGET;
  switch (request.mode) {
    case "raw":
      return await rawMode(
        ups,
        budget,
        compaction,
        shorten && ((up, text, b) => shorten(up.id, text, b)),
      );
    case "selective":
      return selectiveMode(ups, queryTerms, selectionBudget);
    case "layered":
      return layeredMode(ups, queryTerms, selectionBudget, compaction);
    case "structural":
      return structuralMode(ups, queryTerms, query, selectionBudget);
    case "knowledge_graph":
      return knowledgeGraphMode(ups, queryTerms, selectionBudget);
    case "summarized":
    case "map_reduce":
    case "council": {
      if (!request.call) {
        const fallback = await rawMode(ups, budget, compaction);
        return {
          ...fallback,
          tails: undefined,
          notes: [`${request.mode} needs an LLM caller: the raw tails are delivered instead`],
        };
      }
      if (request.mode === "summarized") {
        return await summarizedMode(ups, query, budget, request.call);
      }
      if (request.mode === "map_reduce") {
        return await mapReduceMode(ups, query, budget, request.call);
      }
      return await councilMode(
        ups,
        query,
        budget,
        request.call,
        request.council ?? {
          members: [],
          topology: "star",
          rounds: 1,
        },
      );
    }
    default: {
      // codebase_map, scip, recursive: accepted by the plan format, not built (W34)
      const fallback = await rawMode(ups, budget, compaction);
      return { ...fallback, notes: [`context_mode ${request.mode} is not built: raw is used`] };
    }
  }
}

/**
 * Builds a task's context.
 *
 * @param request mode, upstreams, prompt, budget, compaction, wrapping, LLM caller
 * @returns the delivered text, per-upstream values, sizes and the report
 */
export async function buildContext(request: BuildRequest): Promise<BuiltContext> {
  const compaction = request.compaction ?? "standard";
  const wrap = request.wrap ?? false;
  const budget = effectiveBudget(request.mode, request.budget);
  const queryTerms = [...new Set(terms(request.query))];
  const calls: ContextCall[] = [];
  const shorten = compaction === "progressive" && request.call
    ? async (source: string, text: string, b: number) => {
      const answer = await request.call!({
        purpose: "context:compaction",
        label: `shorten ${source}`,
        prompt: shortenPrompt(source, text, b),
      });
      calls.push(answer.call);
      const out = cleanAnswer(answer.text);
      return answer.failed || out === "" ? undefined : out;
    }
    : undefined;
  const result = await runMode(request, budget, compaction, queryTerms, shorten);
  calls.unshift(...(result.calls ?? []));
  const notes = [...(result.notes ?? [])];
  let sections = result.sections;
  let text = assemble(sections, wrap);
  if (budget !== null && estimateTokens(text) > budget) {
    const overhead = estimateTokens(assemble(sections.map((s) => ({ ...s, text: "" })), wrap));
    const shares = fairShares(sections.map((s) => estimateTokens(s.text)), budget - overhead);
    const fitted: ContextSection[] = [];
    for (const [i, section] of sections.entries()) {
      const share = shares[i]!;
      let out = compactText(section.text, share, compaction === "none" ? "none" : "standard").text;
      if (shorten && estimateTokens(section.text) > share) {
        const short = await shorten(section.source, section.text, share);
        if (short !== undefined && estimateTokens(short) <= share) out = short;
      }
      fitted.push({ ...section, text: out });
    }
    sections = fitted;
    text = assemble(sections, wrap);
    notes.push("the assembled context was over budget: each section was fitted to a fair share");
    if (estimateTokens(text) > budget) {
      // headings alone are over a tiny budget: a plain cut is all that is left
      text = truncateToTokens(text, budget);
      notes.push("the budget is too small for every section heading: the text was cut");
    }
  }
  const rawText = request.upstreams.map((up) => up.text).join("\n");
  const report: ContextReport = {
    mode: request.mode,
    budget_tokens: budget,
    compaction,
    query_terms: queryTerms,
    upstreams: request.upstreams.map((up) => ({
      id: up.id,
      status: up.status,
      tokens: estimateTokens(up.text),
      tainted: up.tainted,
      score: result.upstreamScores?.get(up.id) ?? null,
    })),
    items: result.items,
    calls,
    notes,
  };
  return {
    text,
    tails: result.tails ?? new Map(),
    summaries: result.summaries ?? new Map(),
    report,
    rawTokens: estimateTokens(rawText),
    finalTokens: estimateTokens(text),
    rawBytes: encoder.encode(rawText).length,
    finalBytes: encoder.encode(text).length,
  };
}

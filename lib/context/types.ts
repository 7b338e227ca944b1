/**
 * Shared shapes of the context layer: an upstream as a context mode reads it, what a mode
 * produces, and the report that `maestro explain --context` shows and each task's result keeps
 * in short form.
 *
 * @module
 */
import type { TaskStatus } from "../run/events.ts";
import type { CompactionMode } from "./compaction.ts";

/** `context_mode` values this runtime builds. */
export type ContextMode =
  | "raw"
  | "selective"
  | "layered"
  | "structural"
  | "knowledge_graph"
  | "summarized"
  | "map_reduce"
  | "council";

/** Modes that make LLM calls. */
export const LLM_MODES: ReadonlySet<string> = new Set(["summarized", "map_reduce", "council"]);

/** Modes whose budget defaults to {@linkcode DEFAULT_SELECTION_BUDGET} (the reference's). */
export const SELECTION_MODES: ReadonlySet<string> = new Set([
  "selective",
  "layered",
  "structural",
  "knowledge_graph",
]);

/** Budget of the selection modes when neither the task nor `defaults` sets one. */
export const DEFAULT_SELECTION_BUDGET = 6000;

/** One upstream task's output, as context modes read it. */
export interface Upstream {
  /** The upstream task id, as this task names it. */
  id: string;
  /** Its final status. */
  status: TaskStatus;
  /** Its exit code. */
  exit_code: number | null;
  /**
   * The text modes work on: `stdout_tail` (an engine's final text), with the upstream's
   * `output_redact` applied and injection markers neutralised when it is tainted or the plan
   * has `control_flow_integrity`; "" when `context_allowlist` hides it.
   */
  text: string;
  /** Its output is untrusted (see taint.ts). */
  tainted: boolean;
}

/** One piece of delivered context and where it came from. */
export interface ContextSection {
  /** Upstream id(s) it came from (`a, b` when a mode mixes several). */
  source: string;
  /** Heading shown above it (`a (success)`, `a [L1]`, ...). */
  heading: string;
  /** The text. */
  text: string;
}

/** A candidate a mode considered: a chunk, a tier, a symbol, an entity, ... */
export interface ContextItem {
  /** The upstream it came from. */
  upstream: string;
  /** What it is. */
  kind:
    | "tail"
    | "chunk"
    | "tier"
    | "file"
    | "symbol"
    | "import"
    | "entity"
    | "relation"
    | "summary"
    | "answer";
  /** Short description (`lines 12-18`, `L1`, `parseConfig (function)`, ...). */
  label: string;
  /** Relevance to the task's prompt (BM25 and bonuses), null when the mode does not score. */
  score: number | null;
  /** Estimated tokens. */
  tokens: number;
  /** Delivered or not. */
  selected: boolean;
  /** Why it was (not) selected. */
  reason: string;
}

/** One LLM call a context mode made. */
export interface ContextCall {
  /** `context:summarized`, `context:map_reduce`, `context:council`, `context:compaction`. */
  purpose: string;
  /** What the call was about (`summary of a`, `reduce`, `star member 2 round 1`, ...). */
  label: string;
  engine: string;
  model: string | null;
  cached: boolean;
  is_error: boolean;
  tokens: { input: number; cached: number; output: number };
  cost_usd: number | null;
}

/** What a mode built and why: kept (short) in the result, shown by `maestro explain`. */
export interface ContextReport {
  /** The mode. */
  mode: ContextMode;
  /** Token budget (null: none). */
  budget_tokens: number | null;
  /** How over-budget text was fitted. */
  compaction: CompactionMode;
  /** The query terms relevance was scored against (from the prompt and description). */
  query_terms: string[];
  /** The upstreams read. */
  upstreams: Array<{
    id: string;
    status: TaskStatus;
    tokens: number;
    tainted: boolean;
    score: number | null;
  }>;
  /** Candidates considered. */
  items: ContextItem[];
  /** LLM calls made. */
  calls: ContextCall[];
  /** Anything worth saying (fallbacks, failures). */
  notes: string[];
}

/** What a mode returns. */
export interface ModeResult {
  /** Sections of the delivered context, in order. */
  sections: ContextSection[];
  /** raw: each upstream's tail after budgeting (for `{{ id.stdout_tail }}`). */
  tails?: Map<string, string>;
  /** summarized, map_reduce: each upstream's summary (for `{{ id.summary }}`). */
  summaries?: Map<string, string>;
  /** Candidates considered, with scores. */
  items: ContextItem[];
  /** Relevance of each upstream as a whole, when the mode scored it. */
  upstreamScores?: Map<string, number>;
  /** Notes for the report. */
  notes?: string[];
}

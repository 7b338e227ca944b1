/**
 * Helpers shared by adapters: defensive JSON-line reading, arg editing for execution
 * profiles, provider env selection, message-based failure classification and pricing.
 *
 * @module
 */
import { priceTokens, ratesFor } from "./pricing.ts";
import type {
  BuildContext,
  CostSource,
  EngineResult,
  ExitInfo,
  FailureCategory,
  FailureEvidence,
  LineParser,
  ParseContext,
  TokenUsage,
  ToolCall,
} from "./types.ts";

/** A JSON object read from a line, or null when the line is not one (garbage is expected). */
export function jsonObject(line: string): Record<string, unknown> | null {
  const trimmed = line.trim();
  if (!trimmed.startsWith("{")) return null;
  try {
    const value: unknown = JSON.parse(trimmed);
    return isRecord(value) ? value : null;
  } catch {
    return null;
  }
}

/** Narrowing helper. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A non-negative finite number, else 0 (usage fields may be missing or null). */
export function count(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : 0;
}

/** A string field, else undefined. */
export function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** Removes a flag and, when `takesValue`, its value (both `--f v` and `--f=v` forms). */
export function removeFlag(args: string[], names: string[], takesValue: boolean): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (names.includes(arg)) {
      if (takesValue) i++;
      continue;
    }
    if (takesValue && names.some((n) => n.startsWith("--") && arg.startsWith(`${n}=`))) continue;
    out.push(arg);
  }
  return out;
}

/** The subset of `env` whose names match one of the prefixes or exact names. */
export function pickEnv(
  env: Readonly<Record<string, string>>,
  prefixes: string[],
  exact: string[] = [],
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (exact.includes(k) || prefixes.some((p) => k.startsWith(p))) out[k] = v;
  }
  return out;
}

/** An empty result to fill in. */
export function emptyResult(): EngineResult {
  return {
    text: "",
    tokens: { input: 0, cached: 0, output: 0 },
    cost_usd: null,
    cost_source: "unknown",
    session_id: null,
    tool_calls: [],
    num_turns: 0,
    is_error: false,
    warnings: [],
  };
}

/** Cost from the CLI when it reported one, else priced from tokens, else unknown. */
export function settleCost(
  engine: string,
  reported: number | null,
  tokens: TokenUsage,
  model: string | undefined,
  env: Readonly<Record<string, string>> | undefined,
): { cost_usd: number | null; cost_source: CostSource } {
  if (reported !== null) return { cost_usd: reported, cost_source: "reported" };
  const r = ratesFor(engine, model, env);
  if (r && tokens.input + tokens.cached + tokens.output > 0) {
    return { cost_usd: priceTokens(tokens, r), cost_source: "priced" };
  }
  return { cost_usd: null, cost_source: "unknown" };
}

/** The HTTP status mentioned in an error message (`401`, `(429)`, `status 500`), if any. */
export function statusIn(message: string): number | undefined {
  const m = message.match(/\b(?:status(?: code)?:?\s*|API Error:?\s*|\()([45]\d\d)\b/i);
  return m ? Number(m[1]) : undefined;
}

/**
 * Classification shared by every engine: exit codes first (timeout, missing binary), then the
 * provider's HTTP status, then well-known message phrases. Order matters: quota before rate
 * limit because quota messages often also say "429".
 */
export function classifyCommon(f: FailureEvidence): FailureCategory {
  if (f.exit.timedOut || f.exit.exitCode === 124) return "timeout";
  if (f.exit.notFound || f.exit.exitCode === 127) return "cli_missing";
  const msg = f.message.toLowerCase();
  if (/max[_ ]turns|maximum number of turns/.test(msg) || f.reason === "max_turns") {
    return "max_turns";
  }
  if (/quota|insufficient_quota|credit balance|billing|usage limit|hit your limit/.test(msg)) {
    return "quota";
  }
  const status = f.httpStatus ?? statusIn(f.message);
  if (status === 401 || status === 403) return "auth";
  if (status === 429) return "rate_limit";
  if (
    /not logged in|authenticat|unauthori[sz]ed|invalid api key|api key|missing environment variable/
      .test(msg)
  ) {
    return "auth";
  }
  if (/rate.?limit|too many requests|overloaded/.test(msg)) return "rate_limit";
  if (
    /prompt is too long|context (window|length)|context_length_exceeded|too many tokens/.test(msg)
  ) {
    return "context_exceeded";
  }
  if (
    status === 404 ||
    /model .*(not found|does not exist|not available|not supported)|unsupported model|model_not_found/
      .test(msg)
  ) {
    return "model_unavailable";
  }
  if (/permission denied|not allowed|denied/.test(msg)) return "tool_denied";
  return "unknown";
}

/**
 * Parses a whole recorded stdout with an engine's incremental parser: the one way every
 * adapter's `parse` works.
 *
 * @param makeParser the engine's parser factory
 * @param lines stdout lines
 * @param exit how the process ended
 * @param ctx model and env for pricing
 */
export function parseRecorded(
  makeParser: (ctx?: ParseContext) => LineParser,
  lines: Iterable<string>,
  exit: ExitInfo,
  ctx?: ParseContext,
): EngineResult {
  const parser = makeParser(ctx);
  for (const line of lines) parser.push(line);
  return parser.finish(exit);
}

/**
 * The system prompt and retry feedback of an attempt, trimmed (the feedback text starts with
 * blank lines) and joined with a blank line; "" when both are empty.
 */
export function systemText(ctx: Pick<BuildContext, "systemPrompt" | "retryFeedback">): string {
  return [ctx.systemPrompt, ctx.retryFeedback].map((s) => s.trim()).filter(Boolean).join("\n\n");
}

/**
 * The prompt for an engine without a system-prompt flag: the reference's wrapper
 * `[System Instructions]\n<sys>\n\n[Task]\n<prompt>` (seed-behaviour §3, gemini/copilot), used
 * only when there is system text, so retry feedback reaches every engine.
 */
export function instructedPrompt(ctx: BuildContext): string {
  const system = systemText(ctx);
  return system ? `[System Instructions]\n${system}\n\n[Task]\n${ctx.prompt}` : ctx.prompt;
}

/**
 * Reads one assistant message in the Anthropic/Claude-SDK shape (`content` blocks), as claude
 * and qwen stream them: appends its `tool_use` blocks to `toolCalls` and returns the text of its
 * last `text` block, if it has one.
 */
export function readAssistantMessage(
  message: Record<string, unknown>,
  toolCalls: ToolCall[],
): string | undefined {
  let text: string | undefined;
  const content = Array.isArray(message.content) ? message.content : [];
  for (const block of content) {
    if (!isRecord(block)) continue;
    if (block.type === "tool_use" && typeof block.name === "string") {
      toolCalls.push({ name: block.name, input: isRecord(block.input) ? block.input : {} });
    }
    if (block.type === "text" && typeof block.text === "string") text = block.text;
  }
  return text;
}

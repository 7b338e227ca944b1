/**
 * The parser shared by the local-model engines (ollama, llama): they print the bare answer on
 * stdout and their statistics and errors on stderr, so the result is stdout's text, tokens when
 * the stats were printed, a cost of 0 (local inference; pricing.ts rows, overridable) and a
 * failure read from stderr's `Error:`/`error:` lines.
 *
 * @module
 */
import { classifyCommon, emptyResult, parseRecorded } from "./common.ts";
import { priceTokens, ratesFor } from "./pricing.ts";
import type {
  EngineFailure,
  EngineResult,
  ExitInfo,
  FailureCategory,
  FailureEvidence,
  LineParser,
  ParseContext,
  TokenUsage,
} from "./types.ts";

/** What differs between the plain-text engines. */
export interface PlainTextDialect {
  /** Engine name, for messages and the pricing table. */
  engine: string;
  /** The answer from the whole stdout (ANSI codes already removed). */
  text(stdout: string): string;
  /** Token counts from stderr lines (ANSI removed), or null when none were printed. */
  tokens(stderr: string[]): TokenUsage | null;
  /**
   * A failure with a hint for the errors this engine is known to print, else undefined (the
   * common classification then applies to `message`).
   */
  knownFailure(message: string, ctx: ParseContext): EngineFailure | undefined;
}

// Escape sequences are exactly what this matches, on purpose.
// deno-lint-ignore no-control-regex
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r/g;

/** Removes terminal escape codes and carriage returns (spinners, colours). */
export function stripAnsi(text: string): string {
  return text.replace(ANSI, "");
}

/**
 * The error a failed run printed: the last lines of stderr mentioning an error (ollama prints
 * `Error: …`, llama.cpp `…: error: …`/`failed to …`), else the end of stderr, else of stdout.
 */
export function errorText(stderr: string[], stdout: string): string {
  const errors = stderr.filter((l) => /\berror\b|failed|unable to/i.test(l));
  const picked = errors.length > 0 ? errors.slice(-4) : stderr.slice(-4);
  const text = picked.join("\n").trim() || stdout.trim().split("\n").slice(-4).join("\n");
  return text.replace(/^Error:\s*/gm, "");
}

/** Cost of a local engine: priced when the (overridable) rates are zero or tokens are known. */
function localCost(
  engine: string,
  tokens: TokenUsage | null,
  ctx: ParseContext,
): Pick<EngineResult, "cost_usd" | "cost_source"> {
  const rates = ratesFor(engine, ctx.model, ctx.env);
  if (!rates) return { cost_usd: null, cost_source: "unknown" };
  const free = rates.input_per_million + rates.cached_input_per_million +
      rates.output_per_million === 0;
  if (free) return { cost_usd: 0, cost_source: "priced" };
  return tokens
    ? { cost_usd: priceTokens(tokens, rates), cost_source: "priced" }
    : { cost_usd: null, cost_source: "unknown" };
}

/** An incremental parser for a plain-text engine. */
export function plainTextParser(dialect: PlainTextDialect, ctx: ParseContext = {}): LineParser {
  const lines: string[] = [];
  return {
    push(line) {
      lines.push(stripAnsi(line));
    },
    finish(exit: ExitInfo): EngineResult {
      const out = emptyResult();
      const stdout = lines.join("\n");
      const stderr = (exit.stderrTail ?? []).map(stripAnsi);
      out.text = dialect.text(stdout);
      const tokens = dialect.tokens(stderr);
      if (tokens) out.tokens = tokens;
      Object.assign(out, localCost(dialect.engine, tokens, ctx));
      out.num_turns = out.text ? 1 : 0;
      out.is_error = exit.exitCode !== 0 || exit.timedOut === true || exit.notFound === true;
      if (!out.is_error) {
        if (!out.text) out.warnings.push(`${dialect.engine} printed no answer`);
        return out;
      }
      const evidence: FailureEvidence = { exit, message: errorText(stderr, stdout) };
      if (exit.notFound) evidence.message = `${dialect.engine} CLI not found on PATH`;
      else if (exit.timedOut) evidence.message = `${dialect.engine} timed out. ${evidence.message}`;
      const known = exit.timedOut || exit.notFound
        ? undefined
        : dialect.knownFailure(evidence.message, ctx);
      out.failure = known ?? {
        category: classifyCommon(evidence),
        message: evidence.message ||
          `${dialect.engine} exited with code ${exit.exitCode} and printed no error`,
      };
      return out;
    },
  };
}

/** `classify` for a plain-text engine: exit codes first, then its known errors, then common. */
export function classifyPlainText(dialect: PlainTextDialect, f: FailureEvidence): FailureCategory {
  if (f.exit.timedOut || f.exit.notFound || [124, 127].includes(f.exit.exitCode)) {
    return classifyCommon(f);
  }
  return dialect.knownFailure(f.message, {})?.category ?? classifyCommon(f);
}

/** `parse` for a plain-text engine (whole recorded stdout). */
export function parsePlainText(
  dialect: PlainTextDialect,
  lines: Iterable<string>,
  exit: ExitInfo,
  ctx?: ParseContext,
): EngineResult {
  return parseRecorded((c) => plainTextParser(dialect, c), lines, exit, ctx);
}

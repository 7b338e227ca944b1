/**
 * Model pricing (USD per million tokens), used when a CLI reports tokens but no cost.
 * Rates are the reference tool's table (seed-behaviour §3), version {@linkcode PRICING_VERSION}.
 * `MAESTRO_<ENGINE>_PRICING_JSON` overrides or adds rows:
 * `{"model":{"input_per_million":1,"cached_input_per_million":0.1,"output_per_million":5}}`.
 *
 * @module
 */
import type { TokenUsage } from "./types.ts";

/** Bumped whenever a rate changes, so stored costs can say which table priced them. */
export const PRICING_VERSION = "2026-11-24.2";

/** Rates for one model, USD per million tokens. */
export interface ModelRates {
  /** Uncached input. */
  input_per_million: number;
  /** Cache-read input. */
  cached_input_per_million: number;
  /** Output (reasoning included). */
  output_per_million: number;
}

function rates(input: number, cached: number, output: number): ModelRates {
  return { input_per_million: input, cached_input_per_million: cached, output_per_million: output };
}

/** Built-in table per engine. `default` is the engine's fallback row when it has one. */
export const PRICING: Readonly<Record<string, Readonly<Record<string, ModelRates>>>> = {
  codex: {
    "gpt-5.5": rates(5, 0.5, 30),
    "gpt-5.4": rates(2.5, 0.25, 15),
    "gpt-5.4-mini": rates(0.75, 0.075, 4.5),
    "gpt-5.3-codex": rates(1.75, 0.175, 14),
    default: rates(2, 0.5, 8),
  },
  claude: {
    haiku: rates(1, 0.1, 5),
    sonnet: rates(3, 0.3, 15),
    opus: rates(5, 0.5, 25),
    opusplan: rates(4, 0.4, 20),
  },
  gemini: {
    "gemini-2.5-flash-lite": rates(0.1, 0.01, 0.4),
    "gemini-2.5-flash": rates(0.3, 0.03, 2.5),
    "gemini-2.5-pro": rates(1.25, 0.125, 10),
    "gemini-3-flash-preview": rates(0.5, 0.05, 3),
    "gemini-3-pro-preview": rates(2, 0.2, 12),
    "gemini-3.1-pro-preview": rates(2, 0.2, 12),
  },
  qwen: { default: rates(2, 0.5, 8) },
  // Copilot runs other vendors' models (its aliases give claude-*, gpt-*, gemini-* ids), so
  // they are priced at those vendors' rates above: exact for BYOK, an estimate with a Copilot
  // subscription (GitHub bills premium requests, not tokens). The reference leaves copilot
  // unpriced; no `default` row, so an unknown model stays unpriced rather than guessed.
  copilot: {
    "claude-haiku": rates(1, 0.1, 5),
    "claude-sonnet": rates(3, 0.3, 15),
    "claude-opus": rates(5, 0.5, 25),
    "gpt-5.5": rates(5, 0.5, 30),
    "gpt-5.4": rates(2.5, 0.25, 15),
    "gpt-5.4-mini": rates(0.75, 0.075, 4.5),
    "gpt-5.3-codex": rates(1.75, 0.175, 14),
    "gemini-2.5-pro": rates(1.25, 0.125, 10),
    "gemini-3-pro-preview": rates(2, 0.2, 12),
  },
  // Local inference has no per-token price (the reference's cost is always 0.0); an override
  // can price a hosted server reached through OLLAMA_HOST.
  ollama: { default: rates(0, 0, 0) },
  llama: { default: rates(0, 0, 0) },
};

function isRates(value: unknown): value is ModelRates {
  if (typeof value !== "object" || value === null) return false;
  const r = value as Record<string, unknown>;
  return ["input_per_million", "cached_input_per_million", "output_per_million"].every((k) =>
    typeof r[k] === "number" && Number.isFinite(r[k]) && (r[k] as number) >= 0
  );
}

/**
 * The table for an engine with the env override applied. An override that is not valid JSON
 * or has malformed rows is ignored row by row (a typo must not make every run unpriced).
 */
export function pricingTable(
  engine: string,
  env: Readonly<Record<string, string>> = {},
): Record<string, ModelRates> {
  const table: Record<string, ModelRates> = { ...PRICING[engine] };
  const raw = env[`MAESTRO_${engine.toUpperCase()}_PRICING_JSON`];
  if (raw) {
    try {
      const parsed: unknown = JSON.parse(raw);
      if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) {
        for (const [model, row] of Object.entries(parsed)) if (isRates(row)) table[model] = row;
      }
    } catch {
      // Ignored on purpose: see the doc comment.
    }
  }
  return table;
}

/**
 * Rates for a model: exact id, then the longest table key contained in the id (so
 * `claude-sonnet-4-5` finds `sonnet`, `gpt-5.4-codex` finds `gpt-5.4`), then `default`.
 */
export function ratesFor(
  engine: string,
  model: string | undefined,
  env: Readonly<Record<string, string>> = {},
): ModelRates | undefined {
  const table = pricingTable(engine, env);
  if (model) {
    if (table[model]) return table[model];
    const lower = model.toLowerCase();
    const key = Object.keys(table)
      .filter((k) => k !== "default" && lower.includes(k.toLowerCase()))
      .sort((a, b) => b.length - a.length)[0];
    if (key) return table[key];
  }
  return table.default;
}

/** Cost of some tokens at some rates, rounded to 1e-8 USD to keep sums stable. */
export function priceTokens(tokens: TokenUsage, r: ModelRates): number {
  const usd = (tokens.input * r.input_per_million + tokens.cached * r.cached_input_per_million +
    tokens.output * r.output_per_million) / 1e6;
  return Math.round(usd * 1e8) / 1e8;
}

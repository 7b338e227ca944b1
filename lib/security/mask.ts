/**
 * Secret masking: every value of a secret env var (length >= 3) is replaced by `***` in log
 * lines, events, results and terminal output before anything is written. Longest values are
 * replaced first so a secret that contains another is masked whole.
 *
 * @module
 */

/** Env var names that `secrets: auto` (and `--mask-secrets`) treat as secret. */
export const AUTO_SECRET_PATTERN: RegExp = /KEY|SECRET|TOKEN|PASSWORD|CREDENTIAL|AUTH/i;

/** Values shorter than this are not masked (they would mangle ordinary text). */
export const MIN_SECRET_LENGTH = 3;

/** The replacement text. */
export const MASK = "***";

/** A function that masks secrets in a text. */
export type Masker = (text: string) => string;

/** The identity masker, used when no secret is configured. */
export const NO_MASK: Masker = (text) => text;

/** Where secret values are looked up: env layers, first match wins (task env, defaults, OS). */
export interface SecretSources {
  /** Declared secret names, or "auto" for name-based detection. */
  secrets: readonly string[] | "auto";
  /** Force auto detection as well (`--mask-secrets`). */
  forceAuto?: boolean;
  /** Env layers searched in order (e.g. every task's env, then the process env). */
  envLayers: ReadonlyArray<Readonly<Record<string, string>>>;
}

/** The secret values a configuration designates, longest first, deduplicated. */
export function secretValues(sources: SecretSources): string[] {
  const auto = sources.secrets === "auto" || sources.forceAuto === true;
  const names = new Set(Array.isArray(sources.secrets) ? sources.secrets : []);
  const values = new Set<string>();
  for (const layer of sources.envLayers) {
    for (const [name, value] of Object.entries(layer)) {
      const secret = names.has(name) || (auto && AUTO_SECRET_PATTERN.test(name));
      if (secret && value.length >= MIN_SECRET_LENGTH) values.add(value);
    }
  }
  return [...values].sort((a, b) => b.length - a.length);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** A line of a multi-line secret shorter than this is not masked on its own. */
export const MIN_SECRET_LINE_LENGTH = 8;

/**
 * What to mask for one secret value: the value, the value without its final newline, and each
 * line of a multi-line value (a PEM key). Output is masked a line or a batch of lines at a
 * time, so a multi-line secret is seldom seen whole. Short lines are left out: they would
 * mangle ordinary text.
 */
export function secretPieces(value: string): string[] {
  const pieces = [value, value.replace(/[\r\n]+$/, "")];
  if (/[\r\n]/.test(value)) {
    for (const line of value.split(/\r?\n/)) {
      if (line.trim().length >= MIN_SECRET_LINE_LENGTH) pieces.push(line);
    }
  }
  return pieces;
}

/**
 * Builds a masker for the given secret values: one regular expression with the values (and
 * the lines of multi-line ones, {@linkcode secretPieces}) as alternatives, longest first, so
 * masking costs one pass over the text.
 */
export function createMasker(values: readonly string[]): Masker {
  const usable = [
    ...new Set(values.flatMap(secretPieces).filter((v) => v.length >= MIN_SECRET_LENGTH)),
  ].sort((a, b) => b.length - a.length);
  if (usable.length === 0) return NO_MASK;
  const pattern = new RegExp(usable.map(escapeRegExp).join("|"), "g");
  return (text) => text.replace(pattern, MASK);
}

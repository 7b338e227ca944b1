/**
 * Secret masking: every value of a secret env var (length >= 3) is replaced by `***` in log
 * lines, events, results and terminal output before anything is written. Longest values are
 * replaced first so a secret that contains another is masked whole.
 *
 * @module
 */
import { escapeRegExp } from "../regexp.ts";

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

/** Characters of a secret's start or end that, cut against an ellipsis, are still masked. */
export const MIN_CUT_SECRET_LENGTH = 6;

const ELLIPSIS = "…";

/**
 * Masks what a cut left of a secret: its start right before a `…` (text shortened after it)
 * or its end right after one (text shortened before it). Masking comes before cutting
 * wherever maestro cuts, so this only catches what a cut before masking would let through.
 */
function maskCutRemnants(text: string, pieces: readonly string[]): string {
  if (!text.includes(ELLIPSIS)) return text;
  let out = "";
  let from = 0;
  for (let at = text.indexOf(ELLIPSIS); at >= 0; at = text.indexOf(ELLIPSIS, at + 1)) {
    let start = at;
    let end = at + 1;
    for (const piece of pieces) {
      const before = startBefore(text, at, from, piece);
      if (before >= 0) start = Math.min(start, before);
      end = Math.max(end, endAfter(text, at, piece));
    }
    if (start === at && end === at + 1) continue;
    out += text.slice(from, start) + (start < at ? MASK : "") + ELLIPSIS +
      (end > at + 1 ? MASK : "");
    from = end;
  }
  return out + text.slice(from);
}

/**
 * Where the longest start of `piece` that ends at `at` begins (at least
 * {@linkcode MIN_CUT_SECRET_LENGTH} characters, not the whole piece, not before `from`), or -1.
 * Only places where the piece's first characters occur are tried: linear in the text's length.
 */
function startBefore(text: string, at: number, from: number, piece: string): number {
  const head = piece.slice(0, MIN_CUT_SECRET_LENGTH);
  const last = at - MIN_CUT_SECRET_LENGTH;
  let i = text.indexOf(head, Math.max(from, at - piece.length + 1));
  for (; i >= 0 && i <= last; i = text.indexOf(head, i + 1)) {
    // the earliest place that fits is the longest start
    if (piece.startsWith(text.slice(i, at))) return i;
  }
  return -1;
}

/**
 * Where the longest end of `piece` that starts right after `at` stops (at least
 * {@linkcode MIN_CUT_SECRET_LENGTH} characters, not the whole piece), or `at + 1` when none does.
 */
function endAfter(text: string, at: number, piece: string): number {
  const probe = text.slice(at + 1, at + 1 + MIN_CUT_SECRET_LENGTH);
  if (probe.length < MIN_CUT_SECRET_LENGTH) return at + 1;
  const first = Math.max(1, piece.length - (text.length - at - 1));
  let p = piece.indexOf(probe, first);
  for (; p >= 0 && p <= piece.length - MIN_CUT_SECRET_LENGTH; p = piece.indexOf(probe, p + 1)) {
    // the earliest place in the piece is the longest end
    if (text.startsWith(piece.slice(p), at + 1)) return at + 1 + piece.length - p;
  }
  return at + 1;
}

/**
 * Builds a masker for the given secret values: one regular expression with the values (and
 * the lines of multi-line ones, {@linkcode secretPieces}) as alternatives, longest first, so
 * masking costs one pass over the text; then what a cut left of one next to a `…`.
 */
export function createMasker(values: readonly string[]): Masker {
  const usable = [
    ...new Set(values.flatMap(secretPieces).filter((v) => v.length >= MIN_SECRET_LENGTH)),
  ].sort((a, b) => b.length - a.length);
  if (usable.length === 0) return NO_MASK;
  const pattern = new RegExp(usable.map(escapeRegExp).join("|"), "g");
  const cuttable = usable.filter((v) => v.length > MIN_CUT_SECRET_LENGTH);
  return (text) => maskCutRemnants(text.replace(pattern, MASK), cuttable);
}

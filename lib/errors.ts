/**
 * One error vocabulary for the whole tool: every problem has a code (E0xx plan errors, E1xx
 * runtime errors, W.. warnings), a message, where it is in the author's text, and a hint.
 *
 * @module
 */

/** Where a problem is in the author's text (1-based line and column). */
export interface SourceLocation {
  /** Absolute or caller-relative path of the file. */
  file: string;
  /** 1-based line, 0 when unknown. */
  line: number;
  /** 1-based column, 0 when unknown. */
  column: number;
}

/** One validation problem: an error or a warning. */
export interface PlanIssue {
  /** `E0xx` for errors (the reference tool's codes where it has them), `Wxx` for warnings. */
  code: string;
  /** What is wrong, in one sentence. */
  message: string;
  /** The file the problem is in. */
  file: string;
  /** 1-based line, 0 when unknown. */
  line: number;
  /** 1-based column, 0 when unknown. */
  column: number;
  /** What to do about it, when there is something useful to say. */
  hint?: string;
}

/** Exit codes of the `maestro` command. */
export const EXIT = {
  ok: 0,
  failed: 1,
  invalid: 2,
  interrupted: 130,
} as const;

/**
 * An error carrying one or more plan issues. Thrown by the loaders when a plan cannot be
 * used; `issues` holds every error found in one pass, `warnings` what was found besides.
 */
export class PlanError extends Error {
  /** Every error found, in source order. */
  readonly issues: PlanIssue[];
  /** Warnings found before loading stopped. */
  readonly warnings: PlanIssue[];

  /**
   * Creates the error from the issues found.
   *
   * @param issues the errors (at least one)
   * @param warnings warnings collected alongside
   */
  constructor(issues: PlanIssue[], warnings: PlanIssue[] = []) {
    super(issues.map(formatIssue).join("\n"));
    this.name = "PlanError";
    this.issues = issues;
    this.warnings = warnings;
  }
}

/** A runtime problem with a code and a hint (E1xx). */
export class MaestroError extends Error {
  /** The error code, e.g. `E100`. */
  readonly code: string;
  /** What to do about it. */
  readonly hint: string | undefined;
  /** The exit code the CLI should use. */
  readonly exitCode: number;

  /**
   * Creates a runtime error.
   *
   * @param code error code
   * @param message what went wrong
   * @param options hint and exit code (default 1)
   */
  constructor(code: string, message: string, options: { hint?: string; exitCode?: number } = {}) {
    super(message);
    this.name = "MaestroError";
    this.code = code;
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? EXIT.failed;
  }
}

/** Renders an issue the way compilers do: `plan.yaml:12:7 E005 message`. */
export function formatIssue(issue: PlanIssue): string {
  const where = issue.line > 0 ? `${issue.file}:${issue.line}:${issue.column}` : issue.file;
  return `${where} ${issue.code} ${issue.message}`;
}

/** Edit distance where swapping two neighbours counts as one edit (optimal string alignment). */
function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => {
    const row = new Array<number>(b.length + 1).fill(0);
    row[0] = i;
    return row;
  });
  for (let j = 0; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      }
      rows[i]![j] = best;
    }
  }
  return rows[a.length]![b.length]!;
}

/**
 * The closest candidate to `word`, if one is close enough to be a likely typo.
 *
 * @param word what the author wrote
 * @param candidates the names that exist
 * @returns the best suggestion or undefined
 */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  const limit = Math.max(1, Math.min(3, Math.floor(word.length / 3)));
  for (const candidate of candidates) {
    if (Math.abs(candidate.length - word.length) > limit) continue;
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      bestDistance = distance;
      best = candidate;
    }
  }
  return bestDistance <= limit ? best : undefined;
}

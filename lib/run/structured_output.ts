/**
 * The zero-cost structured context of a task (seed-behaviour §4): which files it changed, and
 * its error and warning lines, read from the last lines of its output. Upstream fields
 * `{{ id.files_changed }}`, `{{ id.errors }}`, `{{ id.warnings }}` deliver them.
 *
 * The reference took any line of one or two status letters and a word for a changed file
 * (`A done` gave `done`); here a path must look like one (a `/` or a dot in its name), and
 * diff headers, `git status` in both forms and change phrases (`Created src/app.ts`) count.
 *
 * @module
 */

/** What the output says. */
export interface StructuredOutput {
  files_changed: string[];
  errors: string[];
  warnings: string[];
}

/** At most this many entries per list, each cut to {@linkcode MAX_ENTRY_CHARS}. */
export const MAX_ENTRIES = 20;
const MAX_ENTRY_CHARS = 300;
const STDERR = "[stderr] ";

const DIFF_GIT = /^diff --git a\/\S+ b\/(\S+)$/;
const DIFF_PLUS = /^\+\+\+ b\/(\S+)/;
const STATUS_SHORT = /^\s?[MADRCU?!]{1,2}\s+(\S+(?: -> \S+)?)$/;
const STATUS_LONG = /^\s*(?:modified|new file|deleted|renamed|copied):\s+(.+)$/;
const CHANGE_PHRASE =
  /^(?:created|wrote|modified|updated|edited|deleted|added|renamed)\s+(?:file\s+)?[`'"]?([\w@+~-][\w@+~./-]*)[`'"]?[.:]?$/i;
const ERROR_WORD = /error|exception|traceback|fail/i;
const ERROR_START = /^\s*(?:error|traceback|exception|fatal)\b/i;
const WARNING_START = /^\s*warn(?:ing)?\b/i;

/** Whether a word looks like a file path (not `done` from `A done`). */
function looksLikePath(word: string): boolean {
  return /^[\w@+~.-][\w@+~./-]*$/.test(word) && /[./]/.test(word) && !/^\.+$/.test(word) &&
    !/^\d+(?:\.\d+)*$/.test(word);
}

function changedFile(line: string): string | undefined {
  const header = DIFF_GIT.exec(line) ?? DIFF_PLUS.exec(line);
  if (header) return header[1];
  const status = STATUS_SHORT.exec(line) ?? STATUS_LONG.exec(line);
  if (status) {
    const path = status[1]!.split(" -> ").at(-1)!.trim();
    return looksLikePath(path) ? path : undefined;
  }
  const phrase = CHANGE_PHRASE.exec(line.trim());
  return phrase && looksLikePath(phrase[1]!) ? phrase[1] : undefined;
}

function add(list: string[], value: string): void {
  const entry = value.length > MAX_ENTRY_CHARS ? `${value.slice(0, MAX_ENTRY_CHARS)}…` : value;
  if (list.length < MAX_ENTRIES && !list.includes(entry)) list.push(entry);
}

/**
 * Reads the structured context from output lines, oldest first; stderr lines carry the
 * `[stderr] ` prefix (as a process outcome's `outputTail` has them).
 */
export function structuredOutput(lines: readonly string[]): StructuredOutput {
  const out: StructuredOutput = { files_changed: [], errors: [], warnings: [] };
  for (const raw of lines) {
    const stderr = raw.startsWith(STDERR);
    const line = stderr ? raw.slice(STDERR.length) : raw;
    if (line.trim() === "") continue;
    const file = changedFile(line);
    if (file !== undefined) {
      add(out.files_changed, file);
      continue;
    }
    if (ERROR_START.test(line) || (stderr && ERROR_WORD.test(line))) add(out.errors, line.trim());
    else if (WARNING_START.test(line) || (stderr && /warn/i.test(line))) {
      add(out.warnings, line.trim());
    }
  }
  return out;
}

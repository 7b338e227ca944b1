/**
 * Reading task logs for the read commands: a capped excerpt (head and tail, never the whole
 * of a huge file in memory) with escape sequences removed, and the first error lines of a
 * failed task. Secrets were masked before the log was written; nothing here unmasks anything.
 *
 * @module
 */
import type { TaskResult } from "../run/result.ts";

/** A log excerpt. */
export interface LogExcerpt {
  /** The text shown: the whole log, or its head and tail around an omission note. */
  text: string;
  /** Size of the file in bytes. */
  bytes: number;
  /** Bytes left out (0 when the whole log is shown). */
  omitted: number;
}

const ESC = "\u001b";
const BEL = "\u0007";
// CSI and OSC sequences, then control characters other than tab and newline
const CONTROL = new RegExp(
  `${ESC}\\[[0-9;?]*[ -/]*[@-~]|${ESC}\\][^${BEL}${ESC}]*(?:${BEL}|${ESC}\\\\)|${ESC}[@-Z\\\\-_]|[\\u0000-\\u0008\\u000b-\\u001f\\u007f]`,
  "g",
);

/** Removes terminal escape sequences and control characters (tabs and newlines stay). */
export function plainLog(text: string): string {
  return text.replace(/\r\n/g, "\n").replace(CONTROL, "");
}

function readRange(file: Deno.FsFile, start: number, length: number): Uint8Array {
  const buffer = new Uint8Array(length);
  file.seekSync(start, Deno.SeekMode.Start);
  let read = 0;
  while (read < length) {
    const n = file.readSync(buffer.subarray(read));
    if (n === null || n === 0) break;
    read += n;
  }
  return buffer.subarray(0, read);
}

const decoder = new TextDecoder();

/**
 * Reads a log, keeping at most `maxBytes`: a quarter from the head, the rest from the tail
 * (where a failure usually shows), cut at line ends, with a note of what was left out.
 *
 * @param path the log file
 * @param maxBytes the most bytes to show
 * @returns the excerpt, or null when the file cannot be read
 */
export function readLogExcerpt(path: string, maxBytes: number): LogExcerpt | null {
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, { read: true });
  } catch {
    return null;
  }
  try {
    const bytes = file.statSync().size;
    if (bytes <= maxBytes) {
      return { text: plainLog(decoder.decode(readRange(file, 0, bytes))), bytes, omitted: 0 };
    }
    const headBytes = Math.floor(maxBytes / 4);
    const tailBytes = maxBytes - headBytes;
    let head = decoder.decode(readRange(file, 0, headBytes));
    let tail = decoder.decode(readRange(file, bytes - tailBytes, tailBytes));
    const headEnd = head.lastIndexOf("\n");
    if (headEnd > 0) head = head.slice(0, headEnd + 1);
    const tailStart = tail.indexOf("\n");
    if (tailStart >= 0) tail = tail.slice(tailStart + 1);
    const shown = new TextEncoder().encode(head).length + new TextEncoder().encode(tail).length;
    const omitted = bytes - shown;
    const note = `\n… ${omitted} bytes omitted (the whole log is ${bytes} bytes: ${path}) …\n\n`;
    return { text: plainLog(head) + note + plainLog(tail), bytes, omitted };
  } catch {
    return null;
  } finally {
    file.close();
  }
}

/** Lines that look like an error, in any tool's wording. */
const ERROR_LINE =
  /\b(error|errors|failed|failure|fatal|exception|traceback|panic|denied|not found|cannot|can't|unable|refused|timed out|segmentation fault|assert(ion)?)\b|^E\d+|✗|✖/i;

const MAX_LINE = 300;

function cut(line: string): string {
  const trimmed = line.trimEnd();
  return trimmed.length > MAX_LINE ? `${trimmed.slice(0, MAX_LINE - 1)}…` : trimmed;
}

/**
 * The body of the last attempt in a log: between the header's blank line and the footer
 * (`status=`), after the last `[retry k/N]` marker.
 */
function lastAttemptBody(log: string): string[] {
  const lines = plainLog(log).split("\n");
  let start = lines.indexOf("");
  start = start < 0 ? 0 : start + 1;
  let end = lines.length;
  for (let i = lines.length - 1; i >= start; i--) {
    if (lines[i]!.startsWith("status=")) {
      end = i;
      break;
    }
  }
  for (let i = end - 1; i >= start; i--) {
    if (/^\[retry \d+\/\d+\]$/.test(lines[i]!)) {
      start = i + 1;
      break;
    }
  }
  return lines.slice(start, end).filter((line) => line.trim() !== "");
}

/**
 * The first lines that explain a failure, at most `max`: for a failed verify its output, else
 * the first error-looking lines of the last attempt's output (stderr first), else the last
 * stderr lines, else the last stdout lines; an engine's failure messages come first.
 *
 * @param result the task's result
 * @param log the task's log text (an excerpt will do), or null
 * @param max how many lines
 * @returns the lines, without the `[stderr] ` prefix
 */
export function errorLines(result: TaskResult, log: string | null, max = 5): string[] {
  const out: string[] = [];
  const add = (line: string) => {
    const text = cut(line);
    if (text && out.length < max && !out.includes(text)) out.push(text);
  };
  const last = result.failure_history?.at(-1);
  if (result.engine && last?.message) add(last.message);
  if (last?.verify_tail) {
    for (const line of plainLog(last.verify_tail).split("\n")) if (line.trim()) add(line);
    if (out.length > 0) return out;
  }
  if (log !== null) {
    const body = lastAttemptBody(log).filter((line) =>
      !line.startsWith("Retrying (") && !line.startsWith("[maestro] ") &&
      !/^\[(pre_command|verify_command)\] exit_code=/.test(line)
    );
    const stderr = body.filter((l) => l.startsWith("[stderr] ")).map((l) => l.slice(9));
    const stdout = body.filter((l) => !l.startsWith("[stderr] ") && !l.startsWith("{"));
    const errorish = [...stderr, ...stdout].filter((l) => ERROR_LINE.test(l));
    const pick = errorish.length > 0
      ? errorish.slice(0, max)
      : stderr.length > 0
      ? stderr.slice(-max)
      : stdout.slice(-max);
    for (const line of pick) add(line);
  }
  if (out.length === 0 && result.stdout_tail) {
    for (
      const line of plainLog(result.stdout_tail).split("\n").filter((l) => l.trim()).slice(-max)
    ) {
      add(line);
    }
  }
  return out;
}

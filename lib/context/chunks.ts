/**
 * Cutting upstream output into chunks for selection: whole lines, about `size` characters each,
 * a chunk ends early at a blank line once it is half full; a single line longer than `size` is
 * cut into pieces of `size`.
 *
 * @module
 */

/** One chunk of a text. */
export interface Chunk {
  /** The chunk's text (its lines joined with `\n`). */
  text: string;
  /** 1-based first line. */
  startLine: number;
  /** 1-based last line. */
  endLine: number;
}

/** Target chunk size in characters (the reference tool's is 200). */
export const CHUNK_CHARS = 320;

/**
 * Cuts a text into chunks of whole lines.
 *
 * @param text the text
 * @param size target characters per chunk
 * @returns the chunks, in order; blank-only chunks are dropped
 *
 * @example Usage
 * ```ts
 * import { chunkText } from "./chunks.ts";
 * import assert from "node:assert/strict";
 * const chunks = chunkText("a\nb\n\nc", 4);
 * assert.deepEqual(chunks.map((c) => c.text), ["a\nb", "c"]);
 * ```
 */
export function chunkText(text: string, size: number = CHUNK_CHARS): Chunk[] {
  const chunks: Chunk[] = [];
  let lines: string[] = [];
  let chars = 0;
  let start = 1;
  const flush = (end: number) => {
    const body = lines.join("\n");
    if (body.trim() !== "") {
      chunks.push({ text: body.replace(/\n+$/, ""), startLine: start, endLine: end });
    }
    lines = [];
    chars = 0;
    start = end + 1;
  };
  const all = text.split("\n");
  for (let i = 0; i < all.length; i++) {
    const line = all[i]!;
    const number = i + 1;
    if (line.length > size) {
      if (lines.length > 0) flush(number - 1);
      for (let at = 0; at < line.length; at += size) {
        chunks.push({ text: line.slice(at, at + size), startLine: number, endLine: number });
      }
      start = number + 1;
      continue;
    }
    if (lines.length > 0 && chars + line.length + 1 > size) flush(number - 1);
    if (line.trim() === "" && (lines.length === 0 || chars >= size / 2)) {
      if (lines.length > 0) flush(number - 1);
      start = number + 1;
      continue;
    }
    if (lines.length === 0) start = number;
    lines.push(line);
    chars += line.length + 1;
  }
  if (lines.length > 0) flush(all.length);
  return chunks;
}

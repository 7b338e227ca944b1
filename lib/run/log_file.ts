/**
 * A task's `.log` file: buffered appends so that a task printing a million lines costs a few
 * hundred writes, with memory bounded whatever the output size.
 *
 * Writes are synchronous `write(2)` calls of at most {@linkcode FLUSH_BYTES} into the page
 * cache: cheaper than an async op per flush (measured: the async open/write ops were a large
 * share of maestro's own per-task CPU), and backpressure is implicit — a producer cannot get
 * ahead of the file. The SHA-256 of the bytes is computed as they are written, so the
 * `task_complete` event's `log_hash` needs no second read of the file
 * (see {@linkcode fileHashSync}).
 *
 * @module
 */
import { createHash, type Hash } from "node:crypto";
import type { Masker } from "../security/mask.ts";
import { rememberFileHash } from "./artifacts.ts";

/** Buffered text above this size is written out before more is accepted. */
const FLUSH_BYTES = 64 * 1024;
const DONE: Promise<void> = Promise.resolve();

/** An append-only text file with a write buffer. */
export class LogFile {
  #file: Deno.FsFile;
  #path: string;
  #pending: string[] = [];
  #pendingSize = 0;
  #encoder = new TextEncoder();
  #mask: Masker;
  #hash: Hash = createHash("sha256");
  #size = 0;
  #closed = false;

  private constructor(file: Deno.FsFile, path: string, mask: Masker) {
    this.#file = file;
    this.#path = path;
    this.#mask = mask;
  }

  /** Creates (truncates) the file at `path`. */
  static create(path: string, mask: Masker = (t) => t): Promise<LogFile> {
    try {
      return Promise.resolve(LogFile.createSync(path, mask));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Creates (truncates) the file at `path`, synchronously. */
  static createSync(path: string, mask: Masker = (t) => t): LogFile {
    const file = Deno.openSync(path, { write: true, create: true, truncate: true });
    return new LogFile(file, path, mask);
  }

  /** Appends text as is (masked). */
  write(text: string): void {
    if (this.#closed) return;
    const masked = this.#mask(text);
    this.#pending.push(masked);
    this.#pendingSize += masked.length;
    if (this.#pendingSize >= FLUSH_BYTES) this.#flush();
  }

  /** Appends one line (a newline is added). */
  line(text: string): void {
    this.write(text + "\n");
  }

  /** Resolves once everything buffered so far is written (writes are synchronous: at once). */
  drain(): Promise<void> {
    return DONE;
  }

  #flush(): void {
    if (this.#pending.length === 0) return;
    const text = this.#pending.length === 1 ? this.#pending[0]! : this.#pending.join("");
    this.#pending = [];
    this.#pendingSize = 0;
    const bytes = this.#encoder.encode(text);
    this.#hash.update(bytes);
    this.#size += bytes.length;
    let written = 0;
    while (written < bytes.length) written += this.#file.writeSync(bytes.subarray(written));
  }

  /** Writes what is buffered and closes the file. */
  close(): Promise<void> {
    if (this.#closed) return DONE;
    try {
      this.#flush();
    } finally {
      this.#closed = true;
      this.#file.close();
    }
    rememberFileHash(this.#path, this.#hash.digest("hex"), this.#size);
    return DONE;
  }
}

/**
 * A task's `.log` file: buffered appends so that a task printing a million lines costs a few
 * hundred writes, with backpressure so memory stays bounded whatever the output size.
 *
 * @module
 */
import type { Masker } from "../security/mask.ts";

/** Buffered text above this size is written out before more is accepted. */
const FLUSH_BYTES = 64 * 1024;

/** An append-only text file with a write buffer. */
export class LogFile {
  #file: Deno.FsFile;
  #pending: string[] = [];
  #pendingSize = 0;
  #chain: Promise<void> = Promise.resolve();
  #encoder = new TextEncoder();
  #mask: Masker;
  #closed = false;

  private constructor(file: Deno.FsFile, mask: Masker) {
    this.#file = file;
    this.#mask = mask;
  }

  /** Creates (truncates) the file at `path`. */
  static async create(path: string, mask: Masker = (t) => t): Promise<LogFile> {
    const file = await Deno.open(path, { write: true, create: true, truncate: true });
    return new LogFile(file, mask);
  }

  /** Appends text as is (masked). Call {@linkcode drain} now and then for backpressure. */
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

  /** Resolves once everything buffered so far is written; producers await it to slow down. */
  drain(): Promise<void> {
    return this.#chain;
  }

  #flush(): void {
    if (this.#pending.length === 0) return;
    const bytes = this.#encoder.encode(this.#pending.join(""));
    this.#pending = [];
    this.#pendingSize = 0;
    this.#chain = this.#chain.then(async () => {
      let written = 0;
      while (written < bytes.length) written += await this.#file.write(bytes.subarray(written));
    });
  }

  /** Writes what is buffered and closes the file. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#flush();
    this.#closed = true;
    await this.#chain;
    this.#file.close();
  }
}

/**
 * A task's `.log` file: buffered appends so that a task printing a million lines costs a few
 * hundred writes, with memory bounded whatever the output size.
 *
 * Writes are synchronous `write(2)` calls of at most {@linkcode FLUSH_BYTES} into the page
 * cache: cheaper than an async op per flush (measured: the async open/write ops were a large
 * share of maestro's own per-task CPU), and backpressure is implicit — a producer cannot get
 * ahead of the file. The SHA-256 of the bytes is computed as they are written, so the
 * `task_complete` event's `log_hash` needs no second read of the file
 * (see {@linkcode fileHashSync}). Small logs (nearly all) are hashed by lib/sha256.ts; a log
 * that grows past {@linkcode NATIVE_HASH_AFTER} switches to `node:crypto` (≈ 5× faster, but
 * its import costs ≈ 45 ms, which a run of small tasks should not pay), re-reading the bytes
 * already written once.
 *
 * @module
 */
import { writeAllSync } from "../fs.ts";
import type { Masker } from "../security/mask.ts";
import { Sha256 } from "../sha256.ts";
import { rememberFileHash } from "./artifacts.ts";

/** Buffered text above this size is written out before more is accepted. */
const FLUSH_BYTES = 64 * 1024;
const DONE: Promise<void> = Promise.resolve();
/** A log larger than this is hashed by `node:crypto` from then on. */
export const NATIVE_HASH_AFTER = 1024 * 1024;

/** The part of `node:crypto`'s Hash used here. */
interface NativeHash {
  update(data: Uint8Array): unknown;
  digest(encoding: "hex"): string;
}
let nativeLoading: Promise<void> | undefined;
let createNativeHash: (() => NativeHash) | undefined;

/** Starts loading `node:crypto` once; until it is there, logs keep the TypeScript hash. */
function loadNativeHash(): void {
  nativeLoading ??= import("node:crypto").then(
    (crypto) => {
      createNativeHash = () => crypto.createHash("sha256");
    },
    () => {},
  );
}

/** An append-only text file with a write buffer. */
export class LogFile {
  /** Undefined until {@linkcode LogFile.open} (a log made by {@linkcode LogFile.createLater}). */
  #file: Deno.FsFile | undefined;
  #path: string;
  #pending: string[] = [];
  #pendingSize = 0;
  #encoder = new TextEncoder();
  #mask: Masker;
  #writeError: string | undefined;
  #hash = new Sha256();
  #native: NativeHash | undefined;
  #size = 0;
  #closed = false;

  private constructor(file: Deno.FsFile | undefined, path: string, mask: Masker) {
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

  /**
   * A log whose file is created (truncated) only when {@linkcode LogFile.open} is called, or at
   * the first write-out or close. Lines written before are kept in the buffer. Why: a task's
   * log is opened right after its process is started, while the process execs, so that the
   * file creation (0.03–0.5 ms on the benchmark machine's disk) is not on the path from one
   * task's end to the next one's start.
   */
  static createLater(path: string, mask: Masker = (t) => t): LogFile {
    return new LogFile(undefined, path, mask);
  }

  /** Creates (truncates) the file now, if it is not open yet (throws when it cannot). */
  open(): void {
    if (this.#file || this.#closed) return;
    this.#file = Deno.openSync(this.#path, { write: true, create: true, truncate: true });
  }

  /**
   * `text` with the log's secrets masked, for copies of the output kept elsewhere (tails):
   * masked whole, before any cut, so no part of a secret survives a cut through it.
   */
  masked(text: string): string {
    return this.#mask(text);
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

  #flush(): void {
    if (this.#pending.length === 0) return;
    const text = this.#pending.length === 1 ? this.#pending[0]! : this.#pending.join("");
    this.#pending = [];
    this.#pendingSize = 0;
    // after a failed write (disk full) the log stays as it is: the run goes on without it
    if (this.#writeError !== undefined) return;
    const bytes = this.#encoder.encode(text);
    try {
      this.open();
      writeAllSync(this.#file!, bytes);
    } catch (error) {
      this.#writeError = error instanceof Error ? error.message : String(error);
      return;
    }
    if (this.#native) this.#native.update(bytes);
    else this.#hash.update(bytes);
    this.#size += bytes.length;
    if (!this.#native && this.#size >= NATIVE_HASH_AFTER) this.#goNative();
  }

  /** Why the log could not be written to the end (disk full...), or undefined. */
  get writeError(): string | undefined {
    return this.#writeError;
  }

  /** Continues with the native hash when it is loaded: the bytes so far are read back once. */
  #goNative(): void {
    if (!createNativeHash) return loadNativeHash();
    const native = createNativeHash();
    let file: Deno.FsFile | undefined;
    try {
      file = Deno.openSync(this.#path, { read: true });
      const chunk = new Uint8Array(FLUSH_BYTES * 4);
      let left = this.#size;
      while (left > 0) {
        const n = file.readSync(chunk.subarray(0, Math.min(chunk.length, left)));
        if (n === null || n === 0) throw new Error(`${this.#path}: shorter than written`);
        native.update(chunk.subarray(0, n));
        left -= n;
      }
      this.#native = native;
    } catch {
      // the log cannot be read back (removed?): the TypeScript hash goes on
    } finally {
      file?.close();
    }
  }

  /** Whether the rest of the log is hashed by `node:crypto` (diagnostics, tests). */
  get hashedNatively(): boolean {
    return this.#native !== undefined;
  }

  /** Writes what is buffered and closes the file. */
  close(): Promise<void> {
    if (this.#closed) return DONE;
    try {
      this.open();
    } catch (error) {
      this.#writeError ??= error instanceof Error ? error.message : String(error);
    }
    this.#flush();
    this.#closed = true;
    try {
      this.#file?.close();
    } catch (error) {
      this.#writeError ??= error instanceof Error ? error.message : String(error);
    }
    // a short log is hashed from the file itself when an event needs it (fileHashSync)
    if (this.#writeError === undefined) {
      rememberFileHash(this.#path, this.#native?.digest("hex") ?? this.#hash.digest(), this.#size);
    }
    return DONE;
  }
}

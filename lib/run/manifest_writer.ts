/**
 * `run_manifest.json` without holding it in memory. Its two per-task sections (`task_results`,
 * `task_graph`) are written entry by entry; everything else comes from a skeleton manifest
 * whose two sections are `{}`. The bytes are exactly those of `JSON.stringify(manifest, null,
 * 2) + "\n"` (same keys, same order, same indentation), hashed as they are written, and land
 * atomically (temp file + rename).
 *
 * Results finish in completion order but the manifest lists them in plan order, so each
 * result's entry is appended to a spool file as the task finishes ({@linkcode ManifestSpool})
 * and copied from there, in plan order, at the end: memory holds two numbers per task instead
 * of the result objects and one string of the whole manifest.
 *
 * @module
 */
import { writeAllSync } from "../fs.ts";
import { Sha256 } from "../sha256.ts";
import {
  type ManifestInput,
  manifestSkeleton,
  type RunManifest,
  taskGraphEntry,
} from "./artifacts.ts";
import type { TaskFacts } from "./task_facts.ts";

const encoder = new TextEncoder();
/** Bytes buffered before one `write(2)`. */
const CHUNK = 256 * 1024;

/**
 * The order in which a JS object lists these keys: array-index keys (`"0"`, `"42"`) first in
 * ascending numeric order, then the others in insertion order. The manifest used to be built
 * with `Object.fromEntries`, so numeric task ids came first; streaming keeps that order.
 *
 * @returns positions into `keys`
 */
export function objectKeyOrder(keys: readonly string[]): number[] {
  const numeric: number[] = [];
  const named: number[] = [];
  for (const [i, key] of keys.entries()) {
    const isIndex = /^(?:0|[1-9][0-9]*)$/.test(key) && Number(key) < 2 ** 32 - 1;
    (isIndex ? numeric : named).push(i);
  }
  numeric.sort((a, b) => Number(keys[a]) - Number(keys[b]));
  return [...numeric, ...named];
}

/** One member of a streamed object as it appears at depth 2: `    "key": <value indented>`. */
export function streamedEntry(key: string, valueJson: string): string {
  // JSON.stringify escapes newlines inside strings, so every raw "\n" is indentation
  return `    ${JSON.stringify(key)}: ${valueJson.replaceAll("\n", "\n    ")}`;
}

/** Writes a file through a temp file, hashing the bytes; nothing is visible until commit. */
class AtomicWriter {
  #file: Deno.FsFile;
  #temp: string;
  #path: string;
  #hash = new Sha256();
  #buffer = new Uint8Array(CHUNK);
  #used = 0;
  size = 0;

  constructor(path: string) {
    this.#path = path;
    this.#temp = `${path}.tmp-${Deno.pid}-${Math.random().toString(36).slice(2, 8)}`;
    this.#file = Deno.openSync(this.#temp, { write: true, createNew: true });
  }

  write(data: string | Uint8Array): void {
    if (typeof data === "string") {
      // encode straight into the buffer: no short-lived array per entry
      const { read, written } = encoder.encodeInto(data, this.#buffer.subarray(this.#used));
      if (read === data.length) {
        this.#used += written;
        return;
      }
      data = encoder.encode(data); // did not fit: the rare slow path
    }
    const bytes = data;
    if (this.#used + bytes.length > this.#buffer.length) this.#flush();
    if (bytes.length >= this.#buffer.length) this.#writeAll(bytes);
    else {
      this.#buffer.set(bytes, this.#used);
      this.#used += bytes.length;
    }
  }

  #flush(): void {
    if (this.#used === 0) return;
    this.#writeAll(this.#buffer.subarray(0, this.#used));
    this.#used = 0;
  }

  #writeAll(bytes: Uint8Array): void {
    this.#hash.update(bytes);
    this.size += bytes.length;
    writeAllSync(this.#file, bytes);
  }

  commit(): string {
    this.#flush();
    this.#file.close();
    Deno.renameSync(this.#temp, this.#path);
    return this.#hash.digest();
  }

  abort(): void {
    try {
      this.#file.close();
    } catch { /* already closed */ }
    try {
      Deno.removeSync(this.#temp);
    } catch { /* already gone */ }
  }
}

/** A top-level member of the skeleton whose entries are streamed in. */
export interface StreamedSection {
  /** Its key in the skeleton (where the skeleton holds `{}`). */
  key: string;
  /** Its entries, in file order, each from {@linkcode streamedEntry} (string or UTF-8). */
  entries: Iterable<string | Uint8Array>;
}

/**
 * Writes `skeleton` as JSON (indent 2, trailing newline) atomically, with the entries of each
 * section streamed into the `{}` the skeleton holds for it.
 *
 * @param skeleton a JSON object; each section's key maps to `{}`, sections in key order
 * @returns the SHA-256 hex of the bytes written and their count
 */
export function writeStreamedJsonAtomic(
  path: string,
  skeleton: Record<string, unknown>,
  sections: readonly StreamedSection[],
): { hash: string; size: number } {
  const text = JSON.stringify(skeleton, null, 2) + "\n";
  const writer = new AtomicWriter(path);
  try {
    let from = 0;
    for (const section of sections) {
      // a raw newline + 2 spaces only occurs as indentation (strings escape "\n"), so this is
      // the top-level member, never text inside a value
      const marker = `\n  ${JSON.stringify(section.key)}: {}`;
      const at = text.indexOf(marker, from);
      if (at < 0) throw new Error(`manifest skeleton has no empty "${section.key}"`);
      writer.write(text.slice(from, at + marker.length - 1));
      let first = true;
      for (const entry of section.entries) {
        writer.write(first ? "\n" : ",\n");
        writer.write(entry);
        first = false;
      }
      writer.write(first ? "}" : "\n  }");
      from = at + marker.length;
    }
    writer.write(text.slice(from));
    const hash = writer.commit();
    return { hash, size: writer.size };
  } catch (error) {
    writer.abort();
    throw error;
  }
}

/**
 * Entries appended in any order (as tasks finish) and read back by task index. Only an offset
 * and a length stay in memory per task; the file is removed by {@linkcode ManifestSpool.close}.
 */
export class ManifestSpool {
  #file: Deno.FsFile;
  #path: string;
  #offset: Float64Array;
  #length: Uint32Array;
  #end = 0;
  /** One read buffer, reused: an entry is copied out before the next `get`. */
  #window = new Uint8Array(0);
  #windowStart = -1;
  #windowLength = 0;

  /**
   * @param path a file that does not exist yet (in the run directory: same disk, and a crashed
   *   run's leftover is found next to its other files)
   * @param count the number of tasks
   */
  constructor(path: string, count: number) {
    this.#path = path;
    this.#file = Deno.openSync(path, { read: true, write: true, createNew: true });
    this.#offset = new Float64Array(count).fill(-1);
    this.#length = new Uint32Array(count);
  }

  /** Appends the entry of task `index` (a later add for the same index replaces it). */
  add(index: number, entry: string): void {
    const bytes = encoder.encode(entry);
    this.#file.seekSync(this.#end, Deno.SeekMode.Start);
    writeAllSync(this.#file, bytes);
    this.#offset[index] = this.#end;
    this.#length[index] = bytes.length;
    this.#end += bytes.length;
  }

  /** Whether task `index` has an entry. */
  has(index: number): boolean {
    return this.#offset[index]! >= 0;
  }

  /**
   * The entry of task `index`. Reads go through a window of at least 1 MiB, so reading in
   * plan order what was written in nearly the same order costs one read per MiB. The bytes are
   * valid until the next call (the window is reused).
   */
  get(index: number): Uint8Array {
    const offset = this.#offset[index]!;
    if (offset < 0) throw new Error(`no spooled entry for task #${index}`);
    const length = this.#length[index]!;
    const start = this.#windowStart;
    if (start < 0 || offset < start || offset + length > start + this.#windowLength) {
      const size = Math.min(Math.max(length, 1024 * 1024), this.#end - offset);
      if (this.#window.length < size) this.#window = new Uint8Array(Math.max(size, 1024 * 1024));
      const window = this.#window.subarray(0, size);
      this.#file.seekSync(offset, Deno.SeekMode.Start);
      let read = 0;
      while (read < size) {
        const n = this.#file.readSync(window.subarray(read));
        if (n === null) throw new Error(`spool ${this.#path} ended early`);
        read += n;
      }
      this.#windowStart = offset;
      this.#windowLength = size;
    }
    const from = offset - this.#windowStart;
    return this.#window.subarray(from, from + length);
  }

  /** Closes and removes the spool file. */
  close(): void {
    try {
      this.#file.close();
    } catch { /* already closed */ }
    try {
      Deno.removeSync(this.#path);
    } catch { /* already gone */ }
  }
}

/**
 * Writes `run_manifest.json` from the spooled `task_results` entries and the plan's tasks,
 * byte for byte what `writeJsonAtomic(path, buildManifest(…))` wrote when every result was
 * kept in memory.
 *
 * @returns the manifest (its `task_results` and `task_graph` are read back from the file on
 *   first access, then kept) and the SHA-256 hex of the file
 */
export function writeStreamedManifest(
  path: string,
  input: Omit<ManifestInput, "results">,
  facts: TaskFacts,
  spool: ManifestSpool,
): { manifest: RunManifest; hash: string } {
  const manifest = manifestSkeleton(input, facts.totals());
  const tasks = input.plan.tasks;
  const order = objectKeyOrder(tasks.map((task) => task.id));
  function* results(): Generator<Uint8Array> {
    for (const i of order) if (spool.has(i)) yield spool.get(i);
  }
  function* graph(): Generator<string> {
    for (const i of order) {
      const task = tasks[i]!;
      yield streamedEntry(task.id, JSON.stringify(taskGraphEntry(task), null, 2));
    }
  }
  const { hash } = writeStreamedJsonAtomic(path, manifest as unknown as Record<string, unknown>, [
    { key: "task_results", entries: results() },
    { key: "task_graph", entries: graph() },
  ]);
  let loaded: Pick<RunManifest, "task_results" | "task_graph"> | undefined;
  const load = () => loaded ??= JSON.parse(Deno.readTextFileSync(path));
  // redefining existing keys keeps their place in the key order
  for (const key of ["task_results", "task_graph"] as const) {
    Object.defineProperty(manifest, key, {
      enumerable: true,
      configurable: true,
      get: () => load()[key],
    });
  }
  return { manifest, hash };
}

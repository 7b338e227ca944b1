/**
 * `inputs:` of a task: the files its globs match (relative to the task's workdir) and the
 * SHA-256 of their content, for the task's cache key.
 *
 * - Globs: `*`, `**`, `?`, `[…]`, `{a,b}` (Node's `fs.globSync`); `*` and `**` do not match
 *   names starting with a dot unless the pattern spells the dot (`.env`, `.config/**`).
 * - A pattern naming a folder without a glob character (`src`) means every file under it.
 * - `!pattern` excludes what it matches from the files the other patterns matched.
 * - `../` and absolute patterns work: the literal leading part is resolved first.
 * - Only files count (folders are walked, not hashed); a symlink counts as the file it points to.
 *
 * Hashes are memoised per file by size, mtime and inode, so a file is read once per run (and
 * again only when it changed). Glob results and hashes are trusted without looking at the disk
 * again until {@linkcode InputHasher.invalidate} (the run calls it whenever a task that really
 * ran finishes: it may have written files), so a run of cache hits stats each input once.
 *
 * @module
 */
// the only node: imports left in the run-time (globSync and matchesGlob have no Deno
// counterpart): lazy_input_hasher.ts loads this module for tasks that declare `inputs:`
import { type Dirent, globSync } from "node:fs";
import { matchesGlob } from "node:path";
import { isFile } from "../fs.ts";
import { isAbsolute, join, relative, resolve, sep } from "../path.ts";
import { Sha256, sha256Hex } from "../sha256.ts";

/** Above this many files, a task's inputs are keyed per pattern (one digest each). */
export const MAX_LISTED_INPUTS = 2000;

const GLOB_CHARS = /[*?[\]{}]/;

/** The literal leading folders of a pattern, and the glob part after them. */
function splitPattern(workdir: string, pattern: string): { base: string; rest: string } {
  const parts = pattern.split("/");
  let i = 0;
  while (i < parts.length - 1 && !GLOB_CHARS.test(parts[i]!)) i++;
  if (i === parts.length - 1 && !GLOB_CHARS.test(parts[i]!)) i = parts.length;
  const literal = parts.slice(0, i).join("/");
  const base = literal === ""
    ? (pattern.startsWith("/") ? "/" : workdir)
    : isAbsolute(literal)
    ? literal
    : resolve(workdir, literal);
  return { base, rest: parts.slice(i).join("/") };
}

function walkFiles(folder: string): string[] {
  // every file under a folder, dot files included (the folder was named explicitly)
  const found = globSync("**/*", { cwd: folder, withFileTypes: true }) as unknown as Dirent[];
  const dotted = globSync("**/.*", { cwd: folder, withFileTypes: true }) as unknown as Dirent[];
  const files = new Set<string>();
  for (const entry of [...found, ...dotted]) {
    const path = join(entry.parentPath, entry.name);
    if (entry.isFile() || (entry.isSymbolicLink() && isFile(path))) files.add(path);
  }
  return [...files];
}

/** Absolute paths of the files one (positive) pattern matches. */
function matchPattern(workdir: string, pattern: string): string[] {
  const { base, rest } = splitPattern(workdir, pattern);
  if (rest === "") {
    try {
      const info = Deno.statSync(base);
      if (info.isFile) return [base];
      if (info.isDirectory) return walkFiles(base);
    } catch { /* no such file: matches nothing */ }
    return [];
  }
  let entries: Dirent[];
  try {
    entries = globSync(rest, { cwd: base, withFileTypes: true }) as unknown as Dirent[];
  } catch {
    return [];
  }
  const files: string[] = [];
  for (const entry of entries) {
    const path = join(entry.parentPath, entry.name);
    if (entry.isFile() || (entry.isSymbolicLink() && isFile(path))) files.push(path);
  }
  return files;
}

/** A path as shown in keys: relative to the workdir, `/`-separated. */
function shown(workdir: string, path: string): string {
  const rel = relative(workdir, path);
  return sep === "/" ? rel : rel.split(sep).join("/");
}

/** Hashes `inputs:` files, memoising file hashes (by stat) and glob results (per run phase). */
export class InputHasher {
  #globs = new Map<string, string[]>();
  #hashes = new Map<string, { size: number; mtime: number; ino: number | null; hash: string }>();
  /** Hashes trusted without a stat until the next invalidate() (no task ran since). */
  #settled = new Map<string, string | null>();

  /** Forgets glob results and settled hashes: files may have changed (a task ran). */
  invalidate(): void {
    this.#globs.clear();
    this.#settled.clear();
  }

  /**
   * The files a task's `inputs:` match, sorted, as paths relative to the workdir.
   *
   * @param workdir the task's absolute workdir
   * @param patterns its `inputs:`
   */
  files(workdir: string, patterns: readonly string[]): string[] {
    const memo = `${workdir}\0${patterns.join("\0")}`;
    const known = this.#globs.get(memo);
    if (known) return known;
    const matched = new Set<string>();
    for (const pattern of patterns) {
      if (pattern.startsWith("!")) continue;
      for (const path of matchPattern(workdir, pattern)) matched.add(shown(workdir, path));
    }
    const excludes = patterns.filter((p) => p.startsWith("!")).map((p) => p.slice(1));
    const files = [...matched]
      .filter((path) => !excludes.some((exclude) => matchesGlob(path, exclude)))
      .sort();
    this.#globs.set(memo, files);
    return files;
  }

  async #hash(path: string): Promise<string | null> {
    const settled = this.#settled.get(path);
    if (settled !== undefined) return settled;
    const hash = await this.#statAndHash(path);
    this.#settled.set(path, hash);
    return hash;
  }

  async #statAndHash(path: string): Promise<string | null> {
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(path);
    } catch {
      return null;
    }
    const mtime = info.mtime?.getTime() ?? -1;
    const known = this.#hashes.get(path);
    if (known && known.size === info.size && known.mtime === mtime && known.ino === info.ino) {
      return known.hash;
    }
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(path);
    } catch {
      return null;
    }
    const hash = sha256Hex(bytes);
    this.#hashes.set(path, { size: info.size, mtime, ino: info.ino, hash });
    return hash;
  }

  /**
   * The `inputs` component of a key: relative path → SHA-256 of the content (a file that
   * vanished between the glob and the read counts as `missing`). Above
   * {@linkcode MAX_LISTED_INPUTS} files, one digest per pattern instead (`glob:<pattern>`).
   *
   * @param workdir the task's absolute workdir
   * @param patterns its `inputs:`
   */
  async hashInputs(workdir: string, patterns: readonly string[]): Promise<Record<string, string>> {
    const files = this.files(workdir, patterns);
    const hashes = await Promise.all(files.map((file) => this.#hash(resolve(workdir, file))));
    const listed: Record<string, string> = {};
    files.forEach((file, i) => listed[file] = hashes[i] ?? "missing");
    if (files.length <= MAX_LISTED_INPUTS) return listed;
    const perPattern: Record<string, string> = {};
    for (const pattern of patterns.filter((p) => !p.startsWith("!"))) {
      const own = this.files(workdir, [pattern, ...patterns.filter((p) => p.startsWith("!"))]);
      const digest = new Sha256();
      for (const file of own) digest.update(`${file}\0${listed[file]}\n`);
      perPattern[`glob:${pattern}`] = digest.digest();
    }
    return perPattern;
  }
}

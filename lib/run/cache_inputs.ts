/**
 * `inputs:` of a task: the files its globs match (relative to the task's workdir) and the
 * SHA-256 of their content, for the task's cache key.
 *
 * - Globs: `*`, `**`, `?`, `[…]`, `{a,b}` (Node's `fs.globSync`); `*` and `**` do not match
 *   names starting with a dot unless the pattern spells the dot (`.env`, `.config/**`).
 * - A pattern naming a folder without a glob character (`src`) means every file under it, dot
 *   files and dot folders too, except `.git`, `.maestro` and `.maestro-runs` below it.
 * - `!pattern` excludes what it matches from the files the other patterns matched; it is read
 *   like an inclusion (`./`, a trailing `/`, `../`, absolute paths, a folder: all under it).
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
import { join, relative, resolve, sep } from "../path.ts";
import { Sha256, sha256Hex } from "../sha256.ts";
import { splitGlob } from "../glob_split.ts";

/** Above this many files, a task's inputs are keyed per pattern (one digest each). */
export const MAX_LISTED_INPUTS = 2000;

/**
 * Sub-folders a folder walk does not enter: git's own data and maestro's store and run
 * directories change on every commit or run, so keying them would make `inputs: [.]` miss
 * every time (and the run would key the files it is writing). Naming one (`.git`) walks it.
 */
const UNWALKED_FOLDERS: ReadonlySet<string> = new Set([".git", ".maestro", ".maestro-runs"]);

/** Whether an entry is a file, or a symlink to one (a symlink counts as what it points to). */
function isFileEntry(path: string, entry: Deno.DirEntry): boolean {
  return entry.isFile || (entry.isSymlink && isFile(path));
}

/** A folder's entries; an unreadable folder has none (as for globSync). */
function readEntries(folder: string): Deno.DirEntry[] {
  try {
    return [...Deno.readDirSync(folder)];
  } catch {
    return [];
  }
}

/**
 * Every file under a folder, dot files and dot folders included (the folder was named, so
 * the glob rule about dots does not apply), except {@linkcode UNWALKED_FOLDERS}. One
 * readDir per folder: `**` globs cannot enter dot folders, and a second glob per dot folder
 * would list some folders twice. A symlinked folder contributes the files directly in it and
 * is not entered further, as `**` treats it, so a link cycle cannot loop.
 */
function walkFiles(folder: string): string[] {
  const files: string[] = [];
  const pending = [folder];
  for (let dir = pending.pop(); dir !== undefined; dir = pending.pop()) {
    for (const entry of readEntries(dir)) {
      const path = join(dir, entry.name);
      if (entry.isDirectory) {
        if (!UNWALKED_FOLDERS.has(entry.name)) pending.push(path);
      } else if (isFileEntry(path, entry)) {
        files.push(path);
      } else if (entry.isSymlink && !UNWALKED_FOLDERS.has(entry.name)) {
        for (const inner of readEntries(path)) {
          const innerPath = join(path, inner.name);
          if (isFileEntry(innerPath, inner)) files.push(innerPath);
        }
      }
    }
  }
  return files;
}

/** Absolute paths of the files one (positive) pattern matches. */
function matchPattern(workdir: string, pattern: string): string[] {
  const { base, rest } = splitGlob(workdir, pattern);
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

/** Whether a shown path is `folder` or under it (`""` is the workdir itself). */
function isUnder(path: string, folder: string): boolean {
  if (folder === "") return path !== ".." && !path.startsWith("../");
  return path === folder || path.startsWith(`${folder}/`);
}

/**
 * What an exclusion (`!` already removed) matches among shown paths. Its literal part is
 * resolved like an inclusion's, so `./src/a.c`, `src/gen/`, `../x` and absolute paths name the
 * shown paths they mean (globbing them as written would never match); without glob characters
 * it names a file or a folder, i.e. everything under it.
 *
 * @param workdir the task's absolute workdir
 * @param exclude the pattern after its `!`
 */
export function exclusionMatcher(workdir: string, exclude: string): (path: string) => boolean {
  const { base, rest } = splitGlob(workdir, exclude);
  const literal = shown(workdir, base);
  if (rest === "") return (path) => isUnder(path, literal);
  const glob = literal === "" ? rest : `${literal}/${rest}`;
  return (path) => matchesGlob(path, glob);
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
    const excludes = patterns.filter((p) => p.startsWith("!"))
      .map((p) => exclusionMatcher(workdir, p.slice(1)));
    const files = [...matched].filter((path) => !excludes.some((excluded) => excluded(path)))
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

/**
 * Where a glob starts: its literal leading folders, resolved, and the glob part after them.
 * Walks and globbing libraries only go down from a folder, so `../src/*.ts` and absolute globs
 * match only when the walk starts at the folder they name. Shared by `inputs:` (the cache)
 * and the `glob_exists` assertion.
 *
 * @module
 */
import { isAbsolute, resolve } from "./path.ts";

/** Characters that make a path segment a glob. */
export const GLOB_CHARS: RegExp = /[*?[\]{}]/;

/**
 * Splits a glob into its literal leading folders, resolved against `workdir` (`base`), as
 * written (`literal`, to show matches the way the glob spells them), and the glob part after
 * them (`rest`: empty when the glob has no glob character). The walk then starts at `base`,
 * which is how `../` and absolute globs can match: the walk itself only goes down.
 *
 * @param workdir the task's absolute working directory
 * @param glob the glob as written
 */
export function splitGlob(
  workdir: string,
  glob: string,
): { base: string; literal: string; rest: string } {
  const pattern = glob.replace(/^(\.\/)+/, "");
  const parts = pattern.split("/");
  let i = 0;
  while (i < parts.length - 1 && !GLOB_CHARS.test(parts[i]!)) i++;
  if (i === parts.length - 1 && !GLOB_CHARS.test(parts[i]!)) i = parts.length;
  const literal = parts.slice(0, i).join("/") || (pattern.startsWith("/") ? "/" : "");
  const base = literal === "" ? workdir : isAbsolute(literal) ? literal : resolve(workdir, literal);
  return { base, literal, rest: parts.slice(i).join("/") };
}

/**
 * The few file-system questions the plan front end asks, on Deno's own APIs: importing
 * `node:fs` costs about 50 ms of start-up in Deno 2.9, which `maestro validate` cannot afford.
 *
 * @module
 */

/** True when something exists at `path`. */
export function pathExists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** True when `path` is an existing directory. */
export function isDirectory(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

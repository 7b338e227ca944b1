/**
 * Cache log files: a hit puts the stored log into the run directory as a hard link (the same
 * file, no byte copied), or as a copy when the store's folder is on another file system.
 *
 * @module
 */

/**
 * Puts the file `from` at `to`: a hard link, else (another file system, no link support) a
 * copy. An existing `to` is left as it is (content-addressed files never change).
 *
 * @param from an existing file
 * @param to the new path
 */
export function linkOrCopy(from: string, to: string): void {
  try {
    Deno.linkSync(from, to);
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) return;
    if (error instanceof Deno.errors.NotFound) throw error;
    Deno.copyFileSync(from, to);
  }
}

/** {@linkcode linkOrCopy} without blocking the event loop (a file system op off the JS thread). */
export async function linkOrCopyAsync(from: string, to: string): Promise<void> {
  try {
    await Deno.link(from, to);
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) return;
    if (error instanceof Deno.errors.NotFound) throw error;
    await Deno.copyFile(from, to);
  }
}

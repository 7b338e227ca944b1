/**
 * The few file-system questions the plan front end asks, on Deno's own APIs: importing
 * `node:fs` costs about 50 ms of start-up in Deno 2.9, which `maestro validate` cannot afford.
 *
 * @module
 */

/**
 * Writes all of `bytes` with synchronous writes (a write may take only part of them).
 *
 * @param target a file, or stdout
 * @param bytes what to write
 */
export function writeAllSync(
  target: { writeSync(p: Uint8Array): number },
  bytes: Uint8Array,
): void {
  let written = 0;
  while (written < bytes.length) written += target.writeSync(bytes.subarray(written));
}

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

/** True when `path` is an existing regular file (symbolic links followed). */
export function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/**
 * Orders strings by Unicode code point, as the UTF-8 bytes of file names sort. (`<` compares
 * UTF-16 code units, which puts characters above U+FFFF before U+E000–U+FFFF.)
 */
export function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // surrogates (0xD800–0xDFFF) encode code points above 0xFFFF: move them past 0xFFFF
    if (x >= 0xd800) x += x < 0xe000 ? 0x2000 : -0x800;
    if (y >= 0xd800) y += y < 0xe000 ? 0x2000 : -0x800;
    return x - y;
  }
  return a.length - b.length;
}

/**
 * The names in directory `path`, sorted by code point as `node:fs`'s `readdirSync` returned
 * them (`Deno.readDirSync` gives directory order). Throws what `Deno.readDirSync` throws.
 */
export function readDirNamesSync(path: string): string[] {
  const names: string[] = [];
  for (const entry of Deno.readDirSync(path)) names.push(entry.name);
  return names.sort(compareCodePoints);
}

/** {@linkcode readDirNamesSync}, asynchronous (as `node:fs/promises`'s `readdir`). */
export async function readDirNames(path: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(path)) names.push(entry.name);
  return names.sort(compareCodePoints);
}

/**
 * Engine CLI versions remembered on this machine, so that keying a task for the cache costs a
 * `stat` instead of `<cli> --version` (a node CLI: 80 ms to a second) or a store query (which
 * loads libSQL, ≈ 70 ms, before the first task could start).
 *
 * One small JSON file in the user cache folder (`~/.cache/maestro/engine-versions.json`, or
 * `$MAESTRO_CACHE_DIR`/`$XDG_CACHE_HOME/maestro`), keyed by the binary's real path, trusted
 * while the file's fingerprint is unchanged: size, mtime, ctime and inode. The ctime and inode
 * matter: npm writes every package file with the same fixed mtime, so an upgrade can keep the
 * launcher's size and mtime, but reinstalling gives it a new inode and change time.
 *
 * @module
 */
import { dirname, join } from "../path.ts";
import { userCacheDir } from "../run/c_program.ts";

/** Entries kept (the most recently probed). */
const MAX_ENTRIES = 64;

interface Entry {
  fingerprint: string;
  version: string | null;
  probed_at: string;
}

/** The memo file for an environment: in the user cache folder the spawn helper also uses. */
export function versionMemoPath(env: Readonly<Record<string, string | undefined>>): string {
  return join(userCacheDir(env), "engine-versions.json");
}

/** The binary's real path and fingerprint, or undefined when it cannot be read. */
export function binaryFingerprint(path: string): { real: string; fingerprint: string } | undefined {
  try {
    const real = Deno.realPathSync(path);
    const info = Deno.statSync(real);
    const ms = (d: Date | null) => d?.getTime() ?? -1;
    return {
      real,
      fingerprint: `${info.size}:${ms(info.mtime)}:${ms(info.ctime)}:${info.ino ?? -1}`,
    };
  } catch {
    return undefined;
  }
}

function readEntries(file: string): Record<string, Entry> {
  try {
    const data = JSON.parse(Deno.readTextFileSync(file));
    return data && typeof data === "object" && !Array.isArray(data) ? data : {};
  } catch {
    return {};
  }
}

/**
 * The remembered version of the binary at `real` with this fingerprint: a string, null (the
 * binary had no readable version), or undefined (not remembered).
 */
export function rememberedVersion(
  file: string,
  binary: { real: string; fingerprint: string },
): string | null | undefined {
  const entry = readEntries(file)[binary.real];
  if (!entry || entry.fingerprint !== binary.fingerprint) return undefined;
  return typeof entry.version === "string" || entry.version === null ? entry.version : undefined;
}

/** Remembers a probed version (atomically; a failure to write only costs a later probe). */
export function rememberVersion(
  file: string,
  binary: { real: string; fingerprint: string },
  version: string | null,
): void {
  const entries = readEntries(file);
  entries[binary.real] = {
    fingerprint: binary.fingerprint,
    version,
    probed_at: new Date().toISOString(),
  };
  const kept = Object.entries(entries)
    .sort((a, b) => String(b[1].probed_at).localeCompare(String(a[1].probed_at)))
    .slice(0, MAX_ENTRIES);
  const temp = `${file}.${Deno.pid}-${crypto.randomUUID().slice(0, 8)}.tmp`;
  try {
    Deno.mkdirSync(dirname(file), { recursive: true });
    Deno.writeTextFileSync(temp, JSON.stringify(Object.fromEntries(kept), null, 1) + "\n");
    Deno.renameSync(temp, file);
  } catch {
    try {
      Deno.removeSync(temp);
    } catch { /* never written */ }
  }
}

/**
 * Small C programs that maestro compiles once per machine with the system's `cc` and keeps in
 * its cache folder: the spawn helper (spawn_helper.ts) and the spawn server (spawn_server.ts).
 * Each file name carries a hash of the source and the compiler flags, so a new version is
 * built beside the old one, and a half-built file is never used (compile, self-test, rename).
 *
 * @module
 */
import { join } from "../path.ts";
import { Sha256 } from "../sha256.ts";

/** Maestro's per-user cache folder: `$MAESTRO_CACHE_DIR`, `$XDG_CACHE_HOME/maestro`, `~/.cache/maestro`. */
export function userCacheDir(env: Readonly<Record<string, string | undefined>>): string {
  if (env.MAESTRO_CACHE_DIR) return env.MAESTRO_CACHE_DIR;
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, "maestro");
  return join(env.HOME ?? "/tmp", ".cache", "maestro");
}

/** One program: its name, C source, flags, and how to prove a fresh build works. */
export interface CProgram {
  /** File name prefix, e.g. `maestro-spawn`. */
  name: string;
  /** The whole C source. */
  source: string;
  /** `cc` flags (the output and source are added). */
  flags: readonly string[];
  /** Runs the freshly built file at `path`; resolves to why it is broken, or undefined. */
  selfTest: (path: string) => Promise<string | undefined>;
}

/** A built program's path, or why there is none. */
export type CProgramBuild = { path: string } | { unavailable: string };

/** Where `program` lives for its source version under `cacheDir`. */
export function cProgramPath(cacheDir: string, program: CProgram): string {
  const hash = new Sha256().update(program.source).update(program.flags.join(" ")).digest()
    .slice(0, 12);
  return join(cacheDir, "bin", `${program.name}-${hash}`);
}

function isExecutable(path: string): boolean {
  try {
    const info = Deno.statSync(path);
    return info.isFile && ((info.mode ?? 0) & 0o111) !== 0;
  } catch {
    return false;
  }
}

/**
 * Finds `program` in the cache, compiling it on first use. Never throws: every failure is an
 * `unavailable` reason. Only Linux x86-64 is supported (the spawn helper uses raw system calls).
 */
export async function ensureCProgram(
  program: CProgram,
  env: Readonly<Record<string, string | undefined>>,
): Promise<CProgramBuild> {
  if (Deno.build.os !== "linux" || Deno.build.arch !== "x86_64") {
    return { unavailable: `no ${program.name} for ${Deno.build.os}/${Deno.build.arch}` };
  }
  const path = cProgramPath(userCacheDir(env), program);
  if (isExecutable(path)) return { path };
  const dir = join(path, "..");
  // unique per caller: workers of one process (deno test --parallel) share the pid
  const unique = `${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  const source = `${path}.${unique}.c`;
  const output = `${path}.${unique}.tmp`;
  try {
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(source, program.source);
    const cc = env.CC || "cc";
    const result = await new Deno.Command(cc, {
      args: [...program.flags, "-o", output, source],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!result.success) {
      const why = new TextDecoder().decode(result.stderr).trim().split("\n")[0] ?? "";
      return { unavailable: `${cc} failed: ${why}` };
    }
    // Prove it works before trusting it with every task.
    const broken = await program.selfTest(output);
    if (broken !== undefined) return { unavailable: `self-test failed (${broken})` };
    // rename is atomic: concurrent runs each compile and the last rename wins, harmlessly
    await Deno.rename(output, path);
    return { path };
  } catch (error) {
    return { unavailable: error instanceof Error ? error.message : String(error) };
  } finally {
    await Deno.remove(source).catch(() => {});
    await Deno.remove(output).catch(() => {});
  }
}

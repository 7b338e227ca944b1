/**
 * Small helpers shared by tests: temp folders with plan files, and running the real CLI.
 *
 * @module
 */
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";

/** Absolute path of the repository root. */
export const ROOT: string = resolve(import.meta.dirname!, "..");

/** Absolute path of the reference tool's example plans (read-only). */
export const REFERENCE_PLANS: string = resolve(ROOT, "../shared/reference/plans");

/**
 * Whether the reference plans are there (CI clones the repository with shared/ beside it; a
 * clone on its own does not have them, and the tests that read them are then ignored, visibly).
 */
export const HAS_REFERENCE_PLANS: boolean = existsSync(REFERENCE_PLANS);

const leftovers: string[] = [];

/**
 * Removes `path` (recursively) when the test module ends (its `unload` event), so test runs do
 * not pile folders up in the temp dir.
 *
 * @returns `path`
 */
export function removeAtExit(path: string): string {
  if (leftovers.length === 0) {
    addEventListener("unload", () => {
      for (const dir of leftovers.splice(0)) {
        try {
          Deno.removeSync(dir, { recursive: true });
        } catch { /* already gone */ }
      }
    });
  }
  leftovers.push(path);
  return path;
}

/** `Deno.makeTempDir({ prefix })`, removed when the test module ends. */
export async function scratchDir(prefix: string): Promise<string> {
  return removeAtExit(await Deno.makeTempDir({ prefix }));
}

/**
 * Creates a temp folder holding the given files (path relative to the folder → content).
 *
 * @returns the folder's absolute path
 */
export function tempPlanDir(files: Record<string, string>): string {
  const dir = removeAtExit(mkdtempSync(join(tmpdir(), "maestro-test-")));
  for (const [name, content] of Object.entries(files)) {
    const path = join(dir, name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
  }
  return dir;
}

/** What a CLI run printed and returned. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `maestro <args>` as a real subprocess (deno run cli.ts).
 *
 * @param args CLI arguments
 * @param options working directory, extra environment variables; `clearEnv`: the child gets
 *   only `env` (plus NO_COLOR, MAESTRO_DB_URL and the test's DENO_DIR, which an isolated HOME
 *   would otherwise hide)
 */
export async function runCli(
  args: readonly string[],
  options: { cwd?: string; env?: Record<string, string>; clearEnv?: boolean } = {},
): Promise<CliResult> {
  const denoDir = Deno.env.get("DENO_DIR") ?? join(Deno.env.get("HOME") ?? "/root", ".cache/deno");
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-prompt", join(ROOT, "cli.ts"), ...args],
    cwd: options.cwd ?? ROOT,
    clearEnv: options.clearEnv === true,
    // an empty MAESTRO_DB_URL counts as unset: a developer's own store never gets test runs
    env: {
      NO_COLOR: "1",
      MAESTRO_DB_URL: "",
      ...(options.clearEnv ? { DENO_DIR: denoDir } : {}),
      ...options.env,
    },
    // never a terminal: approval prompts are denied, as in CI
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

/** Live (non-zombie) processes whose command line or environment contains this marker. */
export function processesWith(marker: string): number[] {
  const found: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name) || Number(entry.name) === Deno.pid) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) continue;
      const cmdline = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`);
      const environ = Deno.readTextFileSync(`/proc/${entry.name}/environ`);
      if (cmdline.includes(marker) || environ.includes(marker)) found.push(Number(entry.name));
    } catch { /* gone */ }
  }
  return found;
}

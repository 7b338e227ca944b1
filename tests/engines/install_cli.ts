/**
 * Installs a pinned npm CLI once into `$HOME/.cache/maestro-test-clis/<pkg>@<version>` for the
 * real-CLI tests (skipped when already there). Returns the binary path, or why it could not.
 *
 * @module
 */

/** Where a CLI is, or why it is not. */
export type CliInstall = { bin: string } | { skip: string };

/** The cache folder of a pinned package. */
export function cliCacheDir(pkg: string, version: string): string {
  const home = Deno.env.get("HOME") ?? "/tmp";
  return `${home}/.cache/maestro-test-clis/${pkg.replace(/^@/, "").replace("/", "__")}@${version}`;
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Installs `pkg@version` with npm (about 12 s / 235 MB for claude, 22 s / 404 MB for codex
 * here) into a temp folder renamed into place, so a killed install never looks complete.
 */
export async function installCli(pkg: string, version: string, bin: string): Promise<CliInstall> {
  const dir = cliCacheDir(pkg, version);
  const binPath = `${dir}/node_modules/.bin/${bin}`;
  if (exists(binPath)) return { bin: binPath };
  // unique per caller: test files running in parallel share the pid
  const tmp = `${dir}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  await Deno.mkdir(tmp, { recursive: true });
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command("npm", {
      args: ["install", "--no-audit", "--no-fund", "--prefix", tmp, `${pkg}@${version}`],
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (e) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    return { skip: `npm is not available (${(e as Error).message}); cannot install ${pkg}` };
  }
  if (!out.success || !exists(`${tmp}/node_modules/.bin/${bin}`)) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    const err = new TextDecoder().decode(out.stderr).slice(-500);
    return { skip: `npm install ${pkg}@${version} failed: ${err}` };
  }
  // another test file may have finished the same install first: keep its copy
  await Deno.rename(tmp, dir).catch(() => Deno.remove(tmp, { recursive: true }).catch(() => {}));
  return exists(binPath) ? { bin: binPath } : { skip: `install of ${pkg} left no ${bin}` };
}

/** The engine CLIs the tests drive, at the versions engine-clis.md measured (one place to bump). */
export const PINNED_CLIS = {
  claude: { pkg: "@anthropic-ai/claude-code", version: "2.1.197", bin: "claude" },
  codex: { pkg: "@openai/codex", version: "0.169.0", bin: "codex" },
  gemini: { pkg: "@google/gemini-cli", version: "0.61.0", bin: "gemini" },
  qwen: { pkg: "@qwen-code/qwen-code", version: "0.15.10", bin: "qwen" },
  copilot: { pkg: "@github/copilot", version: "1.0.102", bin: "copilot" },
} as const;

/** Installs one of {@linkcode PINNED_CLIS} (see {@linkcode installCli}). */
export function installPinned(name: keyof typeof PINNED_CLIS): Promise<CliInstall> {
  const { pkg, version, bin } = PINNED_CLIS[name];
  return installCli(pkg, version, bin);
}

/**
 * The `~/.gemini/settings.json` a test HOME needs for a custom base URL (engine-clis.md §3):
 * API-key auth (with only GOOGLE_GEMINI_BASE_URL set, gemini-cli picks the "gateway" auth type
 * and rejects it, rc 41) and one attempt per call (the default, 10 attempts from 5 s, makes a
 * 500 take minutes).
 */
export const GEMINI_TEST_SETTINGS = {
  security: { auth: { selectedType: "gemini-api-key" } },
  general: { maxAttempts: 1 },
};

/** The `~/.qwen/settings.json` a test HOME needs so failing calls are not retried for minutes. */
export const QWEN_TEST_SETTINGS = { model: { generationConfig: { maxRetries: 0 } } };

/** Writes {@linkcode GEMINI_TEST_SETTINGS} and {@linkcode QWEN_TEST_SETTINGS} into `home`. */
export async function writeCliTestSettings(home: string): Promise<void> {
  await Deno.mkdir(`${home}/.gemini`, { recursive: true });
  await Deno.mkdir(`${home}/.qwen`, { recursive: true });
  await Deno.writeTextFile(`${home}/.gemini/settings.json`, JSON.stringify(GEMINI_TEST_SETTINGS));
  await Deno.writeTextFile(`${home}/.qwen/settings.json`, JSON.stringify(QWEN_TEST_SETTINGS));
}

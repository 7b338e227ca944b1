/**
 * What a task's process gets: its argv (a string runs through `sh -c`, a list runs directly,
 * `shell:` overrides) and its environment (an allowlist of maestro's own environment, then the
 * task's env, which the IR has already merged over `defaults.env`).
 *
 * @module
 */
import { directCommand } from "./process.ts";

/** Parent variables every task gets: the system part of seed-behaviour §7, plus TMPDIR. */
export const SYSTEM_ENV: readonly string[] = [
  "PATH",
  "HOME",
  "USER",
  "LOGNAME",
  "SHELL",
  "LANG",
  "LC_ALL",
  "TERM",
  "TMPDIR",
  "SYSTEMROOT",
  "COMSPEC",
  "PATHEXT",
  "USERPROFILE",
  "APPDATA",
  "LOCALAPPDATA",
  "PYTHONUTF8",
  "PYTHONIOENCODING",
];

/**
 * Provider variables of seed-behaviour §7. Shell tasks get them (a command may call `gh` or an
 * engine CLI itself); an engine task gets none of them from here: its adapter copies its own
 * provider's variables from maestro's environment, so one engine never sees another's keys.
 */
export const PROVIDER_ENV: readonly string[] = [
  "GEMINI_API_KEY",
  "GOOGLE_API_KEY",
  "GOOGLE_APPLICATION_CREDENTIALS",
  "GOOGLE_CLOUD_PROJECT",
  "GOOGLE_CLOUD_LOCATION",
  "GOOGLE_GENAI_USE_VERTEXAI",
  "COPILOT_GITHUB_TOKEN",
  "COPILOT_MODEL",
  "COPILOT_ALLOW_ALL",
  "GH_TOKEN",
  "GITHUB_TOKEN",
  "DASHSCOPE_API_KEY",
  "OLLAMA_HOST",
  "LLAMA_MODEL_DIR",
];

/** What a shell task gets from maestro's environment (seed-behaviour §7, plus TMPDIR). */
export const ENV_ALLOWLIST: readonly string[] = [...SYSTEM_ENV, ...PROVIDER_ENV];

/** Variables maestro adds so a process (and a later resume) can tell which run it belongs to. */
export interface RunIdentity {
  runId: string;
  taskId: string;
  planName: string;
}

/**
 * The full environment of a task's processes.
 *
 * @param parent maestro's own environment
 * @param taskEnv the task's env (defaults.env already merged)
 * @param identity run and task ids, exported as MAESTRO_RUN_ID / MAESTRO_TASK_ID / MAESTRO_PLAN
 * @param allowlist what is taken from `parent`: {@linkcode ENV_ALLOWLIST} for a shell task,
 *   {@linkcode SYSTEM_ENV} for an engine task (its adapter adds its provider's variables)
 */
export function taskEnvironment(
  parent: Readonly<Record<string, string>>,
  taskEnv: Readonly<Record<string, string>>,
  identity: RunIdentity,
  allowlist: readonly string[] = ENV_ALLOWLIST,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of allowlist) {
    const value = parent[name];
    if (value !== undefined) env[name] = value;
  }
  Object.assign(env, taskEnv);
  env.MAESTRO_RUN_ID = identity.runId;
  env.MAESTRO_TASK_ID = identity.taskId;
  env.MAESTRO_PLAN = identity.planName;
  return env;
}

/**
 * `env` without the {@linkcode PROVIDER_ENV} variables it holds with maestro's own values: what
 * a side call (judge, LLM context mode) made for a shell task passes to its engine, whose
 * adapter adds its own provider's variables.
 */
export function withoutParentProviders(
  env: Readonly<Record<string, string>>,
  parent: Readonly<Record<string, string>>,
): Record<string, string> {
  const out = { ...env };
  for (const name of PROVIDER_ENV) {
    if (out[name] !== undefined && out[name] === parent[name]) delete out[name];
  }
  return out;
}

/** Splits a command line into words the way a POSIX shell would for simple quoting. */
export function splitWords(text: string): string[] {
  const words: string[] = [];
  const pattern = /"((?:\\.|[^"\\])*)"|'([^']*)'|((?:\\.|[^\s"'\\])+)|(\s+)/g;
  let current: string | undefined;
  for (const match of text.matchAll(pattern)) {
    if (match[4] !== undefined) {
      if (current !== undefined) words.push(current);
      current = undefined;
      continue;
    }
    const piece = match[1] !== undefined
      ? match[1].replace(/\\(["\\$`])/g, "$1")
      : match[2] ?? match[3]!.replace(/\\(.)/g, "$1");
    current = (current ?? "") + piece;
  }
  if (current !== undefined) words.push(current);
  return words;
}

/** Quotes one word for display as a shell command. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * The argv for a command.
 *
 * @param command a string (shell) or a list (direct exec)
 * @param shell explicit override: true runs a list through the shell, false splits a string
 */
export function commandArgv(command: string | string[], shell?: boolean): string[] {
  if (typeof command === "string") {
    return shell === false ? splitWords(command) : ["sh", "-c", command];
  }
  return shell === true ? ["sh", "-c", command.map(shellQuote).join(" ")] : [...command];
}

/** A command as one display line (the `command=` log header, the result's `command`). */
export function commandText(command: string | string[]): string {
  return typeof command === "string" ? command : command.map(shellQuote).join(" ");
}

/**
 * What a task step execs: the argv and env after choosing between a direct exec
 * ({@linkcode directCommand}) and `commandArgv` (`sh -c` for a string, a list as is). Used by
 * the run and by `--dry-run`, so a dry run shows exactly the argv a run would exec (inside
 * maestro's isolation wrapper: the spawn helper or `setpriv … setsid`, which is the same for every task).
 *
 * @param command the rendered command
 * @param shell the task's `shell:` override
 * @param env the child's complete environment
 * @param cwd the child's working directory
 */
export function commandInvocation(
  command: string | string[],
  shell: boolean | undefined,
  env: Record<string, string>,
  cwd: string,
): { argv: string[]; env: Record<string, string> } {
  const direct = typeof command === "string" && shell !== false
    ? directCommand(command, env, cwd)
    : undefined;
  return direct ?? { argv: commandArgv(command, shell), env };
}

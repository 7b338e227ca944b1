/**
 * Shared by the engine e2e tests: runs `maestro run plan.yaml` (the real CLI, `cli.ts`) in a
 * fresh folder whose isolated HOME holds the settings gemini and qwen need against the fake
 * model server, with the OpenAI-compatible (codex, qwen) and Gemini provider env aimed at it,
 * and reads back the run directory (results, task logs, events.jsonl).
 *
 * @module
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { writeCliTestSettings } from "../engines/install_cli.ts";
import { runCli, scratchDir } from "../helpers.ts";

/** The keys of a `<task>.result.json` the engine e2e tests read. */
export interface EngineTaskResult {
  status: string;
  exit_code: number | null;
  message: string;
  stdout_tail: string;
  cost_usd: number | null;
  cost_source?: string;
  token_usage: { input: number; cached: number; output: number; total: number } | null;
  tool_call_count: number;
  retry_count: number;
  failure_history: { attempt: number; category: string; message: string }[];
}

/** One line of events.jsonl: the event name, its payload and the chain fields. */
export type RunEvent = { event: string; task_id?: string } & Record<string, unknown>;

/** A finished `maestro run` and readers for its run directory. */
export interface EnginePlanRun {
  /** maestro's exit code. */
  code: number;
  /** stderr plus the tail of stdout, for assertion messages. */
  stderr: string;
  /** A task's result file. */
  results(id: string): Promise<EngineTaskResult>;
  /** A task's `.log`. */
  log(id: string): Promise<string>;
  /** Every line of events.jsonl, in order. */
  events(): Promise<RunEvent[]>;
}

/** A finished `maestro run` in a folder, and readers for its run directory. */
export interface MaestroRun {
  /** maestro's exit code. */
  code: number;
  /** The events it printed (`--output jsonl`), raw. */
  stdout: string;
  /** stderr plus the tail of stdout, for assertion messages. */
  stderr: string;
  /** The run directory. */
  runDir: string;
  /** A task's result file, as the test's own shape. */
  result<T>(id: string): Promise<T>;
  /** A task's `.log`. */
  log(id: string): Promise<string>;
  /** run_manifest.json, as the test's own shape. */
  manifest<T>(): Promise<T>;
  /** Every line of events.jsonl, in order. */
  events(): Promise<RunEvent[]>;
}

/**
 * Writes `yaml` as `dir/plan.yaml` and runs `maestro run plan.yaml --output jsonl ...args`
 * there with a cleared env: exactly `env`, plus what {@linkcode runCli} adds (NO_COLOR, the
 * test's DENO_DIR). Fails when no run directory was made.
 */
export async function maestroRun(
  dir: string,
  yaml: string,
  env: Record<string, string>,
  args: readonly string[] = [],
): Promise<MaestroRun> {
  await Deno.writeTextFile(join(dir, "plan.yaml"), yaml);
  const out = await runCli(["run", "plan.yaml", "--output", "jsonl", ...args], {
    cwd: dir,
    env,
    clearEnv: true,
  });
  const stdout = out.stdout;
  const stderr = out.stderr + stdout.slice(-3000);
  const runs = join(dir, ".maestro-runs");
  assert.ok(existsSync(runs), `no run directory; exit ${out.code}: ${stderr}`);
  const [run] = [...Deno.readDirSync(runs)].filter((e) => /^\d{8}_/.test(e.name))
    .map((e) => join(runs, e.name));
  const json = async (file: string) => JSON.parse(await Deno.readTextFile(join(run!, file)));
  return {
    code: out.code,
    stdout,
    stderr,
    runDir: run!,
    result: (id) => json(`${id}.result.json`),
    log: (id) => Deno.readTextFile(join(run!, `${id}.log`)),
    manifest: () => json("run_manifest.json"),
    events: async () =>
      (await Deno.readTextFile(join(run!, "events.jsonl"))).trim().split("\n")
        .map((l) => JSON.parse(l) as RunEvent),
  };
}

/** The provider env that aims claude at the fake at `url` (no retries, no telemetry). */
export function claudeFakeEnv(url: string): Record<string, string> {
  return {
    ANTHROPIC_BASE_URL: url,
    ANTHROPIC_API_KEY: "sk-ant-fake",
    CLAUDE_CODE_MAX_RETRIES: "0",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    DISABLE_TELEMETRY: "1",
  };
}

/** The provider env that aims codex (and qwen) at the fake at `url`. */
export function openAiFakeEnv(url: string): Record<string, string> {
  return { OPENAI_BASE_URL: `${url}/v1`, OPENAI_API_KEY: "sk-fake" };
}

/** codex's task args that turn its own retries off (a test sees each HTTP status once). */
export const CODEX_NO_RETRY_ARGS = `["-c", "model_providers.maestro.request_max_retries=0", ` +
  `"-c", "model_providers.maestro.stream_max_retries=0"]`;

/**
 * Runs `maestro run plan.yaml --output jsonl` in a fresh folder with a cleared env: HOME with
 * the CLIs' test settings, PATH = `path` + a `bin/` folder holding `links` (name → target
 * symlinks) + the test's own PATH, and the codex/qwen (`OPENAI_*`) and gemini
 * (`GOOGLE_GEMINI_BASE_URL`, `GEMINI_API_KEY`) provider env pointing at the fake's `url`.
 */
export async function runEnginePlan(
  yaml: string,
  opts: { url: string; path?: string[]; links?: Record<string, string> },
): Promise<EnginePlanRun> {
  const dir = await scratchDir("maestro-engine-e2e-");
  const home = join(dir, "home");
  await writeCliTestSettings(home);
  const bin = join(dir, "bin");
  await Deno.mkdir(bin);
  for (const [name, target] of Object.entries(opts.links ?? {})) {
    await Deno.symlink(target, join(bin, name));
  }
  const run = await maestroRun(dir, yaml, {
    PATH: [...opts.path ?? [], bin, Deno.env.get("PATH") ?? "/usr/bin:/bin"].join(":"),
    HOME: home,
    GOOGLE_GEMINI_BASE_URL: opts.url,
    GEMINI_API_KEY: "fake-gemini-key",
    ...openAiFakeEnv(opts.url),
  });
  return {
    code: run.code,
    stderr: run.stderr,
    results: (id) => run.result<EngineTaskResult>(id),
    log: run.log,
    events: run.events,
  };
}

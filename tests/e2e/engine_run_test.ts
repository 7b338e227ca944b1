/**
 * End to end: `maestro run` executes claude and codex tasks through the real, pinned CLIs
 * (installed once by tests/engines/install_cli.ts) driven at tests/fake_model_server.ts, with an
 * isolated HOME. Ignored, with the reason printed, when npm cannot install the CLIs.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { FAKE_TEXT, startFakeServer } from "../fake_model_server.ts";
import { installPinned } from "../engines/install_cli.ts";

const CLI = new URL("../../cli.ts", import.meta.url).pathname;
const claudeCli = await installPinned("claude");
const codexCli = await installPinned("codex");
const skip = "skip" in claudeCli ? claudeCli.skip : "skip" in codexCli ? codexCli.skip : null;
if (skip) console.warn(`engine e2e tests ignored: ${skip}`);
const ignore = skip !== null;
const binDirs = ["bin" in claudeCli ? claudeCli.bin : "", "bin" in codexCli ? codexCli.bin : ""]
  .map((b) => dirname(b));

interface Result {
  status: string;
  exit_code: number | null;
  message: string;
  stdout_tail: string;
  cost_usd: number | null;
  cost_source?: string;
  token_usage: { input: number; cached: number; output: number; total: number } | null;
  tool_call_count: number;
  failure_history: { category: string; message: string }[];
}

/** Runs `maestro run plan.yaml` in a fresh folder with an env aimed at the fake server. */
async function runPlan(
  yaml: string,
  opts: { url: string; path?: string; args?: string[] },
): Promise<{
  code: number;
  stderr: string;
  results: (id: string) => Promise<Result>;
  manifest: () => Promise<Record<string, unknown>>;
}> {
  const dir = await Deno.makeTempDir({ prefix: "maestro-engine-e2e-" });
  const home = join(dir, "home");
  await Deno.mkdir(home);
  await Deno.writeTextFile(join(dir, "plan.yaml"), yaml);
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--no-prompt",
      CLI,
      "run",
      "plan.yaml",
      "--output",
      "jsonl",
      ...(opts.args ?? []),
    ],
    cwd: dir,
    clearEnv: true,
    env: {
      PATH: opts.path ?? [...binDirs, Deno.env.get("PATH") ?? "/usr/bin:/bin"].join(":"),
      HOME: home,
      NO_COLOR: "1",
      // the isolated HOME must not hide deno's own cache
      DENO_DIR: Deno.env.get("DENO_DIR") ?? join(Deno.env.get("HOME") ?? "/root", ".cache/deno"),
      ANTHROPIC_BASE_URL: opts.url,
      ANTHROPIC_API_KEY: "sk-ant-fake",
      CLAUDE_CODE_MAX_RETRIES: "0",
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
      DISABLE_TELEMETRY: "1",
      OPENAI_BASE_URL: `${opts.url}/v1`,
      OPENAI_API_KEY: "sk-fake",
    },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr) + stdout.slice(-3000);
  const runs = join(dir, ".maestro-runs");
  assert.ok(existsSync(runs), `no run directory; exit ${out.code}: ${stderr}`);
  const [run] = [...Deno.readDirSync(runs)].map((e) => join(runs, e.name));
  const results = async (id: string) =>
    JSON.parse(await Deno.readTextFile(join(run!, `${id}.result.json`))) as Result;
  const manifest = async () =>
    JSON.parse(await Deno.readTextFile(join(run!, "run_manifest.json"))) as Record<string, unknown>;
  return { code: out.code, stderr, results, manifest };
}

const CODEX_ARGS = `["-c", "model_providers.maestro.request_max_retries=0", "-c", ` +
  `"model_providers.maestro.stream_max_retries=0"]`;

Deno.test({
  name: "maestro run executes a claude task, a codex task and a shell task reading claude's text",
  ignore,
  async fn() {
    const fake = startFakeServer();
    try {
      const run = await runPlan(
        `name: engines
goal: Greet the user
tasks:
  - id: ask
    engine: claude
    model: sonnet
    prompt: "say hi to {{ plan_name }}"
  - id: code
    engine: codex
    model: "5.5"
    args: ${CODEX_ARGS}
    prompt: say hi
  - id: echo
    depends_on: [ask]
    command: 'printf "got: %s\\n" "{{ ask.stdout_tail }}"'
`,
        { url: fake.url },
      );
      assert.equal(run.code, 0, run.stderr);
      const ask = await run.results("ask");
      assert.equal(ask.status, "success");
      assert.equal(ask.stdout_tail, FAKE_TEXT);
      assert.equal(ask.cost_source, "reported");
      assert.ok(ask.cost_usd !== null && ask.cost_usd > 0);
      assert.ok(ask.token_usage!.input > 0 && ask.token_usage!.output > 0);
      assert.equal(
        ask.token_usage!.total,
        ask.token_usage!.input + ask.token_usage!.cached + ask.token_usage!.output,
      );
      const code = await run.results("code");
      assert.equal(code.status, "success", code.message);
      assert.equal(code.stdout_tail, FAKE_TEXT);
      assert.deepEqual(code.token_usage, { input: 11, cached: 0, output: 7, total: 18 });
      assert.equal(code.cost_source, "priced");
      assert.equal(code.cost_usd, 0.000265);
      const manifest = await run.manifest();
      assert.equal(manifest.total_cost_usd, Math.round((ask.cost_usd! + 0.000265) * 1e9) / 1e9);
      assert.equal(manifest.total_tokens, ask.token_usage!.total + 18);
      const echo = await run.results("echo");
      assert.equal(echo.stdout_tail, `got: ${FAKE_TEXT}`);
      assert.ok(fake.requests().some((q) => q.path === "/v1/messages" && q.auth === "x-api-key"));
    } finally {
      await fake.close();
    }
  },
});

Deno.test({
  name: "a 401 from the provider fails the claude task as auth with the provider's message",
  ignore,
  async fn() {
    const fake = startFakeServer();
    fake.setMode({ error: 401 });
    try {
      const run = await runPlan(
        `name: denied\ntasks:\n  - id: ask\n    engine: claude\n    prompt: hi\n`,
        { url: fake.url },
      );
      assert.equal(run.code, 1, run.stderr);
      const ask = await run.results("ask");
      assert.equal(ask.status, "failed");
      assert.equal(ask.failure_history.at(-1)?.category, "auth");
      assert.match(ask.message, /^claude failed \(auth\): .*401/s);
    } finally {
      await fake.close();
    }
  },
});

Deno.test({
  name: "a missing engine binary fails as cli_missing with the install command (codex, gemini)",
  async fn() {
    const fake = startFakeServer();
    try {
      const run = await runPlan(
        `name: missing
fail_fast: false
tasks:
  - id: ask
    engine: codex
    max_retries: 2
    prompt: hi
  - id: gem
    engine: gemini
    prompt: hi
`,
        { url: fake.url, path: "/usr/bin:/bin" },
      );
      assert.equal(run.code, 1, run.stderr);
      const ask = await run.results("ask");
      assert.equal(ask.status, "failed");
      assert.equal(ask.exit_code, 127);
      assert.equal(ask.failure_history.length, 1, "a missing CLI is not retried");
      assert.equal(ask.failure_history[0]?.category, "cli_missing");
      assert.match(ask.message, /npm install -g @openai\/codex/);
      const gem = await run.results("gem");
      assert.equal(gem.failure_history[0]?.category, "cli_missing");
      assert.match(gem.message, /npm install -g @google\/gemini-cli/);
      assert.equal(fake.requests().length, 0);
    } finally {
      await fake.close();
    }
  },
});

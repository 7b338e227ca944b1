/**
 * End to end: `maestro run` executes claude and codex tasks through the real, pinned CLIs
 * (installed once by tests/engines/install_cli.ts) driven at tests/fake_model_server.ts, with an
 * isolated HOME. Ignored, with the reason printed, when npm cannot install the CLIs.
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { FAKE_TEXT, startFakeServer } from "../fake_model_server.ts";
import { installPinned } from "../engines/install_cli.ts";
import {
  claudeFakeEnv,
  CODEX_NO_RETRY_ARGS,
  type EngineTaskResult,
  maestroRun,
  openAiFakeEnv,
} from "./engine_plan.ts";
import { scratchDir } from "../helpers.ts";

const claudeCli = await installPinned("claude");
const codexCli = await installPinned("codex");
const skip = "skip" in claudeCli ? claudeCli.skip : "skip" in codexCli ? codexCli.skip : null;
if (skip) console.warn(`engine e2e tests ignored: ${skip}`);
const ignore = skip !== null;
const binDirs = ["bin" in claudeCli ? claudeCli.bin : "", "bin" in codexCli ? codexCli.bin : ""]
  .map((b) => dirname(b));

/** The result fields these tests read. */
type Result = EngineTaskResult;

/** Runs `maestro run plan.yaml` in a fresh folder with an env aimed at the fake server. */
async function runPlan(yaml: string, opts: { url: string; path?: string; args?: string[] }) {
  const dir = await scratchDir("maestro-engine-e2e-");
  const home = join(dir, "home");
  await Deno.mkdir(home);
  const run = await maestroRun(dir, yaml, {
    PATH: opts.path ?? [...binDirs, Deno.env.get("PATH") ?? "/usr/bin:/bin"].join(":"),
    HOME: home,
    ...claudeFakeEnv(opts.url),
    ...openAiFakeEnv(opts.url),
  }, opts.args);
  return {
    code: run.code,
    stderr: run.stderr,
    results: (id: string) => run.result<Result>(id),
    manifest: () => run.manifest<Record<string, unknown>>(),
  };
}

const CODEX_ARGS = CODEX_NO_RETRY_ARGS;

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

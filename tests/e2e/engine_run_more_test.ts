/**
 * End to end: `maestro run` executes gemini and qwen tasks through the real, pinned CLIs
 * (installed once by tests/engines/install_cli.ts) driven at tests/fake_model_server.ts, with an
 * isolated HOME holding the settings both CLIs need against a custom base URL. Qwen is put on
 * PATH only under the reference's name `qwen-code`, so the adapter's fallback name is proven
 * too. Ignored, with the reason printed, when npm cannot install the CLIs.
 */
import assert from "node:assert/strict";
import { dirname } from "node:path";
import { FAKE_TEXT, startFakeServer } from "../fake_model_server.ts";
import { installPinned } from "../engines/install_cli.ts";
import { runEnginePlan } from "./engine_plan.ts";

const geminiCli = await installPinned("gemini");
const qwenCli = await installPinned("qwen");
const skip = "skip" in geminiCli ? geminiCli.skip : "skip" in qwenCli ? qwenCli.skip : null;
if (skip) console.warn(`gemini/qwen e2e tests ignored: ${skip}`);
const ignore = skip !== null;

/** `maestro run` with `gemini` on PATH and qwen only as `qwen-code`. */
function runPlan(yaml: string, url: string) {
  return runEnginePlan(yaml, {
    url,
    path: [dirname("bin" in geminiCli ? geminiCli.bin : "")],
    links: { "qwen-code": "bin" in qwenCli ? qwenCli.bin : "" },
  });
}

const PLAN = `name: gemini-qwen
goal: Greet the user
fail_fast: false
tasks:
  - id: gem
    engine: gemini
    model: pro
    prompt: say hi
  - id: qw
    engine: qwen
    model: coder
    prompt: say hi
  - id: echo
    depends_on: [gem, qw]
    command: 'printf "%s|%s\\n" "{{ gem.stdout_tail }}" "{{ qw.stdout_tail }}"'
`;

Deno.test({
  name: "maestro run executes a gemini task and a qwen task (found as qwen-code) on the fake",
  ignore,
  async fn() {
    const fake = startFakeServer();
    try {
      const run = await runPlan(PLAN, fake.url);
      assert.equal(run.code, 0, run.stderr);
      const gem = await run.results("gem");
      assert.equal(gem.status, "success", gem.message);
      assert.equal(gem.stdout_tail, FAKE_TEXT);
      assert.deepEqual(gem.token_usage, { input: 11, cached: 0, output: 7, total: 18 });
      assert.equal(gem.cost_source, "priced");
      assert.equal(gem.cost_usd, 0.00008375);
      const qw = await run.results("qw");
      assert.equal(qw.status, "success", qw.message);
      assert.equal(qw.stdout_tail, FAKE_TEXT);
      assert.equal(qw.cost_source, "priced");
      assert.ok(qw.token_usage!.input >= 11 && qw.token_usage!.output >= 7);
      // the executor fell back to the reference's binary name
      assert.match(await run.log("qw"), /\[engine\] qwen-code --output-format stream-json/);
      const echo = await run.results("echo");
      assert.equal(echo.stdout_tail, `${FAKE_TEXT}|${FAKE_TEXT}`);
      const paths = fake.requests().map((q) => `${q.path} ${q.model}`);
      assert.ok(
        paths.includes("/v1beta/models/gemini-2.5-pro:streamGenerateContent gemini-2.5-pro"),
      );
      assert.ok(paths.includes("/v1/chat/completions qwen-coder-plus"));
    } finally {
      await fake.close();
    }
  },
});

Deno.test({
  name: "a 401 fails both tasks as auth, although qwen itself exits 0",
  ignore,
  async fn() {
    const fake = startFakeServer();
    fake.setMode({ error: 401 });
    try {
      const run = await runPlan(PLAN, fake.url);
      assert.equal(run.code, 1, run.stderr);
      for (const id of ["gem", "qw"]) {
        const result = await run.results(id);
        assert.equal(result.status, "failed", id);
        assert.equal(result.failure_history.at(-1)?.category, "auth", id);
        assert.match(
          result.message,
          new RegExp(`^${id === "gem" ? "gemini" : "qwen"} failed \\(auth\\): .*401`, "s"),
        );
      }
      // gemini's exit code is the status mod 256; qwen's 0 becomes 1
      assert.equal((await run.results("gem")).exit_code, 145);
      assert.equal((await run.results("qw")).exit_code, 1);
    } finally {
      await fake.close();
    }
  },
});

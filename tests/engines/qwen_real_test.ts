/**
 * Proof against the real Qwen Code CLI (pinned) driven at the fake model server through
 * OPENAI_BASE_URL (Chat Completions). Each run gets its own HOME whose ~/.qwen/settings.json
 * (QWEN_TEST_SETTINGS in install_cli.ts) sets `generationConfig.maxRetries: 0` (qwen still
 * makes its own app-level retries: a 500 costs ~1.5 s before the retry, a 429 a few seconds,
 * which the recovering cases below rely on).
 */
import {
  deepStrictEqual as assertEquals,
  match as assertMatch,
  ok as assert,
} from "node:assert/strict";
import { qwen } from "../../engines/qwen.ts";
import type { BuildContext, EngineTaskSpec } from "../../engines/types.ts";
import { FAKE_TEXT, FAKE_USAGE, startFakeServer } from "../fake_model_server.ts";
import { installPinned, PINNED_CLIS, writeCliTestSettings } from "./install_cli.ts";
import { runReal } from "./run_real.ts";
import { argvMatrixTests } from "./argv_matrix.ts";
import { scratchDir } from "../helpers.ts";

/** The version engine-clis.md measured. */
export const QWEN_VERSION: string = PINNED_CLIS.qwen.version;
const install = await installPinned("qwen");
const ignore = "skip" in install;
if ("skip" in install) console.warn(`qwen real-CLI tests skipped: ${install.skip}`);
const bin = "bin" in install ? install.bin : "";

async function scenario(
  t: Partial<EngineTaskSpec>,
  c: Partial<BuildContext>,
  mode: Parameters<ReturnType<typeof startFakeServer>["setMode"]>[0] = {},
) {
  const fake = startFakeServer();
  fake.setMode(mode);
  const home = await scratchDir("maestro-qwen-home-");
  const cwd = await scratchDir("maestro-qwen-work-");
  await writeCliTestSettings(home);
  const inv = qwen.build({ id: "t", model: "coder", args: [], ...t }, {
    prompt: "say hi",
    systemPrompt: "",
    retryFeedback: "",
    profile: "plan",
    workdir: cwd,
    ...c,
    parentEnv: {
      OPENAI_BASE_URL: `${fake.url}/v1`,
      OPENAI_API_KEY: "sk-fake",
      ANTHROPIC_API_KEY: "must-not-leak",
      GEMINI_API_KEY: "must-not-leak",
      ...c.parentEnv,
    },
  });
  assertEquals(inv.env.ANTHROPIC_API_KEY, undefined, "another engine's key must not be passed");
  assertEquals(inv.env.GEMINI_API_KEY, undefined, "another engine's key must not be passed");
  try {
    const run = await runReal(qwen, inv, bin, { cwd, home });
    return { run, inv, cwd, requests: fake.requests() };
  } finally {
    await fake.close();
    await Deno.remove(home, { recursive: true }).catch(() => {});
  }
}

Deno.test({
  name: "qwen returns the fake's text, every call's tokens priced, with the model and feedback",
  ignore,
  async fn() {
    const { run, requests } = await scenario({}, {
      systemPrompt: "Be brief.",
      retryFeedback: "[RETRY FEEDBACK -- Attempt 2/2]\nPlease fix the issues.",
    });
    const r = run.result;
    assertEquals(r.failure, undefined, run.stderr.join("\n"));
    assertEquals(r.text, FAKE_TEXT);
    // qwen makes a side request (its memory extractor) besides the main call: both are billed
    const calls = requests.filter((q) => q.status === 200).length;
    assert(calls >= 1 && calls <= 2, `${calls} calls`);
    assertEquals(r.tokens, {
      input: FAKE_USAGE.input * calls,
      cached: 0,
      output: FAKE_USAGE.output * calls,
    });
    // qwen default row: in 2, out 8 per million
    assertEquals(r.cost_source, "priced");
    assertEquals(r.cost_usd, Math.round(((2 * 11 + 8 * 7) * calls / 1e6) * 1e8) / 1e8);
    assertMatch(r.session_id ?? "", /^[0-9a-f-]{36}$/);
    // the alias `coder` reached the API as qwen-coder-plus, with bearer auth
    assert(requests.every((q) => q.model === "qwen-coder-plus" && q.auth === "bearer"));
    const main = requests[0]!;
    assertEquals([main.path, main.user_text], ["/v1/chat/completions", "say hi"]);
    // the system prompt and the retry feedback reach the model (the reference drops both)
    assertMatch(
      main.system_text,
      /Be brief\.\n\n\[RETRY FEEDBACK -- Attempt 2\/2\]\nPlease fix the issues\.$/,
    );
    console.log(`  qwen ok run: ${run.seconds}s, ${calls} model call(s)`);
  },
});

Deno.test({
  name: "qwen runs a scripted shell call in yolo: the file is written and the call reported",
  ignore,
  async fn() {
    const { run, cwd } = await scenario({}, { profile: "yolo" }, {
      tool: { name: "run_shell_command", args: { command: "echo FAKE-TOOL-RAN > tool.txt" } },
    });
    assertEquals(run.result.failure, undefined, run.stderr.join("\n"));
    assertEquals((await Deno.readTextFile(`${cwd}/tool.txt`)).trim(), "FAKE-TOOL-RAN");
    assertEquals(run.result.tool_calls, [{
      name: "run_shell_command",
      input: { command: "echo FAKE-TOOL-RAN > tool.txt" },
    }]);
    assertEquals([run.result.text, run.result.num_turns], [FAKE_TEXT, 2]);
  },
});

Deno.test({
  name:
    "qwen reports a 401 as a successful result with exit 0: the adapter makes it an auth failure",
  ignore,
  async fn() {
    const { run } = await scenario({}, {}, { error: 401 });
    assertEquals(run.exitCode, 0);
    assertEquals(run.result.is_error, true);
    assertEquals(run.result.failure?.category, "auth");
    assertMatch(run.result.failure?.message ?? "", /^\[API Error: 401 fake provider forced error/);
  },
});

Deno.test({
  name: "qwen retries a 500 once by itself and the run succeeds",
  ignore,
  async fn() {
    const { run, requests } = await scenario({}, {}, { error: 500, count: 1 });
    assertEquals(run.result.failure, undefined, run.stderr.join("\n"));
    assertEquals(run.result.text, FAKE_TEXT);
    assertEquals(requests.slice(0, 2).map((q) => [q.status, q.user_text]), [
      [500, "say hi"],
      [200, "say hi"],
    ]);
  },
});

Deno.test({
  name: "qwen retries a 429 once by itself (maxRetries 0 notwithstanding) and the run succeeds",
  ignore,
  async fn() {
    const { run, requests } = await scenario({}, {}, { error: 429, count: 1 });
    assertEquals(run.result.failure, undefined, run.stderr.join("\n"));
    assertEquals(run.result.text, FAKE_TEXT);
    assertEquals(requests.slice(0, 2).map((q) => [q.status, q.user_text]), [
      [429, "say hi"],
      [200, "say hi"],
    ]);
    console.log(`  qwen 429 run: ${run.seconds}s`);
  },
});

// a category, a claude-style name and a shell rule: `--allowed-tools=` and `--exclude-tools=`
// an approval mode in args, which safe and yolo replace and plan keeps
argvMatrixTests({
  engine: "qwen",
  ignore,
  task: { args: ["--approval-mode", "auto-edit"] },
  allowed: ["git-only", "Write", "Bash(npm test)"],
  scenario,
});

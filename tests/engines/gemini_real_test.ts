/**
 * Proof against the real Gemini CLI (pinned) driven at the fake model server. Each run gets its
 * own HOME whose ~/.gemini/settings.json (GEMINI_TEST_SETTINGS in install_cli.ts) selects
 * API-key auth (with only GOOGLE_GEMINI_BASE_URL set, gemini-cli picks the "gateway" auth type
 * and rejects it, rc 41) and one attempt per call (the default, 10 attempts from 5 s, makes a
 * 500 take minutes).
 */
import {
  deepStrictEqual as assertEquals,
  match as assertMatch,
  ok as assert,
} from "node:assert/strict";
import { gemini } from "../../engines/gemini.ts";
import type { BuildContext, EngineTaskSpec } from "../../engines/types.ts";
import { FAKE_TEXT, FAKE_USAGE, startFakeServer } from "../fake_model_server.ts";
import { installPinned, PINNED_CLIS, writeCliTestSettings } from "./install_cli.ts";
import { runReal } from "./run_real.ts";
import { argvMatrixTests } from "./argv_matrix.ts";
import { scratchDir } from "../helpers.ts";

/** The version engine-clis.md measured. */
export const GEMINI_VERSION: string = PINNED_CLIS.gemini.version;
const install = await installPinned("gemini");
const ignore = "skip" in install;
if ("skip" in install) console.warn(`gemini real-CLI tests skipped: ${install.skip}`);
const bin = "bin" in install ? install.bin : "";

async function scenario(
  t: Partial<EngineTaskSpec>,
  c: Partial<BuildContext>,
  mode: Parameters<ReturnType<typeof startFakeServer>["setMode"]>[0] = {},
) {
  const fake = startFakeServer();
  fake.setMode(mode);
  const home = await scratchDir("maestro-gemini-home-");
  const cwd = await scratchDir("maestro-gemini-work-");
  await writeCliTestSettings(home);
  const inv = gemini.build({ id: "t", model: "pro", args: [], ...t }, {
    prompt: "say hi",
    systemPrompt: "",
    retryFeedback: "",
    profile: "plan",
    workdir: cwd,
    ...c,
    parentEnv: {
      GOOGLE_GEMINI_BASE_URL: fake.url,
      GEMINI_API_KEY: "fake-gemini-key",
      ANTHROPIC_API_KEY: "must-not-leak",
      OPENAI_API_KEY: "must-not-leak",
      ...c.parentEnv,
    },
  });
  assertEquals(inv.env.ANTHROPIC_API_KEY, undefined, "another engine's key must not be passed");
  assertEquals(inv.env.OPENAI_API_KEY, undefined, "another engine's key must not be passed");
  try {
    const run = await runReal(gemini, inv, bin, { cwd, home });
    return { run, inv, cwd, requests: fake.requests() };
  } finally {
    await fake.close();
    await Deno.remove(home, { recursive: true }).catch(() => {});
  }
}

Deno.test({
  name: "gemini returns the fake's text and tokens, priced, with the model, prompt and feedback",
  ignore,
  async fn() {
    const { run, requests } = await scenario({ reasoning_effort: "high" }, {
      systemPrompt: "Be brief.",
      retryFeedback: "[RETRY FEEDBACK -- Attempt 2/2]\nPlease fix the issues.",
    });
    const r = run.result;
    assertEquals(r.failure, undefined, run.stderr.join("\n"));
    assertEquals(r.text, FAKE_TEXT);
    assertEquals(r.tokens, { input: FAKE_USAGE.input, cached: 0, output: FAKE_USAGE.output });
    // gemini-2.5-pro: 11·1.25/1e6 + 7·10/1e6
    assertEquals([r.cost_usd, r.cost_source], [0.00008375, "priced"]);
    assertMatch(r.session_id ?? "", /^[0-9a-f-]{36}$/);
    assertEquals(r.num_turns, 1);
    // `-m pro` became gemini-2.5-pro, the only call (an explicit model skips the router)
    assertEquals(requests.map((q) => [q.path, q.model, q.auth]), [
      ["/v1beta/models/gemini-2.5-pro:streamGenerateContent", "gemini-2.5-pro", "x-goog-api-key"],
    ]);
    // no system-prompt flag: system prompt and retry feedback ride in the prompt itself
    assertMatch(
      requests[0]!.user_text,
      /\[System Instructions\]\nBe brief\.\n\n\[RETRY FEEDBACK -- Attempt 2\/2\]\nPlease fix the issues\.\n\n\[Task\]\nsay hi$/,
    );
    console.log(`  gemini ok run: ${run.seconds}s`);
  },
});

Deno.test({
  name: "gemini's own routing answers the JSON-mode router from its schema, then the main call",
  ignore,
  async fn() {
    const { run, requests } = await scenario({ model: "auto" }, {});
    assertEquals(run.result.failure, undefined, run.stderr.join("\n"));
    assertEquals(run.result.text, FAKE_TEXT);
    const router = requests.filter((q) => q.json_mode);
    assertEquals(router.length, 1);
    assertMatch(router[0]!.path, /:generateContent$/);
    assert(run.stderr.every((l) => !/classifier|complexity_score/i.test(l)), run.stderr.join("\n"));
    // both calls are counted; the router's model has no price in our table
    assertEquals(run.result.tokens.input, FAKE_USAGE.input * requests.length);
    assertEquals(run.result.cost_source, "unknown");
    assert(run.result.warnings.some((w) => w.includes("MAESTRO_GEMINI_PRICING_JSON")));
  },
});

Deno.test({
  name: "gemini runs a scripted shell call in yolo: the file is written and the call reported",
  ignore,
  async fn() {
    const { run, cwd, requests } = await scenario({}, { profile: "yolo" }, {
      tool: { name: "run_shell_command", args: { command: "echo FAKE-TOOL-RAN > tool.txt" } },
    });
    assertEquals(run.result.failure, undefined, run.stderr.join("\n"));
    assertEquals((await Deno.readTextFile(`${cwd}/tool.txt`)).trim(), "FAKE-TOOL-RAN");
    assertEquals(run.result.tool_calls, [{
      name: "run_shell_command",
      input: { command: "echo FAKE-TOOL-RAN > tool.txt" },
    }]);
    assertEquals([run.result.text, run.result.num_turns], [FAKE_TEXT, 2]);
    assertEquals(requests.map((q) => q.has_tool_result), [false, true]);
  },
});

Deno.test({
  name: "gemini exits 145 on a 401 and it is classified as auth with the provider's message",
  ignore,
  async fn() {
    const { run } = await scenario({}, {}, { error: 401 });
    assertEquals(run.exitCode, 145);
    assertEquals(run.result.is_error, true);
    assertEquals(run.result.failure?.category, "auth");
    assertMatch(run.result.failure?.message ?? "", /fake provider forced error 401/);
  },
});

Deno.test({
  name: "gemini exits 173 on a 429 and it is rate_limit despite the CLI's quota hint",
  ignore,
  async fn() {
    const { run, requests } = await scenario({}, {}, { error: 429 });
    assertEquals(run.exitCode, 173);
    assertEquals(requests.map((q) => q.status), [429]);
    assertEquals(run.result.failure?.category, "rate_limit");
    assertMatch(run.result.failure?.message ?? "", /429[\s\S]*request a quota increase/);
  },
});

// a category, a claude-style name and a shell pattern: `--allowed-tools=` once per entry
// an approval mode in args, which safe and yolo replace and plan keeps
argvMatrixTests({
  engine: "gemini",
  ignore,
  task: { args: ["--approval-mode", "auto_edit"] },
  allowed: ["git-only", "Write", "Bash(npm test)"],
  scenario,
});

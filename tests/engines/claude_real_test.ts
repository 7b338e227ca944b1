/**
 * Proof against the real Claude Code CLI (pinned) driven at the fake model server.
 * Installs the CLI once into ~/.cache/maestro-test-clis; skipped when npm cannot install it.
 */
import {
  deepStrictEqual as assertEquals,
  match as assertMatch,
  ok as assert,
} from "node:assert/strict";
import { claude } from "../../engines/claude.ts";
import type { BuildContext, EngineTaskSpec } from "../../engines/types.ts";
import { FAKE_TEXT, FAKE_USAGE, startFakeServer } from "../fake_model_server.ts";
import { installPinned, PINNED_CLIS } from "./install_cli.ts";
import { runReal } from "./run_real.ts";
import { argvMatrixTests } from "./argv_matrix.ts";
import { scratchDir } from "../helpers.ts";

/** The version engine-clis.md measured. */
export const CLAUDE_VERSION: string = PINNED_CLIS.claude.version;
const install = await installPinned("claude");
const ignore = "skip" in install;
if ("skip" in install) console.warn(`claude real-CLI tests skipped: ${install.skip}`);
const bin = "bin" in install ? install.bin : "";

async function scenario(
  t: Partial<EngineTaskSpec>,
  c: Partial<BuildContext> & { retries?: number },
  mode: Parameters<ReturnType<typeof startFakeServer>["setMode"]>[0] = {},
) {
  const fake = startFakeServer();
  fake.setMode(mode);
  const home = await scratchDir("maestro-claude-home-");
  const cwd = await scratchDir("maestro-claude-work-");
  const parentEnv: Record<string, string> = {
    ANTHROPIC_BASE_URL: fake.url,
    ANTHROPIC_API_KEY: "sk-ant-fake",
    CLAUDE_CODE_MAX_RETRIES: String(c.retries ?? 0),
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    DISABLE_TELEMETRY: "1",
    OPENAI_API_KEY: "must-not-leak",
    ...c.parentEnv,
  };
  const inv = claude.build({ id: "t", args: [], ...t }, {
    prompt: "say hi",
    systemPrompt: "",
    retryFeedback: "",
    profile: "plan",
    workdir: cwd,
    uid: Deno.uid() ?? undefined,
    ...c,
    parentEnv,
  });
  assertEquals(inv.env.OPENAI_API_KEY, undefined, "another engine's key must not be passed");
  try {
    const run = await runReal(claude, inv, bin, { cwd, home });
    return { run, inv, cwd, requests: fake.requests() };
  } finally {
    await fake.close();
    await Deno.remove(home, { recursive: true }).catch(() => {});
  }
}

Deno.test({
  name: "claude returns the fake's text, its token counts and a reported cost",
  ignore,
  async fn() {
    const { run, requests } = await scenario({ model: "sonnet", reasoning_effort: "high" }, {});
    const r = run.result;
    assertEquals(r.failure, undefined, run.stderr.join("\n"));
    assertEquals(r.is_error, false);
    assertEquals(r.text, FAKE_TEXT);
    const calls = requests.filter((q) => q.path === "/v1/messages" && q.status === 200).length;
    assert(calls >= 1);
    // modelUsage counts every model call the CLI made, side calls included.
    assertEquals(r.tokens, { input: FAKE_USAGE.input * calls, cached: 0, output: 7 * calls });
    assertEquals(r.cost_source, "reported");
    assert(r.cost_usd !== null && r.cost_usd > 0);
    assertMatch(r.session_id ?? "", /^[0-9a-f-]{36}$/);
    assert(requests.every((q) => q.auth === "x-api-key"));
    console.log(`  claude ok run: ${run.seconds}s, ${calls} model call(s)`);
  },
});

Deno.test({
  name: "claude executes a scripted Bash call allowed by allowed_tools and reports it",
  ignore,
  async fn() {
    const { run, cwd } = await scenario({ allowed_tools: ["Bash"] }, {}, {
      tool: { name: "Bash", args: { command: "echo FAKE-TOOL-RAN > tool.txt" } },
    });
    assertEquals(run.result.failure, undefined);
    assertEquals((await Deno.readTextFile(`${cwd}/tool.txt`)).trim(), "FAKE-TOOL-RAN");
    assertEquals(run.result.tool_calls[0]?.name, "Bash");
    assertEquals(run.result.tool_calls[0]?.input.command, "echo FAKE-TOOL-RAN > tool.txt");
    assertEquals(run.result.text, FAKE_TEXT);
    assert(run.result.num_turns >= 2);
  },
});

Deno.test({
  name: "claude retries one 429 when its retry cap allows it and then succeeds",
  ignore,
  async fn() {
    const { run, requests } = await scenario({}, { retries: 1 }, { error: 429, count: 1 });
    assertEquals(run.result.is_error, false, run.result.failure?.message ?? "");
    assertEquals(run.result.text, FAKE_TEXT);
    assert(requests.some((q) => q.status === 429));
    assert(run.result.warnings.some((w) => w.startsWith("api retry")), String(run.result.warnings));
  },
});

Deno.test({
  name: "claude fails fast on a 401 and it is classified as auth with the provider's message",
  ignore,
  async fn() {
    const { run } = await scenario({}, {}, { error: 401 });
    assertEquals(run.exitCode, 1);
    assertEquals(run.result.is_error, true);
    assertEquals(run.result.failure?.category, "auth");
    assertMatch(run.result.failure?.message ?? "", /401/);
    assert(run.seconds < 30, `took ${run.seconds}s`);
  },
});

argvMatrixTests({
  engine: "claude",
  ignore,
  task: { model: "opus", args: ["--max-turns", "3"] },
  allowed: ["Read", "Bash(git *)", "read-only"],
  // Root cannot use --dangerously-skip-permissions without IS_SANDBOX (tested below).
  context: { parentEnv: { IS_SANDBOX: "1" } },
  scenario,
});

Deno.test({
  name: "claude's root refusal of yolo is reported with a hint on how to fix it",
  ignore: ignore || Deno.uid() !== 0,
  async fn() {
    const { run, inv } = await scenario({}, { profile: "yolo" });
    assert(inv.warnings.some((w) => w.includes("IS_SANDBOX=1")));
    assertEquals(run.result.is_error, true);
    assertMatch(run.result.failure?.message ?? "", /root\/sudo[\s\S]*Hint: .*IS_SANDBOX=1/);
  },
});

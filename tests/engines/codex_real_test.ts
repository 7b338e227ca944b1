/**
 * Proof against the real Codex CLI (pinned) driven at the fake model server through the
 * adapter's OPENAI_BASE_URL → custom provider translation.
 */
import {
  deepStrictEqual as assertEquals,
  match as assertMatch,
  ok as assert,
} from "node:assert/strict";
import { codex } from "../../engines/codex.ts";
import type { BuildContext, EngineTaskSpec } from "../../engines/types.ts";
import { FAKE_TEXT, FAKE_USAGE, startFakeServer } from "../fake_model_server.ts";
import { installPinned, PINNED_CLIS } from "./install_cli.ts";
import { runReal } from "./run_real.ts";
import { argvMatrixTests } from "./argv_matrix.ts";
import { scratchDir } from "../helpers.ts";

/** The version engine-clis.md measured. */
export const CODEX_VERSION: string = PINNED_CLIS.codex.version;
const install = await installPinned("codex");
const ignore = "skip" in install;
if ("skip" in install) console.warn(`codex real-CLI tests skipped: ${install.skip}`);
const bin = "bin" in install ? install.bin : "";

async function scenario(
  t: Partial<EngineTaskSpec>,
  c: Partial<BuildContext> & { retries?: number },
  mode: Parameters<ReturnType<typeof startFakeServer>["setMode"]>[0] = {},
) {
  const fake = startFakeServer();
  fake.setMode(mode);
  const home = await scratchDir("maestro-codex-home-");
  const cwd = await scratchDir("maestro-codex-work-");
  const retries = String(c.retries ?? 0);
  const inv = codex.build({
    id: "t",
    model: "5.5",
    // Retry caps (engine-clis.md: defaults make a failing run take 26 s).
    args: [
      "-c",
      `model_providers.maestro.request_max_retries=${retries}`,
      "-c",
      `model_providers.maestro.stream_max_retries=${retries}`,
      ...(t.args ?? []),
    ],
    ...t,
  }, {
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
      ...c.parentEnv,
    },
  });
  assertEquals(inv.env.ANTHROPIC_API_KEY, undefined, "another engine's key must not be passed");
  try {
    const run = await runReal(codex, inv, bin, { cwd, home });
    return { run, inv, cwd, requests: fake.requests() };
  } finally {
    await fake.close();
    await Deno.remove(home, { recursive: true }).catch(() => {});
  }
}

Deno.test({
  name: "codex returns the fake's text, its token counts and a priced cost",
  ignore,
  async fn() {
    const { run, requests } = await scenario({ reasoning_effort: "high" }, {});
    const r = run.result;
    assertEquals(r.failure, undefined, run.stderr.join("\n"));
    assertEquals(r.text, FAKE_TEXT);
    assertEquals(r.tokens, { input: FAKE_USAGE.input, cached: 0, output: FAKE_USAGE.output });
    // gpt-5.5: 11·5/1e6 + 7·30/1e6
    assertEquals(r.cost_source, "priced");
    assertEquals(r.cost_usd, 0.000265);
    assertMatch(r.session_id ?? "", /^[0-9a-f-]{36}$/);
    assertEquals(requests.map((q) => [q.path, q.model, q.auth]), [
      ["/v1/responses", "gpt-5.5", "bearer"],
    ]);
    console.log(`  codex ok run: ${run.seconds}s`);
  },
});

Deno.test({
  name: "codex executes a scripted shell call in yolo and reports it as a tool call",
  ignore,
  async fn() {
    const { run, cwd } = await scenario({}, { profile: "yolo" }, {
      tool: { name: "exec_command", args: { cmd: "echo FAKE-TOOL-RAN > tool.txt" } },
    });
    assertEquals(run.result.failure, undefined, run.stderr.join("\n"));
    assertEquals((await Deno.readTextFile(`${cwd}/tool.txt`)).trim(), "FAKE-TOOL-RAN");
    assertEquals(run.result.tool_calls[0]?.name, "command_execution");
    assertMatch(String(run.result.tool_calls[0]?.input.command), /echo FAKE-TOOL-RAN > tool.txt/);
    assertEquals(run.result.text, FAKE_TEXT);
  },
});

Deno.test({
  name: "codex retries one 500 when request_max_retries allows it and then succeeds",
  ignore,
  async fn() {
    const { run, requests } = await scenario({}, { retries: 1 }, { error: 500, count: 1 });
    assertEquals(run.result.is_error, false, run.result.failure?.message ?? "");
    assertEquals(run.result.text, FAKE_TEXT);
    assertEquals(requests.map((q) => q.status), [500, 200]);
  },
});

Deno.test({
  // Measured: codex 0.169 does not retry a 429 from a custom provider even with
  // request_max_retries=2 and a Retry-After header; it ends with "exceeded retry limit".
  name: "codex reports a 429 as rate_limit (it does not retry 429s from a custom provider)",
  ignore,
  async fn() {
    const { run, requests } = await scenario({}, { retries: 2 }, { error: 429, count: 1 });
    assertEquals(requests.map((q) => q.status), [429]);
    assertEquals(run.result.failure?.category, "rate_limit");
    assertMatch(run.result.failure?.message ?? "", /429/);
  },
});

Deno.test({
  name: "codex fails fast on a 401 and it is classified as auth with the provider's message",
  ignore,
  async fn() {
    const { run } = await scenario({}, {}, { error: 401 });
    assertEquals(run.exitCode, 1);
    assertEquals(run.result.failure?.category, "auth");
    assertMatch(run.result.failure?.message ?? "", /401 Unauthorized/);
    assert(run.seconds < 30, `took ${run.seconds}s`);
  },
});

argvMatrixTests({
  engine: "codex",
  ignore,
  task: { args: ["--full-auto", "--yolo"] },
  allowed: ["read-only"],
  scenario,
});

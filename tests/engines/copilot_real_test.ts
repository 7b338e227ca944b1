/**
 * Proof against the real GitHub Copilot CLI (pinned) driven at the fake model server with BYOK
 * (`COPILOT_OFFLINE=true`, no GitHub login): OpenAI Responses for most cases, Anthropic
 * Messages for one. Copilot has no retry knob (401: 3 attempts, 429/500: 6 with 10–23 s of
 * backoff), so the suite keeps to a 401 and a single recovered 429.
 */
import {
  deepStrictEqual as assertEquals,
  match as assertMatch,
  ok as assert,
} from "node:assert/strict";
import { copilot } from "../../engines/copilot.ts";
import type { BuildContext, EngineTaskSpec } from "../../engines/types.ts";
import { FAKE_TEXT, startFakeServer } from "../fake_model_server.ts";
import { cliCacheDir, installPinned, PINNED_CLIS } from "./install_cli.ts";
import { runReal } from "./run_real.ts";
import { argvMatrixTests } from "./argv_matrix.ts";
import { scratchDir } from "../helpers.ts";

/** The version engine-clis.md measured. */
export const COPILOT_VERSION: string = PINNED_CLIS.copilot.version;
const install = await installPinned("copilot");
const ignore = "skip" in install;
if ("skip" in install) console.warn(`copilot real-CLI tests skipped: ${install.skip}`);
const bin = "bin" in install ? install.bin : "";
/**
 * Copilot extracts 235 MB into $XDG_CACHE_HOME/copilot/pkg on first run (≈2 s, measured):
 * shared across runs beside the install, while each test keeps its own HOME for session state.
 */
const XDG_CACHE = `${cliCacheDir(PINNED_CLIS.copilot.pkg, COPILOT_VERSION)}.xdg-cache`;

type Mode = Parameters<ReturnType<typeof startFakeServer>["setMode"]>[0];

async function scenario(
  t: Partial<EngineTaskSpec>,
  c: Partial<BuildContext> & { provider?: (url: string) => Record<string, string> },
  mode: Mode = {},
) {
  const fake = startFakeServer();
  fake.setMode(mode);
  const home = await scratchDir("maestro-copilot-home-");
  const cwd = await scratchDir("maestro-copilot-work-");
  const scratch = await scratchDir("maestro-copilot-scratch-");
  const inv = copilot.build({ id: "t", model: "gpt-5.4", args: [], ...t }, {
    prompt: "say hi",
    systemPrompt: "",
    retryFeedback: "",
    profile: "plan",
    workdir: cwd,
    scratchDir: scratch,
    ...c,
    parentEnv: {
      COPILOT_OFFLINE: "true",
      COPILOT_PROVIDER_API_KEY: "sk-fake",
      ANTHROPIC_API_KEY: "must-not-leak",
      OPENAI_API_KEY: "must-not-leak",
      ...(c.provider?.(fake.url) ?? {
        COPILOT_PROVIDER_BASE_URL: `${fake.url}/v1`,
        COPILOT_PROVIDER_WIRE_API: "responses",
      }),
    },
  });
  assertEquals(
    Object.keys(inv.env).filter((k) => !k.startsWith("COPILOT_")),
    [],
    "only copilot's own variables are passed",
  );
  try {
    const run = await runReal(copilot, inv, bin, {
      cwd,
      home,
      extraEnv: { XDG_CACHE_HOME: XDG_CACHE },
    });
    // what the scripted tool calls write, read before the workdir goes
    const toolFile = await Deno.readTextFile(`${cwd}/tool.txt`).catch(() => null);
    return { run, inv, toolFile, requests: fake.requests() };
  } finally {
    await fake.close();
    for (const dir of [home, cwd, scratch]) {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  }
}

Deno.test({
  name: "copilot returns the fake's text with usage-file tokens, a priced cost and its session",
  ignore,
  async fn() {
    const { run, requests } = await scenario({ reasoning_effort: "high" }, {});
    const r = run.result;
    assertEquals(r.failure, undefined, run.stderr.join("\n"));
    assertEquals(r.text, FAKE_TEXT);
    assertEquals(r.tokens, { input: 11, cached: 0, output: 7 });
    // gpt-5.4: 11·2.5/1e6 + 7·15/1e6
    assertEquals([r.cost_usd, r.cost_source], [0.0001325, "priced"]);
    assertMatch(r.session_id ?? "", /^[0-9a-f-]{36}$/);
    assertEquals(requests.map((q) => [q.path, q.model, q.auth, q.status]), [
      ["/v1/responses", "gpt-5.4", "bearer", 200],
    ]);
    assertMatch(JSON.stringify(requests[0]?.reasoning), /high/);
    console.log(`  copilot ok run: ${run.seconds}s`);
  },
});

Deno.test({
  name: "copilot's prompt carries the system text and retry feedback to the model",
  ignore,
  async fn() {
    const { run, requests } = await scenario({}, {
      prompt: "-starts with a dash",
      systemPrompt: "Be brief.",
      retryFeedback: "[RETRY FEEDBACK -- Attempt 2/2]\nPlease fix the issues.",
    });
    assertEquals(run.result.failure, undefined, run.stderr.join("\n"));
    const text = requests[0]?.user_text ?? "";
    assertMatch(text, /\[System Instructions\]\nBe brief\.\n\n\[RETRY FEEDBACK -- Attempt 2\/2\]/);
    assertMatch(text, /\[Task\]\n-starts with a dash/);
  },
});

Deno.test({
  name: "copilot runs a scripted bash call under yolo: the file is written and the call reported",
  ignore,
  async fn() {
    const { run, toolFile, requests } = await scenario({}, { profile: "yolo" }, {
      tool: {
        name: "bash",
        args: {
          command: "echo FAKE-TOOL-RAN > tool.txt",
          description: "write a file",
          mode: "sync",
          initial_wait: 30,
        },
      },
    });
    const r = run.result;
    assertEquals(r.failure, undefined, run.stderr.join("\n"));
    assertEquals(toolFile?.trim(), "FAKE-TOOL-RAN");
    assertEquals(r.tool_calls.map((c) => [c.name, c.input.command]), [
      ["bash", "echo FAKE-TOOL-RAN > tool.txt"],
    ]);
    assertEquals([r.num_turns, r.text], [2, FAKE_TEXT]);
    assertEquals(r.tokens, { input: 22, cached: 0, output: 14 });
    assertEquals(requests.map((q) => q.has_tool_result), [false, true]);
  },
});

Deno.test({
  name: "copilot under plan is denied the bash call: a warning, no file, and still a success",
  ignore,
  async fn() {
    const { run, toolFile } = await scenario({}, {}, {
      tool: { name: "bash", args: { command: "touch tool.txt", description: "t", mode: "sync" } },
    });
    assertEquals(run.result.is_error, false, run.result.failure?.message ?? "");
    assert(run.result.warnings.some((w) => w.startsWith("copilot denied bash")));
    assertEquals(toolFile, null);
  },
});

Deno.test({
  name: "copilot with allowed_tools git-only under yolo may not write files through the shell",
  ignore,
  async fn() {
    const { run, toolFile } = await scenario({ allowed_tools: ["git-only"] }, { profile: "yolo" }, {
      tool: { name: "bash", args: { command: "touch tool.txt", description: "t", mode: "sync" } },
    });
    assertEquals(run.result.is_error, false, run.result.failure?.message ?? "");
    assertEquals(toolFile, null);
    assert(run.result.warnings.some((w) => w.startsWith("copilot denied bash")));
  },
});

Deno.test({
  name: "copilot recovers from one 429 (its own retry) and reports the retry as a warning",
  ignore,
  async fn() {
    const { run, requests } = await scenario({}, {}, { error: 429, count: 1 });
    assertEquals(run.result.is_error, false, run.result.failure?.message ?? "");
    assertEquals(run.result.text, FAKE_TEXT);
    assertEquals(requests.map((q) => q.status), [429, 200]);
    assert(
      run.result.warnings.some((w) => /retried a model call \(rate_limit, HTTP 429\)/.test(w)),
    );
  },
});

Deno.test({
  name: "copilot classifies a 401 from the provider as auth with copilot's message",
  ignore,
  async fn() {
    const { run, requests } = await scenario({}, {}, { error: 401 });
    assertEquals(run.exitCode, 1);
    assertEquals(run.result.failure?.category, "auth");
    assertMatch(run.result.failure?.message ?? "", /Authentication failed with provider.*HTTP 401/);
    assertEquals(requests.length, 3, "copilot tries a 401 three times");
    assert(run.seconds < 30, `took ${run.seconds}s`);
    console.log(`  copilot 401 run: ${run.seconds}s`);
  },
});

Deno.test({
  name: "copilot through an Anthropic provider: the sonnet alias, x-api-key auth, sonnet pricing",
  ignore,
  async fn() {
    const { run, requests } = await scenario({ model: "sonnet" }, {
      // Anthropic's base URL has no /v1 (copilot help providers)
      provider: (url) => ({ COPILOT_PROVIDER_BASE_URL: url, COPILOT_PROVIDER_TYPE: "anthropic" }),
    });
    assertEquals(run.result.failure, undefined, run.stderr.join("\n"));
    assertEquals(requests.map((q) => [q.path, q.model, q.auth]), [
      ["/v1/messages", "claude-sonnet-4.6", "x-api-key"],
    ]);
    // sonnet: 11·3/1e6 + 7·15/1e6
    assertEquals([run.result.cost_usd, run.result.cost_source], [0.000138, "priced"]);
  },
});

// `--allow-tool=shell(git:*)`, `--allow-tool=url` and `--deny-tool=write`
// a blanket grant in args, which the profile and allowed_tools rewrite or drop
argvMatrixTests({
  engine: "copilot",
  ignore,
  task: { reasoning_effort: "low", args: ["--allow-all"] },
  allowed: ["Bash(git *)", "WebFetch"],
  scenario,
});

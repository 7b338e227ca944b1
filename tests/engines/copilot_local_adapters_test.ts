/**
 * Unit tests of the copilot, ollama and llama adapters: copilot on real recorded output
 * (tests/fixtures/engines/copilot, copilot 1.0.102), ollama and llama on the shapes their
 * sources print (engine-clis.md §6: neither can run here), plus the runtime's usage-file
 * plumbing.
 */
import {
  deepStrictEqual as assertEquals,
  match as assertMatch,
  ok as assert,
  throws as assertThrows,
} from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  copilot,
  copilotProfileArgs,
  copilotToolRules,
  copilotUsage,
} from "../../engines/copilot.ts";
import { emptyResult, instructedPrompt } from "../../engines/common.ts";
import { llama } from "../../engines/llama.ts";
import { ollama } from "../../engines/ollama.ts";
import { priceTokens, PRICING, ratesFor } from "../../engines/pricing.ts";
import { ENGINES } from "../../engines/registry.ts";
import {
  type BuildContext,
  type Engine,
  EngineBuildError,
  type ExitInfo,
} from "../../engines/types.ts";
import { fixtureTask } from "../../lib/run/_task_fixture.ts";
import { EventBus } from "../../lib/run/events.ts";
import { runTask } from "../../lib/run/task.ts";

const FIXTURES = new URL("../fixtures/engines/copilot/", import.meta.url);
const recorded = (name: string) => Deno.readTextFileSync(new URL(name, FIXTURES)).split("\n");
const usageJson = () => Deno.readTextFileSync(new URL("say_hi.usage.json", FIXTURES));

const ctx: BuildContext = {
  prompt: "do it",
  systemPrompt: "",
  retryFeedback: "",
  profile: "plan",
  workdir: "/w",
  parentEnv: {
    ANTHROPIC_API_KEY: "a",
    OPENAI_API_KEY: "o",
    GEMINI_API_KEY: "g",
    COPILOT_PROVIDER_BASE_URL: "http://127.0.0.1:1/v1",
    COPILOT_PROVIDER_API_KEY: "c",
    GH_TOKEN: "gh",
    OLLAMA_HOST: "127.0.0.1:9",
    LLAMA_MODEL_DIR: "/models/",
  },
};
const FEEDBACK = "[RETRY FEEDBACK -- Attempt 2/2]\nFailure category: unknown";

// ---------------------------------------------------------------------------------- copilot

Deno.test("copilot's recorded say-hi gives text, usage-file tokens, a priced cost and the session", () => {
  const lines = [...recorded("say_hi.jsonl"), "garbage that is not JSON"];
  const r = copilot.parse(lines, { exitCode: 0, usageFileText: usageJson() }, { model: "gpt-5.4" });
  assertEquals(r.text, "FAKE-OK 42");
  assertEquals(r.tokens, { input: 11, cached: 0, output: 7 });
  // gpt-5.4 at 2.5 / 15 per million
  assertEquals([r.cost_usd, r.cost_source], [0.0001325, "priced"]);
  assertEquals(r.session_id, "991b4f21-5d23-4402-86a7-626f673c8f5f");
  assertEquals([r.num_turns, r.is_error, r.tool_calls], [1, false, []]);
  assert(r.warnings.some((w) => w.includes("not JSON")), r.warnings.join("\n"));
});

Deno.test("copilot without its usage file keeps tokens at zero and the cost unknown, with a warning", () => {
  const r = copilot.parse(recorded("say_hi.jsonl"), { exitCode: 0 });
  assertEquals([r.text, r.cost_usd, r.cost_source], ["FAKE-OK 42", null, "unknown"]);
  assert(r.warnings.some((w) => /no usage file/.test(w)));
});

Deno.test("copilot's yolo tool run reports the bash call once (request + execution) and two turns", () => {
  const r = copilot.parse(recorded("tool_yolo.jsonl"), { exitCode: 0 });
  assertEquals(r.tool_calls, [{
    name: "bash",
    input: {
      command: "echo FAKE-TOOL-RAN > tool.txt",
      description: "write file",
      mode: "sync",
      initial_wait: 30,
    },
  }]);
  assertEquals([r.num_turns, r.text, r.is_error], [2, "FAKE-OK 42", false]);
});

Deno.test("copilot's denied tool is a warning naming the tool, and the run still succeeds", () => {
  const r = copilot.parse(recorded("tool_denied.jsonl"), { exitCode: 0 });
  assertEquals([r.is_error, r.text, r.tool_calls.length], [false, "FAKE-OK 42", 1]);
  const warning = r.warnings.find((w) => w.startsWith("copilot denied bash"));
  assertMatch(warning ?? "", /no interactive user response.*allowed_tools or profile yolo/);
});

Deno.test("copilot's recorded 401 is auth from session.error, with each retry as a warning", () => {
  const r = copilot.parse(recorded("error_401.jsonl"), { exitCode: 1, usageFileText: "{}" });
  assertEquals(r.is_error, true);
  assertEquals(r.failure?.category, "auth");
  assertMatch(r.failure?.message ?? "", /^Authentication failed with provider .*\(HTTP 401\)/);
  assertEquals(
    r.warnings.filter((w) => w === "copilot retried a model call (transient_auth_error, HTTP 401)")
      .length,
    2,
  );
  assertEquals([r.tokens.input, r.cost_usd, r.session_id], [
    0,
    null,
    "73401070-3a22-4253-a970-0b06cae15ea8",
  ]);
});

Deno.test("copilot's recorded 429-then-success is not an error; the retry is a warning", () => {
  const r = copilot.parse(recorded("retry_429.jsonl"), { exitCode: 0 });
  assertEquals([r.is_error, r.text], [false, "FAKE-OK 42"]);
  assert(
    r.warnings.includes("copilot retried a model call (rate_limit, HTTP 429)"),
    r.warnings.join(),
  );
});

Deno.test("copilot's session.error shapes map to categories (engine-clis.md §5 table)", () => {
  const fail = (data: Record<string, unknown>, exit: Partial<ExitInfo> = {}) =>
    copilot.parse([
      JSON.stringify({ type: "session.error", data }),
      `{"type":"result","sessionId":"s","exitCode":1}`,
    ], { exitCode: 1, ...exit }).failure?.category;
  assertEquals(
    fail({
      errorType: "rate_limit",
      message: "Failed to get response from the AI model; retried 5 times (total retry wait " +
        "time: 9.1 seconds) Last error: 429 fake provider forced error 429",
      statusCode: 429,
    }),
    "rate_limit",
  );
  const query = {
    errorType: "query",
    message: "Failed to get response from the AI model; retried 5 times (total retry wait time: " +
      "17.29 seconds) Last error: 500 fake provider forced error 500",
    statusCode: 500,
  };
  assertEquals(fail(query), "unknown");
  assertEquals(
    fail({ ...query, message: "Last error: 404 model gpt-9 not found", statusCode: 404 }),
    "model_unavailable",
  );
  assertEquals(
    fail({ errorType: "query", message: "prompt is too long: context window exceeded" }),
    "context_exceeded",
  );
  assertEquals(
    fail({ errorType: "quota_exceeded", message: "You have no premium requests left" }),
    "quota",
  );
  assertEquals(fail(query, { timedOut: true, exitCode: 124 }), "timeout");
});

Deno.test("copilot failures without events come from stderr; missing binary and timeout win", () => {
  const stderrOnly = (line: string) =>
    copilot.parse([], { exitCode: 1, stderrTail: [line] }).failure;
  assertEquals(stderrOnly("Error: No authentication information found.")?.category, "auth");
  const byok = stderrOnly("BYOK providers require an explicit model. Run `copilot help providers`");
  assertMatch(byok?.message ?? "", /^BYOK providers require an explicit model/);
  assertEquals(
    copilot.parse([], { exitCode: 127, notFound: true }).failure?.category,
    "cli_missing",
  );
  const timedOut = copilot.parse(recorded("say_hi.jsonl").slice(0, 5), {
    exitCode: 124,
    timedOut: true,
  });
  assertEquals([timedOut.is_error, timedOut.failure?.category], [true, "timeout"]);
  assertEquals(
    copilot.classify({ exit: { exitCode: 1 }, message: "x", reason: "authentication" }),
    "auth",
  );
});

Deno.test("copilot's usage file: cache reads leave input, models are priced each, unknown ones unpriced", () => {
  const usage = (metrics: Record<string, unknown>) => JSON.stringify({ modelMetrics: metrics });
  const m = (input: number, cacheRead: number, output: number) => ({
    usage: {
      inputTokens: input,
      outputTokens: output,
      cacheReadTokens: cacheRead,
      cacheWriteTokens: 1,
    },
  });
  const two = copilotUsage(usage({ "claude-sonnet-4.6": m(100, 40, 10), "gpt-5.4": m(20, 0, 5) }));
  assertEquals(two.tokens, { input: 80, cached: 40, output: 15 });
  const expected = priceTokens({ input: 60, cached: 40, output: 10 }, PRICING.claude!.sonnet!) +
    priceTokens({ input: 20, cached: 0, output: 5 }, PRICING.codex!["gpt-5.4"]!);
  assertEquals(two.cost, Math.round(expected * 1e8) / 1e8);
  const unknown = copilotUsage(usage({ "gpt-4.1": m(10, 0, 1) }));
  assertEquals([unknown.cost, unknown.warnings], [null, [
    "no price for copilot model 'gpt-4.1': cost unknown",
  ]]);
  const override = copilotUsage(usage({ "gpt-4.1": m(10, 0, 1) }), {
    MAESTRO_COPILOT_PRICING_JSON:
      `{"gpt-4.1":{"input_per_million":2,"cached_input_per_million":0.5,"output_per_million":8}}`,
  });
  assertEquals(override.cost, 0.000028);
  assertEquals(copilotUsage("not json").warnings, [
    "copilot usage file is not JSON; tokens unknown",
  ]);
});

Deno.test("copilot's pricing rows are the vendors' own rates (seed-behaviour §3)", () => {
  assertEquals(ratesFor("copilot", "claude-opus-4.6-fast"), PRICING.claude!.opus);
  assertEquals(ratesFor("copilot", "claude-haiku-4.5"), PRICING.claude!.haiku);
  assertEquals(ratesFor("copilot", "gpt-5.4-mini"), PRICING.codex!["gpt-5.4-mini"]);
  assertEquals(ratesFor("copilot", "gpt-5.3-codex"), PRICING.codex!["gpt-5.3-codex"]);
  assertEquals(ratesFor("copilot", "gemini-2.5-pro"), PRICING.gemini!["gemini-2.5-pro"]);
  assertEquals(ratesFor("copilot", "gpt-5-mini"), undefined);
});

Deno.test("copilot's argv: alias, effort, agent, usage file, wrapped prompt with retry feedback; own env only", () => {
  const inv = copilot.build(
    {
      id: "t",
      model: "sonnet",
      reasoning_effort: "high",
      agent: "reviewer",
      args: ["--allow-all"],
    },
    {
      ...ctx,
      profile: "yolo",
      systemPrompt: "Be brief.",
      retryFeedback: FEEDBACK,
      scratchDir: "/s",
    },
  );
  assertEquals(inv.argv, [
    "copilot",
    "--output-format",
    "json",
    "--no-auto-update",
    "--no-ask-user",
    "--model",
    "claude-sonnet-4.6",
    "--reasoning-effort",
    "high",
    "--agent",
    "reviewer",
    "--usage-output-file",
    "/s/copilot-usage.json",
    "--yolo",
    `--prompt=[System Instructions]\nBe brief.\n\n${FEEDBACK}\n\n[Task]\ndo it`,
  ]);
  assertEquals(inv.env, {
    COPILOT_PROVIDER_BASE_URL: "http://127.0.0.1:1/v1",
    COPILOT_PROVIDER_API_KEY: "c",
    GH_TOKEN: "gh",
  });
  assertEquals([inv.model, inv.usageFile, inv.warnings], [
    "claude-sonnet-4.6",
    "/s/copilot-usage.json",
    [],
  ]);
  const bare = copilot.build({ id: "t", args: [], reasoning_effort: "huge" }, ctx);
  assertEquals(bare.argv.at(-1), "--prompt=do it");
  assertEquals([bare.usageFile, bare.argv.includes("--usage-output-file")], [undefined, false]);
  assert(!bare.argv.includes("--reasoning-effort"));
  assertMatch(bare.warnings.join("\n"), /reasoning_effort must be one of .*'huge' ignored/);
  assertMatch(bare.warnings.join("\n"), /needs a model/);
});

Deno.test("copilot's profiles: plan keeps args, safe strips blanket grants, yolo adds --yolo once", () => {
  const args = ["--allow-all", "--allow-all-paths", "--log-level", "none"];
  assertEquals(copilotProfileArgs(args, "plan"), [
    "--yolo",
    "--allow-all-paths",
    "--log-level",
    "none",
  ]);
  assertEquals(copilotProfileArgs(args, "safe"), ["--log-level", "none"]);
  assertEquals(copilotProfileArgs(["--yolo", "--allow-all"], "yolo"), ["--yolo"]);
  assertEquals(copilotProfileArgs([], "yolo"), ["--yolo"]);
  assertEquals(copilotProfileArgs(["--allow-all-tools"], "yolo", true), []);
});

Deno.test("copilot's allowed_tools become allow/deny rules; a restriction beats yolo", () => {
  assertEquals(copilotToolRules(["git-only"]), {
    allow: ["shell(git:*)"],
    deny: ["write"],
    warnings: [],
  });
  assertEquals(copilotToolRules(["read-only"]), {
    allow: [],
    deny: ["shell", "write"],
    warnings: [],
  });
  assertEquals(copilotToolRules(["no-shell"]), { allow: ["write"], deny: ["shell"], warnings: [] });
  assertEquals(copilotToolRules(["Bash(npm test *)", "Edit", "Read", "MyMCP(tool)"]), {
    allow: ["shell(npm test:*)", "write", "MyMCP(tool)"],
    deny: [],
    warnings: [],
  });
  assertMatch(copilotToolRules(["src-scoped"]).warnings[0] ?? "", /enforced as read-only/);
  assertThrows(() => copilotToolRules(["rm -rf /"]), EngineBuildError);
  const inv = copilot.build({ id: "t", args: ["--yolo"], allowed_tools: ["git-only"] }, {
    ...ctx,
    profile: "yolo",
  });
  assert(!inv.argv.includes("--yolo"), inv.argv.join(" "));
  assertEquals(
    inv.argv.filter((a) => a.startsWith("--allow-tool") || a.startsWith("--deny-tool")),
    [
      "--allow-tool=shell(git:*)",
      "--deny-tool=write",
    ],
  );
  assertMatch(inv.warnings.join("\n"), /profile yolo grants only what it lists/);
});

// ----------------------------------------------------------------------------------- ollama

Deno.test("ollama's argv: default model, task args, --verbose, the wrapped prompt after --; OLLAMA_* only", () => {
  const inv = ollama.build({ id: "t", args: ["--keepalive", "5m"] }, {
    ...ctx,
    profile: "yolo",
    systemPrompt: "SYS",
    retryFeedback: FEEDBACK,
  });
  assertEquals(inv.argv, [
    "ollama",
    "run",
    "llama3",
    "--verbose",
    "--keepalive",
    "5m",
    "--",
    `[System Instructions]\nSYS\n\n${FEEDBACK}\n\n[Task]\ndo it`,
  ]);
  assertEquals([inv.env, inv.model, inv.warnings], [{ OLLAMA_HOST: "127.0.0.1:9" }, "llama3", []]);
  const warned = ollama.build(
    { id: "t", model: "qwen3-coder", args: [], reasoning_effort: "high", allowed_tools: ["Read"] },
    ctx,
  );
  assertEquals(warned.argv.slice(0, 3), ["ollama", "run", "qwen3-coder"]);
  assertEquals(warned.argv.at(-1), "do it");
  assertMatch(warned.warnings.join("\n"), /no reasoning effort.*\n.*without tools/);
});

Deno.test("ollama's answer drops the thinking block; --verbose stats on stderr give tokens; cost is 0", () => {
  const stdout = [
    "Thinking...",
    "The user wants a greeting.",
    "...done thinking.",
    "",
    "Hello there!",
    "",
  ];
  const stderr = [
    "\x1b[?25l\x1b[?25h\x1b[2K\x1b[1Gtotal duration:       753.50525ms",
    "load duration:        1.031375ms",
    "prompt eval count:    36 token(s)",
    "prompt eval duration: 75.311ms",
    "prompt eval rate:     212.45 tokens/s",
    "eval count:           34 token(s)",
    "eval duration:        674.9ms",
    "eval rate:            50.38 tokens/s",
  ];
  const r = ollama.parse(stdout, { exitCode: 0, stderrTail: stderr }, { model: "llama3" });
  assertEquals(r.text, "Hello there!");
  assertEquals(r.tokens, { input: 36, cached: 0, output: 34 });
  assertEquals([r.cost_usd, r.cost_source, r.num_turns, r.is_error], [0, "priced", 1, false]);
  const hosted = ollama.parse(stdout, { exitCode: 0, stderrTail: stderr }, {
    env: {
      MAESTRO_OLLAMA_PRICING_JSON:
        `{"default":{"input_per_million":1,"cached_input_per_million":0,"output_per_million":2}}`,
    },
  });
  assertEquals([hosted.cost_usd, hosted.cost_source], [0.000104, "priced"]);
  const silent = ollama.parse([], { exitCode: 0 });
  assertEquals([silent.tokens.output, silent.warnings], [0, ["ollama printed no answer"]]);
});

Deno.test("ollama's errors: no server and missing model are model_unavailable with a fix", () => {
  const fail = (line: string, model = "llama3") =>
    ollama.parse([], { exitCode: 1, stderrTail: [line] }, {
      model,
      env: { OLLAMA_HOST: "10.0.0.5:11434" },
    }).failure;
  const down = fail("Error: could not connect to ollama server, run 'ollama serve' to start it");
  assertEquals(down?.category, "model_unavailable");
  assertMatch(
    down?.message ?? "",
    /^could not connect.*\nHint: no ollama server answers at 10\.0\.0\.5:11434/,
  );
  const pull = fail("Error: pull model manifest: file does not exist", "llama9");
  assertEquals(pull?.category, "model_unavailable");
  assertMatch(pull?.message ?? "", /`ollama pull llama9`/);
  const offline = fail(
    'Error: pull model manifest: Get "https://registry.ollama.ai/v2/library/llama3/manifests/latest": dial tcp: lookup registry.ollama.ai: no such host',
  );
  assertMatch(offline?.message ?? "", /Hint: the model is not available locally/);
  assertEquals(
    fail('Error: model "llama3" not found, try pulling it first')?.category,
    "model_unavailable",
  );
  assertEquals(fail("Error: unauthorized")?.category, "auth");
  assertEquals(fail("Error: something odd")?.category, "unknown");
  assertEquals(ollama.parse([], { exitCode: 124, timedOut: true }).failure?.category, "timeout");
  assertEquals(
    ollama.parse([], { exitCode: 127, notFound: true }).failure?.category,
    "cli_missing",
  );
  assertEquals(
    ollama.classify({ exit: { exitCode: 1 }, message: "connection refused" }),
    "model_unavailable",
  );
});

// ------------------------------------------------------------------------------------ llama

Deno.test("llama's argv: alias joined with LLAMA_MODEL_DIR, wrapped prompt, -st unless -no-cnv; LLAMA_* only", () => {
  const inv = llama.build({ id: "t", model: "llama3.2", args: ["-n", "64"] }, {
    ...ctx,
    retryFeedback: FEEDBACK,
  });
  assertEquals(inv.argv, [
    "llama-cli",
    "-m",
    "/models/llama-3.2-3b",
    "-p",
    `[System Instructions]\n${FEEDBACK}\n\n[Task]\ndo it`,
    "--no-display-prompt",
    "-st",
    "-n",
    "64",
  ]);
  assertEquals([inv.env, inv.model, inv.warnings], [
    { LLAMA_MODEL_DIR: "/models/" },
    "/models/llama-3.2-3b",
    [],
  ]);
  const abs = llama.build({ id: "t", model: "/m/x.gguf", args: ["-no-cnv"] }, ctx);
  assertEquals(abs.argv, [
    "llama-cli",
    "-m",
    "/m/x.gguf",
    "-p",
    "do it",
    "--no-display-prompt",
    "-no-cnv",
  ]);
  const none = llama.build({ id: "t", args: [] }, { ...ctx, parentEnv: {} });
  assertEquals(none.argv.slice(0, 2), ["llama-cli", "-p"]);
  assertMatch(none.warnings[0] ?? "", /needs a model file/);
});

Deno.test("llama's answer drops end markers; perf lines on stderr give tokens (old and new names)", () => {
  const r = llama.parse(["Hello there!", " [end of text]", ""], {
    exitCode: 0,
    stderrTail: [
      "llama_perf_sampler_print:    sampling time =       0.50 ms /    10 runs   (    0.05 ms per token, 20000.00 tokens per second)",
      "llama_perf_context_print:        load time =     321.00 ms",
      "llama_perf_context_print: prompt eval time =     100.00 ms /    12 tokens (    8.33 ms per token,   120.00 tokens per second)",
      "llama_perf_context_print:        eval time =     200.00 ms /     9 runs   (   22.22 ms per token,    45.00 tokens per second)",
      "llama_perf_context_print:       total time =     400.00 ms /    21 tokens",
    ],
  });
  assertEquals([r.text, r.tokens, r.cost_usd, r.cost_source], [
    "Hello there!",
    { input: 12, cached: 0, output: 9 },
    0,
    "priced",
  ]);
  const old = llama.parse(["Hi", "", "Exiting..."], {
    exitCode: 0,
    stderrTail: [
      "llama_print_timings: prompt eval time =  1001.3 ms /     7 tokens (  143.04 ms per token)",
      "llama_print_timings:        eval time =  2002.6 ms /    30 runs   (   66.75 ms per token)",
    ],
  });
  assertEquals([old.text, old.tokens], ["Hi", { input: 7, cached: 0, output: 30 }]);
});

Deno.test("llama's errors: a missing model file is model_unavailable; an unknown flag gets a hint", () => {
  const fail = (lines: string[]) =>
    llama.parse([], { exitCode: 1, stderrTail: lines }, {
      model: "/models/llama-3-8b",
      env: { LLAMA_MODEL_DIR: "/models" },
    }).failure;
  const missing = fail([
    "gguf_init_from_file_impl: failed to open GGUF file '/models/llama-3-8b' (No such file or directory)",
    "llama_model_load: error loading model: llama_model_loader: failed to load model from /models/llama-3-8b",
    "llama_model_load_from_file_impl: failed to load model",
    "common_init_from_params: failed to load model '/models/llama-3-8b'",
    "main: error: unable to load model",
  ]);
  assertEquals(missing?.category, "model_unavailable");
  assertMatch(missing?.message ?? "", /Hint: .*'\/models\/llama-3-8b'.*LLAMA_MODEL_DIR=\/models/);
  const flag = fail(["error: invalid argument: -st"]);
  assertEquals(flag?.category, "unknown");
  assertMatch(flag?.message ?? "", /add -no-cnv/);
  assertEquals(
    fail(["main: prompt too long (5000 tokens, max 4092)"])?.category,
    "context_exceeded",
  );
  assertEquals(llama.parse([], { exitCode: 124, timedOut: true }).failure?.category, "timeout");
});

// ------------------------------------------------------------------------- shared plumbing

Deno.test("instructedPrompt() wraps only when there is system text", () => {
  assertEquals(instructedPrompt(ctx), "do it");
  assertEquals(
    instructedPrompt({ ...ctx, systemPrompt: " ", retryFeedback: "FB" }),
    "[System Instructions]\nFB\n\n[Task]\ndo it",
  );
});

Deno.test("the registry serves copilot, ollama and llama with their binaries", () => {
  assertEquals(
    ["copilot", "ollama", "llama"].map((n) => ENGINES[n]?.binary),
    ["copilot", "ollama", "llama-cli"],
  );
});

Deno.test("the runtime gives the adapter a scratch dir, hands the usage file to the parser, then removes it", async () => {
  const dir = await mkdtemp(join(tmpdir(), "maestro-usage-"));
  const seen: { scratch?: string; usage?: string } = {};
  const engine: Engine = {
    name: "fake",
    binary: "sh",
    build(_task, c) {
      seen.scratch = c.scratchDir;
      const usageFile = `${c.scratchDir}/usage.json`;
      return {
        argv: ["sh", "-c", `printf '{"tokens":7}' > "$1"; echo done`, "sh", usageFile],
        env: {},
        usageFile,
        warnings: [],
      };
    },
    parser: () => ({
      push() {},
      finish(exit) {
        seen.usage = exit.usageFileText;
        return { ...emptyResult(), text: "done" };
      },
    }),
    parse: () => emptyResult(),
    classify: () => "unknown",
  };
  try {
    const result = await runTask({
      task: fixtureTask("t", [], {
        kind: "engine",
        engine: "claude",
        command: undefined,
        workdir: dir,
        prompt: { kind: "inline", text: "hi" },
      }),
      logPath: join(dir, "t.log"),
      env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
      render: (t) => t,
      bus: new EventBus("p"),
      signal: new AbortController().signal,
      mask: (t) => t,
      engines: () => engine,
      sleep: () => Promise.resolve(),
    });
    assertEquals(result.status, "success", result.message);
    assertEquals(seen.usage, '{"tokens":7}');
    assert(seen.scratch && !existsSync(seen.scratch), `scratch dir left behind: ${seen.scratch}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

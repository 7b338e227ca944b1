/**
 * Unit tests of the gemini and qwen adapters on recorded output (engine-clis.md §3–4 shapes,
 * re-captured from gemini-cli 0.61.0 and qwen-code 0.15.10 against the fake model server).
 */
import {
  deepStrictEqual as assertEquals,
  match as assertMatch,
  ok as assert,
  throws as assertThrows,
} from "node:assert/strict";
import { gemini, geminiToolEntries } from "../../engines/gemini.ts";
import { approvalMode, approvalProfileArgs, familyTokens } from "../../engines/gemini_family.ts";
import { priceTokens, ratesFor } from "../../engines/pricing.ts";
import { qwen, qwenToolFlags } from "../../engines/qwen.ts";
import type { BuildContext, ExitInfo } from "../../engines/types.ts";

const ctx: BuildContext = {
  prompt: "do it",
  systemPrompt: "",
  retryFeedback: "",
  profile: "plan",
  workdir: "/w",
  parentEnv: {
    ANTHROPIC_API_KEY: "a",
    OPENAI_API_KEY: "o",
    OPENAI_BASE_URL: "http://h/v1",
    GEMINI_API_KEY: "g",
    GOOGLE_GEMINI_BASE_URL: "http://h",
    GOOGLE_CLOUD_PROJECT: "p",
    DASHSCOPE_API_KEY: "d",
    QWEN_HOME: "/q",
    COPILOT_PROVIDER_API_KEY: "c",
  },
};

const SID = "df9c4e3e-cdc8-4b18-a621-740ec873a6d2";
const T = `"timestamp":"2026-11-24T05:25:04.736Z"`;
const geminiInit = (model: string) =>
  `{"type":"init",${T},"session_id":"${SID}","model":"${model}"}`;
const geminiUser = `{"type":"message",${T},"role":"user","content":"say hi"}`;
const zeroStats =
  `"stats":{"total_tokens":0,"input_tokens":0,"output_tokens":0,"cached":0,"input":0,"duration_ms":0,"tool_calls":0,"models":{"gemini-2.5-pro":{"total_tokens":0,"input_tokens":0,"output_tokens":0,"cached":0,"input":0}}}`;

const GEMINI_OK = [
  geminiInit("gemini-2.5-pro"),
  geminiUser,
  `Warning: not json`,
  `{"type":"message",${T},"role":"assistant","content":"FAKE-OK","delta":true}`,
  `{"type":"message",${T},"role":"assistant","content":" 42","delta":true}`,
  `{"type":"result",${T},"status":"success","stats":{"total_tokens":18,"input_tokens":11,"output_tokens":7,"cached":0,"input":11,"duration_ms":313,"tool_calls":0,"models":{"gemini-2.5-pro":{"total_tokens":18,"input_tokens":11,"output_tokens":7,"cached":0,"input":11}}}}`,
];

Deno.test("gemini's stream-json gives the joined deltas, token stats, a priced cost and the session", () => {
  const r = gemini.parse(GEMINI_OK, { exitCode: 0 }, { model: "gemini-2.5-pro" });
  assertEquals(r.text, "FAKE-OK 42");
  assertEquals(r.tokens, { input: 11, cached: 0, output: 7 });
  assertEquals(r.cost_source, "priced");
  assertEquals(r.cost_usd, priceTokens(r.tokens, ratesFor("gemini", "gemini-2.5-pro")!));
  assertEquals(r.cost_usd, 0.00008375);
  assertEquals([r.session_id, r.num_turns, r.is_error], [SID, 1, false]);
  assert(r.warnings.some((w) => w.includes("1 stdout line(s) were not JSON")));
});

Deno.test("gemini prices each model of a routed run and leaves the cost unknown for an unpriced one", () => {
  const routed = [
    geminiInit("auto"),
    `{"type":"message",${T},"role":"assistant","content":"FAKE-OK 42","delta":true}`,
    `{"type":"result",${T},"status":"success","stats":{"total_tokens":46,"input_tokens":22,"output_tokens":14,"cached":4,"input":18,"duration_ms":191,"tool_calls":0,"models":{"gemini-3.5-flash-lite":{"total_tokens":18,"input_tokens":11,"output_tokens":7,"cached":0,"input":11},"gemini-2.5-pro":{"total_tokens":28,"input_tokens":11,"output_tokens":7,"cached":4,"input":7}}}}`,
  ];
  const r = gemini.parse(routed, { exitCode: 0 });
  // cached tokens are not input; thinking tokens (total − prompt − candidates = 10) are output
  assertEquals(r.tokens, { input: 18, cached: 4, output: 24 });
  assertEquals([r.cost_usd, r.cost_source], [null, "unknown"]);
  assert(r.warnings.some((w) => /gemini-3\.5-flash-lite.*MAESTRO_GEMINI_PRICING_JSON/.test(w)));
  const env = {
    MAESTRO_GEMINI_PRICING_JSON:
      `{"gemini-3.5-flash-lite":{"input_per_million":1,"cached_input_per_million":0,"output_per_million":1}}`,
  };
  const priced = gemini.parse(routed, { exitCode: 0 }, { env });
  const pro = priceTokens(
    { input: 7, cached: 4, output: 17 },
    ratesFor("gemini", "gemini-2.5-pro")!,
  );
  assertEquals(priced.cost_source, "priced");
  assertEquals(priced.cost_usd, Math.round((pro + 18 / 1e6) * 1e8) / 1e8);
});

Deno.test("gemini's tool events become tool calls and the text is the answer after the last tool", () => {
  const lines = [
    geminiInit("gemini-2.5-pro"),
    `{"type":"message",${T},"role":"assistant","content":"Let me write it.","delta":true}`,
    `{"type":"tool_use",${T},"tool_name":"run_shell_command","tool_id":"run_shell_command__call_1","parameters":{"command":"echo FAKE-TOOL-RAN > tool.txt"}}`,
    `{"type":"tool_result",${T},"tool_id":"run_shell_command__call_1","status":"success","output":""}`,
    `{"type":"tool_use",${T},"tool_name":"write_file","tool_id":"write_file__call_2","parameters":{"file_path":"x"}}`,
    `{"type":"tool_result",${T},"tool_id":"write_file__call_2","status":"error","output":"","error":{"type":"tool_not_registered","message":"Tool \\"write_file\\" not found in registry."}}`,
    `{"type":"error",${T},"severity":"warning","message":"Loop detected, stopping execution"}`,
    `{"type":"message",${T},"role":"assistant","content":"FAKE-OK 42","delta":true}`,
    `{"type":"result",${T},"status":"success","stats":{"total_tokens":36,"input_tokens":22,"output_tokens":14,"cached":0,"input":22,"duration_ms":813,"tool_calls":2,"models":{"gemini-2.5-pro":{"total_tokens":36,"input_tokens":22,"output_tokens":14,"cached":0,"input":22}}}}`,
  ];
  const r = gemini.parse(lines, { exitCode: 0 });
  assertEquals(r.text, "FAKE-OK 42");
  assertEquals(r.tool_calls, [
    { name: "run_shell_command", input: { command: "echo FAKE-TOOL-RAN > tool.txt" } },
    { name: "write_file", input: { file_path: "x" } },
  ]);
  assertEquals(r.num_turns, 3);
  assertEquals(r.is_error, false);
  assert(r.warnings.some((w) => /tool write_file failed: .*not found in registry/.test(w)));
  assert(r.warnings.includes("warning: Loop detected, stopping execution"));
});

/** A gemini API error as stream-json reports it: a result line, rc = HTTP status mod 256. */
function geminiApiError(message: string, exit: ExitInfo) {
  return gemini.parse([
    geminiInit("gemini-2.5-pro"),
    geminiUser,
    `{"type":"result",${T},"status":"error","error":{"type":"unknown","message":${
      JSON.stringify(message)
    }},${zeroStats}}`,
  ], exit);
}

Deno.test("gemini API errors are failures classified from the body, the 429 hint and the exit code", () => {
  const body = (code: number, status: string) =>
    `[API Error: {"error":{"code":${code},"message":"fake provider forced error ${code}","status":"${status}"}}]`;
  const auth = geminiApiError(body(401, "UNAUTHENTICATED"), { exitCode: 145 });
  assertEquals([auth.is_error, auth.failure?.category], [true, "auth"]);
  assertMatch(auth.failure?.message ?? "", /forced error 401/);
  assertEquals(auth.tokens, { input: 0, cached: 0, output: 0 });
  // 429: the CLI's hint says "quota" on every rate limit; it must not make it a quota failure
  const limited = geminiApiError(
    "[API Error: fake provider forced error 429]\nPlease wait and try again later. To increase " +
      "your limits, request a quota increase through AI Studio, or switch to another /auth method",
    { exitCode: 173 },
  );
  assertEquals(limited.failure?.category, "rate_limit");
  assertEquals(
    geminiApiError(body(500, "INTERNAL"), { exitCode: 244 }).failure?.category,
    "unknown",
  );
  // no status in the text: the exit code (status mod 256) tells it
  assertEquals(geminiApiError("[API Error: denied]", { exitCode: 147 }).failure?.category, "auth");
  // a 404 exits 1; the status is only in the error dump on stderr
  const missing = geminiApiError("[API Error: fake provider forced error 404]", {
    exitCode: 1,
    stderrTail: ["    at async main (file:///x/gemini.js:17627:5) {", "  code: 404", "}"],
  });
  assertEquals(missing.failure?.category, "model_unavailable");
  const quota = geminiApiError(
    "[API Error: You exceeded your current quota, please check your plan and billing details. " +
      "(Status: RESOURCE_EXHAUSTED)]",
    { exitCode: 173 },
  );
  assertEquals(quota.failure?.category, "quota");
  const tooLong = geminiApiError(
    "[API Error: The input token count (1200000) exceeds the maximum number of tokens allowed " +
      "(1048576). (Status: INVALID_ARGUMENT)]",
    { exitCode: 144 },
  );
  assertEquals(tooLong.failure?.category, "context_exceeded");
});

Deno.test("gemini's fatal exits without a result line are classified from rc and stderr", () => {
  const stderr = (lines: string[], exitCode: number) =>
    gemini.parse([], { exitCode, stderrTail: lines });
  const gateway = stderr([
    "Warning: 256-color support not detected. Using a terminal with at least 256-color support.",
    "Invalid auth method selected.",
  ], 41);
  assertEquals(gateway.failure?.category, "auth");
  assertMatch(
    gateway.failure?.message ?? "",
    /^Invalid auth method selected\.\nHint: .*selectedType/,
  );
  const noKey = stderr([
    "When using Gemini API, you must specify the GEMINI_API_KEY environment variable.",
  ], 41);
  assertEquals(noKey.failure?.category, "auth");
  const untrusted = stderr([
    "\x1b[31mGemini CLI is not running in a trusted directory. To proceed, either use " +
    "`--skip-trust`, set the `GEMINI_CLI_TRUST_WORKSPACE=true` environment variable\x1b[0m",
  ], 55);
  assertEquals(untrusted.failure?.category, "unknown");
  assertMatch(untrusted.failure?.message ?? "", /^Gemini CLI is not running in a trusted dir/);
  const turns = gemini.parse([
    geminiInit("gemini-2.5-pro"),
    `{"type":"result",${T},"status":"error","error":{"type":"FatalTurnLimitedError","message":"Reached max session turns for this session. Increase the number of turns by specifying maxSessionTurns in settings.json."},${zeroStats}}`,
  ], { exitCode: 53 });
  assertEquals(turns.failure?.category, "max_turns");
  assertEquals(gemini.parse([], { exitCode: 124, timedOut: true }).failure?.category, "timeout");
  assertEquals(
    gemini.parse([], { exitCode: 127, notFound: true }).failure?.category,
    "cli_missing",
  );
  // rc 0 without a result line is not a success
  assertEquals(gemini.parse([geminiInit("m")], { exitCode: 0 }).is_error, true);
  assertEquals(gemini.classify({ exit: { exitCode: 173 }, message: "" }), "rate_limit");
});

Deno.test("gemini's argv: stream-json, trust, aliases, allowed tools and the wrapped prompt last", () => {
  const inv = gemini.build(
    {
      id: "t",
      model: "pro",
      reasoning_effort: "high",
      args: ["--yolo", "--include-directories=../lib"],
      allowed_tools: ["Bash(git *)", "Read", "write_file"],
    },
    { ...ctx, profile: "safe", systemPrompt: "SYS", retryFeedback: "\n\nFEEDBACK" },
  );
  assertEquals(inv.argv, [
    "gemini",
    "--output-format",
    "stream-json",
    "--skip-trust",
    "--model",
    "gemini-2.5-pro",
    "--allowed-tools=read_file",
    "--allowed-tools=run_shell_command(git)",
    "--allowed-tools=write_file",
    "--include-directories=../lib",
    "--approval-mode",
    "default",
    "--prompt=[System Instructions]\nSYS\n\nFEEDBACK\n\n[Task]\nIMPORTANT: You are restricted " +
    "to using ONLY these tools: read_file, run_shell_command(git), write_file. Do not use any " +
    "other tools.\n\ndo it",
  ]);
  assertEquals(inv.model, "gemini-2.5-pro");
  // only gemini's own provider variables: never another engine's key
  assertEquals(inv.env, {
    GEMINI_API_KEY: "g",
    GOOGLE_GEMINI_BASE_URL: "http://h",
    GOOGLE_CLOUD_PROJECT: "p",
  });
  assert(inv.warnings.some((w) => /no reasoning-effort option.*'high'/.test(w)));
  assert(!inv.warnings.some((w) => w.includes("withholds")), String(inv.warnings));
});

Deno.test("gemini's profiles set the approval mode and warn when the agent will lack tools", () => {
  const plan = gemini.build({ id: "t", args: [] }, ctx);
  assertEquals(plan.argv, [
    "gemini",
    "--output-format",
    "stream-json",
    "--skip-trust",
    "--prompt=do it",
  ]);
  assert(plan.warnings.some((w) => /approval mode 'default'.*can only read/.test(w)));
  const yolo = gemini.build(
    { id: "t", args: ["--approval-mode", "plan", "-p", "x"], allowed_tools: ["read-only"] },
    { ...ctx, profile: "yolo" },
  );
  assertEquals(yolo.argv.slice(-3), [
    "--approval-mode",
    "yolo",
    "--prompt=IMPORTANT: You are restricted to using ONLY these tools: glob, grep_search, " +
    "list_directory, read_file. Do not use any other tools.\n\ndo it",
  ]);
  assert(yolo.warnings.some((w) => /enforced by the prompt text only/.test(w)));
  const untrusting = gemini.build({ id: "t", args: [] }, {
    ...ctx,
    profile: "yolo",
    parentEnv: { GEMINI_CLI_TRUST_WORKSPACE: "false" },
  });
  assert(!untrusting.argv.includes("--skip-trust"));
  assertEquals(untrusting.warnings, []);
  assertThrows(
    () => gemini.build({ id: "t", args: [], allowed_tools: ["src-scoped"] }, ctx),
    /unsupported allowed_tools entry 'src-scoped'/,
  );
  assertThrows(
    () => qwen.build({ id: "t", args: [], allowed_tools: ["Read", "src-scoped"] }, ctx),
    /qwen: unsupported allowed_tools entry 'src-scoped'/,
  );
});

Deno.test("allowed_tools expand per engine: gemini names and prefixes, qwen allow and exclude lists", () => {
  assertEquals(geminiToolEntries(["git-only", "Edit", "Bash(npm:*)"]), [
    "glob",
    "grep_search",
    "list_directory",
    "read_file",
    "replace",
    "run_shell_command(git)",
    "run_shell_command(npm)",
  ]);
  assertEquals(qwenToolFlags(["read-only"]), {
    allow: ["glob", "grep_search", "list_directory", "read_file"],
    exclude: [
      "agent",
      "edit",
      "monitor",
      "run_shell_command",
      "save_memory",
      "skill",
      "todo_write",
      "web_fetch",
      "write_file",
    ],
  });
  const git = qwenToolFlags(["Bash(git *)", "Write"]);
  assertEquals(git.allow, ["Bash(git *)", "Write"]);
  assert(!git.exclude.includes("run_shell_command") && !git.exclude.includes("write_file"));
  assert(git.exclude.includes("edit"));
  assertEquals(approvalMode(["-y", "--approval-mode=auto_edit"]), "auto_edit");
  assertEquals(approvalProfileArgs(["--yolo", "x"], "safe"), ["x", "--approval-mode", "default"]);
  assertEquals(approvalProfileArgs(["--yolo", "x"], "plan"), ["--yolo", "x"]);
  assertEquals(familyTokens({ input_tokens: 10, cached: 20, output_tokens: 1 }), {
    input: 0,
    cached: 10,
    output: 1,
  });
});

const QSID = "eb8229c6-1374-46dc-ba98-f9b020b2c1da";
const qwenInit =
  `{"type":"system","subtype":"init","uuid":"${QSID}","session_id":"${QSID}","cwd":"/tmp/qw","tools":["read_file","run_shell_command"],"mcp_servers":[],"model":"qwen3-coder-plus","permission_mode":"default","qwen_code_version":"0.15.10"}`;
const qwenAssistant = (content: string, usage = `{"input_tokens":11,"output_tokens":7}`) =>
  `{"type":"assistant","uuid":"u1","session_id":"${QSID}","parent_tool_use_id":null,"message":{"id":"u1","type":"message","role":"assistant","model":"qwen3-coder-plus","content":${content},"stop_reason":null,"usage":${usage}}}`;
const qwenResult = (text: string, usage: string, extra = "") =>
  `{"type":"result","subtype":"success","uuid":"r1","session_id":"${QSID}","is_error":false,"duration_ms":463,"duration_api_ms":167,"num_turns":1,"result":${
    JSON.stringify(text)
  },"usage":${usage},"permission_denials":[]${extra}}`;

Deno.test("qwen's stream-json gives the result text, all calls' usage, a priced cost and the session", () => {
  const r = qwen.parse(
    [
      qwenInit,
      qwenAssistant(`[{"type":"text","text":"FAKE-OK 42"}]`),
      "garbage",
      qwenResult(
        "FAKE-OK 42",
        `{"input_tokens":22,"output_tokens":14,"cache_read_input_tokens":2,"total_tokens":36}`,
      ),
    ],
    { exitCode: 0 },
    { model: "qwen3-coder-plus" },
  );
  assertEquals(r.text, "FAKE-OK 42");
  assertEquals(r.tokens, { input: 20, cached: 2, output: 14 });
  assertEquals(r.cost_source, "priced");
  assertEquals(r.cost_usd, priceTokens(r.tokens, ratesFor("qwen", "qwen3-coder-plus")!));
  assertEquals([r.session_id, r.num_turns, r.is_error], [QSID, 1, false]);
  assert(r.warnings.some((w) => w.includes("not JSON")));
});

Deno.test("qwen's tool_use blocks become tool calls and permission denials warnings", () => {
  const r = qwen.parse([
    qwenInit,
    qwenAssistant(
      `[{"type":"tool_use","id":"call_1","name":"run_shell_command","input":{"command":"echo hi > f"}}]`,
    ),
    `{"type":"user","uuid":"u2","session_id":"${QSID}","parent_tool_use_id":null,"message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"call_1","is_error":true,"content":"Command exited 1"}]}}`,
    qwenAssistant(`[{"type":"text","text":"FAKE-OK 42"}]`),
    `{"type":"result","subtype":"success","uuid":"r1","session_id":"${QSID}","is_error":false,"num_turns":2,"result":"FAKE-OK 42","usage":{"input_tokens":22,"output_tokens":14},"permission_denials":[{"tool_name":"write_file","tool_use_id":"c2","tool_input":{}}]}`,
  ], { exitCode: 0 });
  assertEquals(r.tool_calls, [{ name: "run_shell_command", input: { command: "echo hi > f" } }]);
  assertEquals([r.num_turns, r.is_error], [2, false]);
  assert(r.warnings.some((w) => w.startsWith("tool call failed: Command exited 1")));
  assert(r.warnings.some((w) => /qwen denied tool\(s\) write_file/.test(w)));
});

Deno.test("qwen's API errors exit 0 as a success result and are failures with the right category", () => {
  const apiError = (text: string) =>
    qwen.parse([
      qwenInit,
      qwenAssistant(`[{"type":"text","text":${JSON.stringify(text)}}]`),
      qwenResult(text, `{"input_tokens":0,"output_tokens":0,"cache_read_input_tokens":0}`),
    ], { exitCode: 0 });
  const auth = apiError("[API Error: 401 fake provider forced error 401]");
  assertEquals([auth.is_error, auth.failure?.category], [true, "auth"]);
  assertEquals(auth.failure?.message, "[API Error: 401 fake provider forced error 401]");
  assertEquals(auth.cost_source, "unknown");
  const limited = apiError(
    "[API Error: 429 fake provider forced error 429]\nPossible quota limitations in place or " +
      "slow response times detected. Please wait and try again later.",
  );
  assertEquals(limited.failure?.category, "rate_limit");
  assertEquals(
    apiError("[API Error: 500 fake provider forced error 500]").failure?.category,
    "unknown",
  );
  assertEquals(
    apiError("[API Error: 400 This model's maximum context length is 131072 tokens]").failure
      ?.category,
    "context_exceeded",
  );
  assertEquals(
    apiError("[API Error: 404 The model `qwen-nope` does not exist]").failure?.category,
    "model_unavailable",
  );
});

Deno.test("qwen's error results, turn limit and missing binary are classified", () => {
  const errorResult = (message: string) =>
    qwen.parse([
      `{"type":"result","subtype":"error_during_execution","uuid":"r","session_id":"s","is_error":true,"duration_ms":0,"duration_api_ms":0,"num_turns":0,"usage":{"input_tokens":0,"output_tokens":0},"permission_denials":[],"error":{"message":${
        JSON.stringify(message)
      }}}`,
    ], { exitCode: 1 });
  const noKey = errorResult(
    "Missing API key for OpenAI-compatible auth. Set settings.security.auth.apiKey, or set the " +
      "'OPENAI_API_KEY' environment variable.",
  );
  assertEquals([noKey.is_error, noKey.failure?.category], [true, "auth"]);
  assertEquals(
    errorResult(
      "No auth type is selected. Please configure an auth type (e.g. via settings or " +
        "`--auth-type`) before running in non-interactive mode.",
    ).failure?.category,
    "auth",
  );
  const turns = qwen.parse([qwenInit], {
    exitCode: 53,
    stderrTail: [
      "Reached max session turns for this session. Increase the number of turns by specifying " +
      "maxSessionTurns in settings.json.",
    ],
  });
  assertEquals(turns.failure?.category, "max_turns");
  assertMatch(turns.failure?.message ?? "", /^Reached max session turns/);
  assertEquals(qwen.parse([], { exitCode: 127, notFound: true }).failure?.category, "cli_missing");
  assertEquals(qwen.parse([], { exitCode: 124, timedOut: true }).failure?.category, "timeout");
});

Deno.test("qwen's argv: auth type, aliases, appended system prompt with feedback, tools, prompt last", () => {
  const inv = qwen.build(
    {
      id: "t",
      model: "coder",
      reasoning_effort: "high",
      args: ["--max-session-turns", "5", "--yolo"],
      allowed_tools: ["read-only"],
    },
    { ...ctx, profile: "yolo", systemPrompt: "SYS", retryFeedback: "FEEDBACK" },
  );
  assertEquals(inv.argv.slice(0, 8), [
    "qwen",
    "--output-format",
    "stream-json",
    "--auth-type",
    "openai",
    "--model",
    "qwen-coder-plus",
    "--append-system-prompt=SYS\n\nFEEDBACK",
  ]);
  assert(inv.argv.includes("--allowed-tools=read_file"));
  assert(inv.argv.includes("--exclude-tools=run_shell_command"));
  assertEquals(inv.argv.slice(-5), [
    "--max-session-turns",
    "5",
    "--approval-mode",
    "yolo",
    "--prompt=IMPORTANT: You are restricted to using ONLY these tools: glob, grep_search, " +
    "list_directory, read_file. Do not use any other tools.\n\ndo it",
  ]);
  assertEquals(inv.model, "qwen-coder-plus");
  // only qwen's own provider variables: never another engine's key
  assertEquals(inv.env, {
    OPENAI_API_KEY: "o",
    OPENAI_BASE_URL: "http://h/v1",
    DASHSCOPE_API_KEY: "d",
    QWEN_HOME: "/q",
  });
  assert(inv.warnings.some((w) => /reasoning\.effort in ~\/\.qwen\/settings\.json/.test(w)));
  const own = qwen.build({ id: "t", args: ["--auth-type=anthropic"] }, ctx);
  assert(!own.argv.includes("openai"));
  assert(own.warnings.some((w) => /approval mode 'default'/.test(w)));
  assertEquals(own.argv.at(-1), "--prompt=do it");
  assertEquals(qwen.altBinaries, ["qwen-code"]);
  const git = qwen.build({ id: "t", args: [], allowed_tools: ["git-only"] }, ctx);
  assert(git.warnings.some((w) => /Bash\(git \*\) as an auto-approval rule only/.test(w)));
});

/** Unit tests of the claude and codex adapters on recorded output (engine-clis.md shapes). */
import {
  deepStrictEqual as assertEquals,
  match as assertMatch,
  ok as assert,
  throws as assertThrows,
} from "node:assert/strict";
import { claude } from "../../engines/claude.ts";
import { codex } from "../../engines/codex.ts";
import { copilot } from "../../engines/copilot.ts";
import { priceTokens, ratesFor } from "../../engines/pricing.ts";
import type { BuildContext } from "../../engines/types.ts";

const ctx: BuildContext = {
  prompt: "do it",
  systemPrompt: "",
  retryFeedback: "",
  profile: "plan",
  workdir: "/w",
  parentEnv: { ANTHROPIC_API_KEY: "a", OPENAI_API_KEY: "o", GEMINI_API_KEY: "g" },
};

const CLAUDE_OK = [
  `{"type":"system","subtype":"init","cwd":"/w","session_id":"84762ebb-c811-4ee4-bd1b-affbf5b580a0","tools":["Bash"],"model":"claude-sonnet-4-5","permissionMode":"default","apiKeySource":"ANTHROPIC_API_KEY","claude_code_version":"2.1.197"}`,
  `{"type":"assistant","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"tool_use","id":"toolu_1","name":"Bash","input":{"command":"echo FAKE-TOOL-RAN > tool.txt"}}],"stop_reason":"tool_use","usage":{"input_tokens":11,"output_tokens":7}},"session_id":"84762ebb-c811-4ee4-bd1b-affbf5b580a0"}`,
  `{"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":""}]},"tool_use_result":{"stdout":"","stderr":""},"session_id":"84762ebb-c811-4ee4-bd1b-affbf5b580a0"}`,
  `not json at all`,
  `{"type":"assistant","message":{"id":"msg_2","type":"message","role":"assistant","content":[{"type":"text","text":"FAKE-OK 42"}]},"session_id":"84762ebb-c811-4ee4-bd1b-affbf5b580a0"}`,
  `{"type":"result","subtype":"success","is_error":false,"api_error_status":null,"duration_ms":392,"num_turns":2,"result":"FAKE-OK 42","stop_reason":"end_turn","session_id":"84762ebb-c811-4ee4-bd1b-affbf5b580a0","total_cost_usd":0.00023,"usage":{"input_tokens":11,"cache_creation_input_tokens":2,"cache_read_input_tokens":3,"output_tokens":7},"modelUsage":{"claude-sonnet-4-5":{"inputTokens":22,"outputTokens":14,"cacheReadInputTokens":3,"cacheCreationInputTokens":2,"costUSD":0.00023}},"permission_denials":[],"terminal_reason":"completed"}`,
];

Deno.test("claude's stream-json result gives text, modelUsage tokens, reported cost and tool calls", () => {
  const r = claude.parse(CLAUDE_OK, { exitCode: 0 });
  assertEquals(r.text, "FAKE-OK 42");
  assertEquals(r.tokens, { input: 24, cached: 3, output: 14 });
  assertEquals([r.cost_usd, r.cost_source], [0.00023, "reported"]);
  assertEquals(r.session_id, "84762ebb-c811-4ee4-bd1b-affbf5b580a0");
  assertEquals(r.tool_calls, [{
    name: "Bash",
    input: { command: "echo FAKE-TOOL-RAN > tool.txt" },
  }]);
  assertEquals([r.num_turns, r.is_error], [2, false]);
  assert(r.warnings.some((w) => w.includes("not JSON")));
});

Deno.test("claude's subtype success with is_error true is a failure classified by api_error_status", () => {
  const line =
    `{"type":"result","subtype":"success","is_error":true,"api_error_status":429,"num_turns":1,"result":"API Error: Request rejected (429) · fake provider forced error 429","session_id":"s","total_cost_usd":0,"usage":{"input_tokens":0,"output_tokens":0}}`;
  const r = claude.parse([line], { exitCode: 1 });
  assertEquals(r.is_error, true);
  assertEquals(r.failure?.category, "rate_limit");
});

Deno.test("claude's max-turns result is classified as max_turns", () => {
  const line =
    `{"type":"result","subtype":"error_max_turns","is_error":true,"num_turns":3,"session_id":"s","terminal_reason":"max_turns","usage":{}}`;
  assertEquals(claude.parse([line], { exitCode: 1 }).failure?.category, "max_turns");
});

Deno.test("claude without a result event fails with stderr and a missing binary is cli_missing", () => {
  const r = claude.parse([], {
    exitCode: 1,
    stderrTail: [
      "--dangerously-skip-permissions cannot be used with root/sudo privileges for security reasons",
    ],
  });
  assertMatch(r.failure?.message ?? "", /Hint: .*IS_SANDBOX=1/);
  assertEquals(
    claude.parse([], { exitCode: 127, notFound: true }).failure?.category,
    "cli_missing",
  );
  assertEquals(claude.parse([], { exitCode: 124, timedOut: true }).failure?.category, "timeout");
});

Deno.test("claude's argv follows the reference order and puts effort and provider keys in env", () => {
  const inv = claude.build(
    {
      id: "t",
      model: "opus",
      reasoning_effort: "high",
      args: ["--permission-mode", "plan"],
      allowed_tools: ["Bash(git *)", "Read"],
    },
    { ...ctx, profile: "safe", systemPrompt: "SYS", retryFeedback: "FB", uid: 0 },
  );
  assertEquals(inv.argv, [
    "claude",
    "--print",
    "--verbose",
    "--output-format",
    "stream-json",
    "--model",
    "opus",
    "--disallowedTools",
    "Edit,Glob,Grep,TodoWrite,WebFetch,WebSearch,Write",
    "--allowedTools",
    "Bash(git *),Read",
    "--append-system-prompt",
    "SYS\n\nFB",
    "--permission-mode",
    "default",
    "--",
    "do it",
  ]);
  assertEquals(inv.env, { ANTHROPIC_API_KEY: "a", CLAUDE_CODE_EFFORT_LEVEL: "high" });
  const yolo = claude.build({ id: "t", args: [] }, { ...ctx, profile: "yolo", uid: 0 });
  assert(yolo.argv.includes("--dangerously-skip-permissions"));
  assert(yolo.warnings[0]?.includes("IS_SANDBOX=1"));
});

Deno.test("claude, codex and copilot exiting 0 without their final event fail: no answer to read", () => {
  const plain = ["hello"];
  const c = claude.parse(plain, { exitCode: 0 });
  assert(c.is_error);
  assertMatch(c.failure?.message ?? "", /hello/);
  assertMatch(
    claude.parse([], { exitCode: 0 }).failure?.message ?? "",
    /claude exited with code 0 without a result event \(no stream-json answer to read\)/,
  );
  const x = codex.parse([CODEX_OK[0]!, CODEX_OK[5]!], { exitCode: 0 });
  assert(x.is_error);
  assertMatch(x.failure?.message ?? "", /without a turn\.completed event/);
  assert(!codex.parse(CODEX_OK, { exitCode: 0 }).is_error);
  const p = copilot.parse([], { exitCode: 0 });
  assert(p.is_error);
  assertMatch(p.failure?.message ?? "", /copilot exited with code 0 without a result event/);
});

Deno.test("claude takes its own tool names and MCP tools; src-scoped and misspelled categories fail", () => {
  const inv = claude.build(
    { id: "t", args: [], allowed_tools: ["read-only", "WebFetch", "mcp__my-server__search"] },
    ctx,
  );
  assertMatch(inv.argv.join(" "), /--allowedTools Glob,Grep,Read,WebFetch,mcp__my-server__search/);
  for (const entry of ["src-scoped", "read-onyl", "bash"]) {
    assertThrows(
      () => claude.build({ id: "t", args: [], allowed_tools: [entry] }, ctx),
      new RegExp(`claude: unsupported allowed_tools entry '${entry}'`),
    );
  }
});

const CODEX_OK = [
  `{"type":"thread.started","thread_id":"01a20b37-25eb-7c22-930f-8af69d671d65"}`,
  `{"type":"turn.started"}`,
  `{"type":"item.completed","item":{"type":"error","message":"Model metadata for \`gpt-5-codex\` not found. Defaulting to fallback metadata"}}`,
  `{"type":"item.started","item":{"id":"item_1","type":"command_execution","command":"/bin/bash -lc 'echo hi > f'","aggregated_output":"","exit_code":null,"status":"in_progress"}}`,
  `{"type":"item.completed","item":{"id":"item_1","type":"command_execution","command":"/bin/bash -lc 'echo hi > f'","aggregated_output":"","exit_code":0,"status":"completed"}}`,
  `{"type":"item.completed","item":{"id":"item_2","type":"agent_message","text":"FAKE-OK 42"}}`,
  `{"type":"turn.completed","usage":{"input_tokens":22,"cached_input_tokens":4,"cache_write_input_tokens":0,"output_tokens":14,"reasoning_output_tokens":0}}`,
];

Deno.test("codex's JSONL gives text, uncached/cached tokens, a priced cost and command tool calls", () => {
  const r = codex.parse(CODEX_OK, { exitCode: 0 }, { model: "gpt-5.5" });
  assertEquals(r.text, "FAKE-OK 42");
  assertEquals(r.tokens, { input: 18, cached: 4, output: 14 });
  assertEquals(r.cost_source, "priced");
  assertEquals(r.cost_usd, priceTokens(r.tokens, ratesFor("codex", "gpt-5.5")!));
  assertEquals(r.session_id, "01a20b37-25eb-7c22-930f-8af69d671d65");
  assertEquals(r.tool_calls, [{
    name: "command_execution",
    input: { command: "/bin/bash -lc 'echo hi > f'" },
  }]);
  assertEquals(r.is_error, false);
});

Deno.test("codex's turn.failed is a failure classified from its message", () => {
  const fail = (m: string) =>
    codex.parse([
      `{"type":"thread.started","thread_id":"x"}`,
      `{"type":"error","message":${JSON.stringify(m)}}`,
      `{"type":"turn.failed","error":{"message":${JSON.stringify(m)}}}`,
    ], { exitCode: 1 }).failure?.category;
  assertEquals(
    fail("unexpected status 401 Unauthorized: bad key, url: http://x/v1/responses"),
    "auth",
  );
  assertEquals(fail("exceeded retry limit, last status: 429 Too Many Requests"), "rate_limit");
  assertEquals(fail("Missing environment variable: `FAKE_UNSET_KEY`."), "auth");
  assertEquals(
    fail("We’re currently experiencing high demand, which may cause temporary errors."),
    "unknown",
  );
});

Deno.test("codex's argv maps aliases, effort, system prompt, read-only tools and the base URL", () => {
  const inv = codex.build(
    {
      id: "t",
      model: "5.4",
      reasoning_effort: "high",
      args: ["--full-auto"],
      allowed_tools: ["read-only"],
    },
    {
      ...ctx,
      profile: "yolo",
      systemPrompt: "SYS",
      parentEnv: { OPENAI_BASE_URL: "http://h/v1", ANTHROPIC_API_KEY: "a" },
    },
  );
  assertEquals(inv.argv.slice(0, 12), [
    "codex",
    "exec",
    "--json",
    "--skip-git-repo-check",
    "-C",
    "/w",
    "-m",
    "gpt-5.4-codex",
    "-c",
    `model_reasoning_effort="high"`,
    "-c",
    `developer_instructions="SYS"`,
  ]);
  assert(inv.argv.includes(`model_providers.maestro.base_url="http://h/v1"`));
  assertEquals(inv.argv.slice(-4), ["--sandbox", "read-only", "--", "do it"]);
  assert(
    !inv.argv.includes("--full-auto") &&
      !inv.argv.includes("--dangerously-bypass-approvals-and-sandbox"),
  );
  assertEquals(inv.env, { OPENAI_BASE_URL: "http://h/v1" });
  const safe = codex.build({ id: "t", args: ["-s", "danger-full-access"] }, {
    ...ctx,
    profile: "safe",
  });
  assertEquals(safe.argv.slice(-4), ["--sandbox", "workspace-write", "--", "do it"]);
});

Deno.test("pricing overrides come from MAESTRO_<ENGINE>_PRICING_JSON and bad rows are ignored", () => {
  const env = {
    MAESTRO_CLAUDE_PRICING_JSON:
      `{"sonnet":{"input_per_million":1,"cached_input_per_million":0,"output_per_million":2},"bad":{"x":1}}`,
  };
  assertEquals(ratesFor("claude", "claude-sonnet-4-5", env)?.input_per_million, 1);
  assertEquals(ratesFor("claude", "claude-sonnet-4-5")?.input_per_million, 3);
  assertEquals(ratesFor("claude", "unknown-model"), undefined);
  assertEquals(ratesFor("codex", "gpt-5.2-codex")?.input_per_million, 2);
});

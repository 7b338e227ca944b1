/**
 * End to end: LLM context modes through `maestro run` with the real, pinned codex and claude
 * CLIs driven at tests/fake_model_server.ts. Each context call goes to the engine and model the
 * plan names (visible in the fake's request log), and its tokens and cost are counted in the
 * task's result. Ignored, with the reason printed, when npm cannot install the CLIs.
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { FAKE_USAGE, startFakeServer } from "../fake_model_server.ts";
import { installPinned } from "../engines/install_cli.ts";
import { claudeFakeEnv, CODEX_NO_RETRY_ARGS, maestroRun, openAiFakeEnv } from "./engine_plan.ts";
import { scratchDir } from "../helpers.ts";

const codexCli = await installPinned("codex");
const claudeCli = await installPinned("claude");
const skip = "skip" in codexCli ? codexCli.skip : "skip" in claudeCli ? claudeCli.skip : null;
if (skip) console.warn(`context real-engine tests ignored: ${skip}`);
const ignore = skip !== null;
const binDirs = ["bin" in codexCli ? codexCli.bin : "", "bin" in claudeCli ? claudeCli.bin : ""]
  .map((b) => dirname(b));

interface Result {
  status: string;
  message: string;
  stdout_tail: string;
  cost_usd: number | null;
  token_usage: { input: number; cached: number; output: number; total: number } | null;
  side_calls?: Record<
    string,
    {
      calls: number;
      tokens: { input: number; cached: number; output: number };
      cost_usd: number | null;
    }
  >;
  context: { mode: string; llm_calls: number } | null;
}

async function runPlan(yaml: string, url: string) {
  const dir = await scratchDir("maestro-context-real-");
  const home = join(dir, "home");
  await Deno.mkdir(home);
  const run = await maestroRun(dir, yaml, {
    PATH: [...binDirs, Deno.env.get("PATH") ?? "/usr/bin:/bin"].join(":"),
    HOME: home,
    ...claudeFakeEnv(url),
    ...openAiFakeEnv(url),
  });
  return {
    code: run.code,
    stderr: run.stderr,
    result: (id: string) => run.result<Result>(id),
    cleanup: () => Deno.remove(dir, { recursive: true }),
  };
}

const CODEX_ARGS = CODEX_NO_RETRY_ARGS;

const UPSTREAMS = `  - id: schema
    command: "printf 'migrated users.id to bigint\\nadded index on orders.user_id\\n'"
  - id: api
    command: "printf 'renamed GET /user to GET /users\\n'"
`;

Deno.test({
  name:
    "summarized: codex context calls go to the cheapest codex model, the task to its own; all tokens counted",
  ignore,
  async fn() {
    const fake = startFakeServer();
    fake.setMode({
      replies: [
        { match: 'upstream task "schema"', text: "SCHEMA-SUMMARY bigint ids" },
        { match: 'upstream task "api"', text: "API-SUMMARY users route renamed" },
      ],
    });
    const run = await runPlan(
      `name: ctx-codex
tasks:
${UPSTREAMS}  - id: review
    engine: codex
    model: "5.5"
    args: ${CODEX_ARGS}
    depends_on: [schema, api]
    context_from: ["*"]
    context_mode: summarized
    prompt: Review the migration and the API change.
`,
      fake.url,
    );
    try {
      assert.equal(run.code, 0, run.stderr);
      const requests = fake.requests().filter((q) => q.path === "/v1/responses");
      const summaries = requests.filter((q) => q.user_text.includes("Summarise the output"));
      assert.deepEqual(summaries.map((q) => q.model), ["gpt-5.4-mini", "gpt-5.4-mini"]);
      assert.ok(summaries.some((q) => q.user_text.includes("migrated users.id to bigint")));
      const main = requests.filter((q) => !q.user_text.includes("Summarise the output"));
      assert.deepEqual(main.map((q) => q.model), ["gpt-5.5"]);
      // no placeholder: the summaries are prepended to the prompt
      assert.match(
        main[0]!.user_text,
        /--- schema \(success\) summary ---\nSCHEMA-SUMMARY bigint ids/,
      );
      assert.match(
        main[0]!.user_text,
        /--- api \(success\) summary ---\nAPI-SUMMARY users route renamed/,
      );
      assert.match(main[0]!.user_text, /Review the migration and the API change\.$/);
      const review = await run.result("review");
      assert.equal(review.status, "success", review.message);
      const n = FAKE_USAGE;
      assert.deepEqual(review.token_usage, {
        input: 3 * n.input,
        cached: 0,
        output: 3 * n.output,
        total: 3 * (n.input + n.output),
      });
      const side = review.side_calls!["context:summarized"]!;
      assert.equal(side.calls, 2);
      assert.deepEqual(side.tokens, { input: 2 * n.input, cached: 0, output: 2 * n.output });
      // gpt-5.4-mini: 0.75 in / 4.5 out per million; gpt-5.5: 5 / 30
      const mini = (n.input * 0.75 + n.output * 4.5) / 1e6;
      assert.equal(side.cost_usd, Math.round(2 * mini * 1e9) / 1e9);
      const main55 = (n.input * 5 + n.output * 30) / 1e6;
      assert.equal(review.cost_usd, Math.round((2 * mini + main55) * 1e9) / 1e9);
    } finally {
      await fake.close();
      await run.cleanup();
    }
  },
});

Deno.test({
  name: "map_reduce on a shell task: N + 1 calls through the named engine and model (claude haiku)",
  ignore,
  async fn() {
    const fake = startFakeServer();
    fake.setMode({
      replies: [
        { match: "Merge these summaries", text: "MERGED-BRIEFING" },
        { match: "Summarise the output", text: "ONE-SUMMARY" },
      ],
    });
    const run = await runPlan(
      `name: ctx-claude
tasks:
${UPSTREAMS}  - id: notes
    depends_on: [schema, api]
    context_from: ["*"]
    context_mode: map_reduce
    context_engine: claude
    context_model: haiku
    command: 'printf "%s" "$MAESTRO_CONTEXT"'
`,
      fake.url,
    );
    try {
      assert.equal(run.code, 0, run.stderr);
      const calls = fake.requests().filter((q) => q.path === "/v1/messages" && q.user_text !== "");
      const merge = calls.filter((q) => q.user_text.includes("Merge these summaries"));
      const map = calls.filter((q) => q.user_text.includes("Summarise the output"));
      assert.equal(map.length, 2);
      assert.equal(merge.length, 1);
      assert.ok(
        [...map, ...merge].every((q) => /haiku/.test(q.model ?? "")),
        JSON.stringify(calls.map((q) => q.model)),
      );
      assert.match(
        merge[0]!.user_text,
        /<observation source="schema">\nONE-SUMMARY\n<\/observation>/,
      );
      const notes = await run.result("notes");
      assert.equal(notes.status, "success", notes.message);
      assert.equal(notes.stdout_tail, "--- synthesis ---\nMERGED-BRIEFING");
      assert.equal(notes.side_calls!["context:map_reduce"]!.calls, 3);
      assert.ok(notes.token_usage!.total > 0);
      assert.ok(notes.cost_usd !== null && notes.cost_usd > 0);
      assert.equal(notes.context?.llm_calls, 3);
    } finally {
      await fake.close();
      await run.cleanup();
    }
  },
});

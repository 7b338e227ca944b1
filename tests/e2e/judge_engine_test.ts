/**
 * End to end: LLM judges through `maestro run` with the real codex CLI (pinned, installed by
 * tests/engines/install_cli.ts) driven at tests/fake_model_server.ts, whose scripted replies
 * play the judge model. Ignored, with the reason printed, when npm cannot install codex.
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { startFakeServer } from "../fake_model_server.ts";
import { installPinned } from "../engines/install_cli.ts";
import { CODEX_NO_RETRY_ARGS, maestroRun, openAiFakeEnv } from "./engine_plan.ts";
import { scratchDir } from "../helpers.ts";

const codexCli = await installPinned("codex");
const ignore = "skip" in codexCli;
if ("skip" in codexCli) console.warn(`judge e2e tests ignored: ${codexCli.skip}`);
const binDir = "bin" in codexCli ? dirname(codexCli.bin) : "";
const CODEX_ARGS = CODEX_NO_RETRY_ARGS;
/** codex prices gpt-5.4-mini (the cheapest codex model) at 0.75 / 4.5 USD per M: 11 in, 7 out. */
const JUDGE_CALL_USD = 0.00003975;

interface Result {
  status: string;
  message: string;
  exit_code: number | null;
  cost_usd: number | null;
  token_usage: Record<string, number> | null;
  side_calls?: Record<string, { calls: number; cost_usd: number | null }>;
  judge_result: { verdict: string; score: number; engine: string; model: string } | null;
  failure_history: { category: string }[];
}

async function runPlan(yaml: string, url: string) {
  const dir = await scratchDir("maestro-judge-e2e-");
  const home = join(dir, "home");
  await Deno.mkdir(home);
  const run = await maestroRun(dir, yaml, {
    PATH: [binDir, Deno.env.get("PATH") ?? "/usr/bin:/bin"].join(":"),
    HOME: home,
    MAESTRO_DB_URL: "",
    ...openAiFakeEnv(url),
  });
  const json = (file: string) => JSON.parse(Deno.readTextFileSync(join(run.runDir, file)));
  return {
    dir,
    code: run.code,
    output: run.stderr,
    events: run.stdout.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>),
    result: (id: string) => json(`${id}.result.json`) as Result,
    manifest: () =>
      json("run_manifest.json") as {
        total_cost_usd: number | null;
        total_tokens: number | null;
      },
  };
}

Deno.test({
  name: "an LLM judge's score from codex gates shell tasks (pass and fail); its cost is counted",
  ignore,
  async fn() {
    const fake = startFakeServer();
    fake.setMode({
      replies: [
        { match: "The answer is 42\nOUTPUT>>>", text: "SCORE: 9/10 it states 42 correctly" },
        { match: "The answer is 41\nOUTPUT>>>", text: "SCORE: 2/10 the number is wrong" },
      ],
    });
    try {
      const run = await runPlan(
        `name: judged
fail_fast: false
tasks:
  - id: good
    command: echo "The answer is 42"
    judge:
      engine: codex
      args: ${CODEX_ARGS}
      criteria: "The answer is the number 42"
  - id: bad
    command: echo "The answer is 41"
    judge:
      engine: codex
      args: ${CODEX_ARGS}
      criteria: "The answer is the number 42"
`,
        fake.url,
      );
      assert.equal(run.code, 1, run.output);
      const good = run.result("good");
      assert.equal(good.status, "success", good.message);
      assert.equal(good.judge_result?.verdict, "pass");
      assert.equal(good.judge_result?.score, 0.9);
      assert.equal(good.judge_result?.engine, "codex");
      assert.equal(good.judge_result?.model, "gpt-5.4-mini");
      assert.equal(good.cost_usd, JUDGE_CALL_USD);
      assert.deepEqual(good.token_usage, { input: 11, cached: 0, output: 7, total: 18 });
      assert.equal(good.side_calls?.judge?.calls, 1);
      const bad = run.result("bad");
      assert.equal(bad.status, "failed");
      assert.match(bad.message, /^judge verdict fail \(score 0\.20, threshold 0\.70\)/);
      assert.match(bad.message, /the number is wrong/);
      assert.equal(bad.failure_history[0]?.category, "judge_failed");
      assert.equal(bad.cost_usd, JUDGE_CALL_USD);
      // the judge ran on codex with the cheapest model, and saw each task's output
      const calls = fake.requests();
      assert.equal(calls.length, 2);
      assert.ok(calls.every((c) => c.path === "/v1/responses" && c.model === "gpt-5.4-mini"));
      const sideCalls = run.events.filter((e) => e.event === "side_call");
      assert.equal(sideCalls.length, 2);
      assert.ok(sideCalls.every((e) => e.engine === "codex" && e.purpose === "judge"));
      const manifest = run.manifest();
      assert.equal(manifest.total_cost_usd, 2 * JUDGE_CALL_USD);
      assert.equal(manifest.total_tokens, 36);
    } finally {
      await fake.close();
    }
  },
});

Deno.test({
  name: "on_fail: retry feeds the codex judge's reasons into the codex task's next attempt",
  ignore,
  async fn() {
    const fake = startFakeServer();
    // the judge's prompt ends with the answer format; the worker's prompt does not
    fake.setMode({
      replies: [{ match: "overall_score", text: "SCORE: 3/10 the answer lacks the unit" }],
    });
    try {
      const run = await runPlan(
        `name: retried
tasks:
  - id: work
    engine: codex
    model: "5.5"
    args: ${CODEX_ARGS}
    prompt: Give the distance to the moon
    max_retries: 1
    judge:
      args: ${CODEX_ARGS}
      criteria: "The answer gives the distance with its unit"
      on_fail: retry
`,
        fake.url,
      );
      assert.equal(run.code, 1, run.output);
      const work = run.result("work");
      assert.equal(work.status, "failed");
      assert.deepEqual(work.failure_history.map((f) => f.category), [
        "judge_failed",
        "judge_failed",
      ]);
      const calls = fake.requests();
      const workerCalls = calls.filter((c) => c.model === "gpt-5.5");
      const judgeCalls = calls.filter((c) => c.model === "gpt-5.4-mini");
      assert.equal(workerCalls.length, 2);
      assert.equal(judgeCalls.length, 2, "the judge defaults to the task's engine, cheapest model");
      assert.ok(!workerCalls[0]!.system_text.includes("JUDGE FEEDBACK"));
      assert.match(workerCalls[1]!.system_text, /Failure category: judge_failed/);
      assert.match(workerCalls[1]!.system_text, /\[JUDGE FEEDBACK\][^]*the answer lacks the unit/);
      // 2 worker calls on gpt-5.5 ($0.000265 each) + 2 judge calls on gpt-5.4-mini
      assert.equal(work.cost_usd, Math.round((2 * 0.000265 + 2 * JUDGE_CALL_USD) * 1e9) / 1e9);
      assert.equal(work.token_usage?.total, 72);
      assert.deepEqual(
        run.events.filter((e) => e.event === "judge_result").map((e) => e.verdict),
        ["fail", "fail"],
      );
    } finally {
      await fake.close();
    }
  },
});

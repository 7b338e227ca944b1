/**
 * End to end: a 429 then a success is retried by maestro for the engines whose CLI does not
 * retry a 429 itself (codex 0.169 with a custom provider, gemini 0.61 with `maxAttempts: 1`):
 * `maestro run` with the real, pinned CLI at the fake model server, `max_retries: 1` and
 * `retry_delay_sec: 0`. Claude, qwen and copilot recover inside the CLI (their *_real_test.ts).
 * Ignored, with the reason printed, when npm cannot install the CLIs.
 */
import assert from "node:assert/strict";
import { dirname } from "node:path";
import { FAKE_TEXT, startFakeServer } from "../fake_model_server.ts";
import { installPinned, type PINNED_CLIS } from "../engines/install_cli.ts";
import { CODEX_NO_RETRY_ARGS, runEnginePlan } from "./engine_plan.ts";

/** The plan's task for each engine (codex without its own retries of 5xx/stream errors). */
const TASKS = {
  codex: `engine: codex
    model: "5.5"
    args: ${CODEX_NO_RETRY_ARGS}`,
  gemini: `engine: gemini
    model: pro`,
};

for (const [engine, spec] of Object.entries(TASKS) as [keyof typeof PINNED_CLIS, string][]) {
  const cli = await installPinned(engine);
  if ("skip" in cli) console.warn(`${engine} retry e2e test ignored: ${cli.skip}`);
  Deno.test({
    name: `maestro retries a ${engine} task whose first attempt got a 429 and the second succeeds`,
    ignore: "skip" in cli,
    async fn() {
      const fake = startFakeServer();
      fake.setMode({ error: 429, count: 1 });
      try {
        const run = await runEnginePlan(
          `name: retry-${engine}
tasks:
  - id: ask
    ${spec}
    max_retries: 1
    retry_delay_sec: 0
    prompt: say hi
`,
          { url: fake.url, path: [dirname("bin" in cli ? cli.bin : "")] },
        );
        assert.equal(run.code, 0, run.stderr);
        const ask = await run.results("ask");
        assert.equal(ask.status, "success", ask.message);
        assert.equal(ask.stdout_tail, FAKE_TEXT);
        assert.equal(ask.retry_count, 1);
        assert.deepEqual(ask.failure_history.map((f) => [f.attempt, f.category]), [
          [1, "rate_limit"],
        ]);
        assert.match(ask.failure_history[0]!.message, /429/);
        const events = (await run.events()).filter((e) => e.task_id === "ask");
        const retry = events.find((e) => e.event === "task_retry");
        assert.equal(retry?.attempt, 2);
        assert.equal(retry?.delay_sec, 0);
        assert.match(String(retry?.reason), new RegExp(`^${engine} failed \\(rate_limit\\)`));
        assert.deepEqual(
          events.filter((e) => e.event === "task_attempt").map((e) => [e.attempt, e.engine]),
          [[1, engine], [2, engine]],
        );
        assert.equal(events.find((e) => e.event === "task_complete")?.status, "success");
        // one model call per attempt; the second is maestro's retry, which tells the model why
        const requests = fake.requests();
        assert.deepEqual(requests.map((q) => q.status), [429, 200]);
        assert.match(
          requests[1]!.system_text + requests[1]!.user_text,
          /\[RETRY FEEDBACK -- Attempt 2\/2\]\nFailure category: rate_limit/,
        );
      } finally {
        await fake.close();
      }
    },
  });
}

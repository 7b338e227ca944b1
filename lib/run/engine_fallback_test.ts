import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TaskIR } from "../plan/ir.ts";
import { type Build, fakeEngine, fakeRegistry, type Outcome } from "./_fake_engine.ts";
import { fixtureTask } from "./_task_fixture.ts";
import { EventBus, type RunEvent } from "./events.ts";
import { runTask } from "./task.ts";

/** Runs one engine task against scripted claude and codex engines. */
async function run(extra: Partial<TaskIR>, claude: Outcome[], codex: Outcome[] = []) {
  const dir = await mkdtemp(join(tmpdir(), "maestro-fallback-"));
  const events: RunEvent[] = [];
  const builds: Build[] = [];
  const delays: number[] = [];
  const bus = new EventBus("p");
  bus.subscribe((r) => events.push(r.event));
  try {
    const result = await runTask({
      task: fixtureTask("t", [], {
        kind: "engine",
        engine: "claude",
        command: undefined,
        workdir: dir,
        prompt: { kind: "inline", text: "do it" },
        ...extra,
      }),
      logPath: join(dir, "t.log"),
      env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
      render: (t) => t,
      bus,
      signal: new AbortController().signal,
      mask: (t) => t,
      engines: fakeRegistry([
        fakeEngine("claude", claude, builds),
        fakeEngine("codex", codex, builds),
      ]),
      sleep: (ms) => {
        delays.push(ms);
        return Promise.resolve();
      },
    });
    return { result, events, builds, delays, log: await readFile(join(dir, "t.log"), "utf8") };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const AUTH: Outcome = { fail: "auth", message: "Invalid API key" };
const RATE: Outcome = { fail: "rate_limit", message: "API Error: 429 slow down" };
const BROKE: Outcome = { fail: "unknown", message: "the agent gave up" };

Deno.test("an auth failure switches to fallback_engine at once, even with max_retries 0", async () => {
  const { result, events, builds, delays, log } = await run(
    {
      model: "opus",
      args: ["--max-turns", "3"],
      reasoning_effort: "max",
      fallback_engine: "codex",
      retry_delay_sec: 30,
    },
    [AUTH],
    [{ text: "done by codex" }],
  );
  assert.equal(result.status, "success", result.message);
  assert.equal(result.stdout_tail, "done by codex");
  assert.deepEqual([result.engine, result.model], ["codex", null]);
  assert.deepEqual(builds.map((b) => b.engine), ["claude", "codex"]);
  // claude's args and effort are not handed to codex; no delay; no feedback about the key
  assert.deepEqual(builds[1]!.task.args, []);
  assert.equal(builds[1]!.task.reasoning_effort, undefined);
  assert.equal(builds[1]!.task.model, undefined);
  assert.equal(builds[1]!.ctx.retryFeedback, "");
  assert.deepEqual(delays, []);
  assert.equal(result.retry_count, 1);
  assert.deepEqual(result.failure_history.map((f) => [f.attempt, f.category, f.engine, f.model]), [
    [1, "auth", "claude", "opus"],
  ]);
  const fallback = events.find((e) => e.event === "engine_fallback");
  assert.deepEqual(fallback && { ...fallback, ts: "" }, {
    ts: "",
    event: "engine_fallback",
    plan_name: "p",
    task_id: "t",
    attempt: 2,
    from_engine: "claude",
    from_model: "opus",
    to_engine: "codex",
    to_model: null,
    category: "auth",
    reason: "Invalid API key",
  });
  const attempts = events.filter((e) => e.event === "task_attempt");
  assert.deepEqual(attempts.map((e) => [e.attempt, e.max_attempts, e.engine, e.model]), [
    [1, 1, "claude", "opus"],
    [2, 2, "codex", null],
  ]);
  assert.match(log, /\[maestro\] claude failed \(auth\): falling back to codex/);
});

Deno.test("the fallback is an extra attempt: retries go on on the fallback engine, with delays", async () => {
  const { result, builds, delays } = await run(
    { fallback_engine: "codex", fallback_model: "o3", max_retries: 1, retry_delay_sec: [2, 7] },
    [RATE],
    [BROKE, { text: "second codex try" }],
  );
  assert.equal(result.status, "success", result.message);
  assert.deepEqual(builds.map((b) => [b.engine, b.task.model]), [
    ["claude", undefined],
    ["codex", "o3"],
    ["codex", "o3"],
  ]);
  // the switch does not wait; the retry waits the first delay of the list
  assert.deepEqual(delays, [2000]);
  // the retry on codex hears of codex's failure, not of claude's rate limit
  assert.match(builds[2]!.ctx.retryFeedback, /Attempt 3\/3\]\nFailure category: unknown/);
  assert.doesNotMatch(builds[1]!.ctx.retryFeedback, /rate_limit/);
});

Deno.test("a soft failure of the engine (allow_failure) still goes to the fallback", async () => {
  const { result } = await run(
    { allow_failure: true, fallback_engine: "codex" },
    [{ fail: "quota", message: "credit balance too low" }],
    [{ text: "ok" }],
  );
  assert.equal(result.status, "success", result.message);
  assert.equal(result.engine, "codex");
});

Deno.test("a failure of the agent's work does not switch engines; auth without a fallback is not retried", async () => {
  const work = await run({ fallback_engine: "codex", max_retries: 1 }, [BROKE, { text: "ok" }]);
  assert.equal(work.result.status, "success");
  assert.deepEqual(work.builds.map((b) => b.engine), ["claude", "claude"]);

  const auth = await run({ max_retries: 2 }, [AUTH]);
  assert.equal(auth.result.status, "failed");
  assert.equal(auth.builds.length, 1);
  assert.match(auth.result.message, /^claude failed \(auth\): Invalid API key$/);

  // the fallback failing too ends the task with the fallback's failure (one switch only)
  const both = await run({ fallback_engine: "codex", max_retries: 1 }, [RATE], [AUTH]);
  assert.equal(both.result.status, "failed");
  assert.deepEqual(both.builds.map((b) => b.engine), ["claude", "codex"]);
  assert.match(both.result.message, /^codex failed \(auth\)/);
  assert.equal(both.result.handoff_report?.failure_category, "auth");
  assert.deepEqual([both.result.engine, both.result.model], ["codex", null]);
});

Deno.test("escalation climbs one model per retry and records the model of every attempt", async () => {
  const { result, events, builds } = await run(
    { escalation: ["haiku", "sonnet", "opus"], max_retries: 3 },
    [BROKE],
  );
  assert.equal(result.status, "failed");
  assert.deepEqual(builds.map((b) => b.task.model), ["haiku", "sonnet", "opus", "opus"]);
  assert.deepEqual(result.failure_history.map((f) => f.model), [
    "haiku",
    "sonnet",
    "opus",
    "opus",
  ]);
  assert.equal(result.model, "opus");
  const ups = events.filter((e) => e.event === "task_escalation");
  assert.deepEqual(ups.map((e) => [e.attempt, e.from_model, e.to_model]), [
    [2, "haiku", "sonnet"],
    [3, "sonnet", "opus"],
  ]);
});

Deno.test("escalation stops once the task fell back", async () => {
  const { builds } = await run(
    { escalation: ["haiku", "sonnet"], fallback_engine: "codex", max_retries: 2 },
    [BROKE, RATE],
    [BROKE],
  );
  assert.deepEqual(builds.map((b) => [b.engine, b.task.model ?? null]), [
    ["claude", "haiku"],
    ["claude", "sonnet"],
    ["codex", null],
    ["codex", null],
  ]);
});

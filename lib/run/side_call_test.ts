import assert from "node:assert/strict";
import { emptyResult } from "../../engines/common.ts";
import type { BuildContext, Engine, EngineResult, EngineTaskSpec } from "../../engines/types.ts";
import { EventBus, type RunEvent } from "./events.ts";
import { callEngine, cheapestModel, SideCallCache } from "./side_call.ts";

/** An engine whose answer is `ANSWER <model> <prompt>`, 10/2/3 tokens, $0.25; or a failure. */
function echoEngine(builds: { task: EngineTaskSpec; ctx: BuildContext }[], fail = false): Engine {
  return {
    name: "echo",
    binary: "sh",
    build(task, ctx) {
      builds.push({ task, ctx });
      const line = JSON.stringify({ text: `ANSWER ${task.model ?? "-"} ${ctx.prompt}` });
      return {
        argv: ["sh", "-c", `printf '%s\\n' "$1"; exit ${fail ? 3 : 0}`, "sh", line],
        env: {},
        warnings: [],
        ...(task.model ? { model: task.model } : {}),
      };
    },
    parser() {
      const out: EngineResult = emptyResult();
      return {
        push(line: string) {
          if (line.startsWith("{")) out.text = (JSON.parse(line) as { text: string }).text;
        },
        finish(exit) {
          out.tokens = { input: 10, cached: 2, output: 3 };
          out.cost_usd = 0.25;
          out.cost_source = "reported";
          out.is_error = exit.exitCode !== 0;
          if (out.is_error) out.failure = { category: "auth", message: "bad key" };
          return out;
        },
      };
    },
    parse: () => emptyResult(),
    classify: () => "unknown",
  };
}

Deno.test("cheapestModel() picks the lowest-priced model of an engine", () => {
  assert.equal(cheapestModel("claude"), "haiku");
  assert.equal(cheapestModel("codex"), "gpt-5.4-mini");
  assert.equal(cheapestModel("gemini"), "gemini-2.5-flash-lite");
  assert.equal(cheapestModel("ollama"), undefined);
  assert.equal(cheapestModel("nope"), undefined);
});

Deno.test("callEngine() runs the adapter's CLI and returns text, tokens, cost and an event", async () => {
  const builds: { task: EngineTaskSpec; ctx: BuildContext }[] = [];
  const engine = echoEngine(builds);
  const events: RunEvent[] = [];
  const bus = new EventBus("p");
  bus.subscribe((r) => events.push(r.event));
  const result = await callEngine({
    engine: "echo",
    model: "m1",
    prompt: "grade this",
    args: ["--x"],
    workdir: Deno.cwd(),
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
    engines: (name) => (name === "echo" ? engine : undefined),
    purpose: "judge",
    taskId: "t1",
    bus,
  });
  assert.equal(result.text, "ANSWER m1 grade this");
  assert.deepEqual(result.tokens, { input: 10, cached: 2, output: 3 });
  assert.equal(result.cost_usd, 0.25);
  assert.equal(result.is_error, false);
  assert.equal(result.cached, false);
  assert.equal(builds[0]!.ctx.profile, "plan");
  assert.deepEqual(builds[0]!.task.args, ["--x"]);
  const ev = events.find((e) => e.event === "side_call");
  assert.ok(ev && ev.event === "side_call");
  assert.equal(ev.task_id, "t1");
  assert.equal(ev.purpose, "judge");
  assert.equal(ev.model, "m1");
  assert.equal(ev.cost_usd, 0.25);
  assert.deepEqual(ev.tokens, { input: 10, cached: 2, output: 3 });
});

Deno.test("callEngine() reports a failed call as is_error without throwing", async () => {
  const engine = echoEngine([], true);
  const result = await callEngine({
    engine: "echo",
    prompt: "x",
    workdir: Deno.cwd(),
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
    engines: () => engine,
  });
  assert.equal(result.is_error, true);
  assert.equal(result.text, "");
  assert.equal(result.failure?.category, "auth");
});

Deno.test("callEngine() throws for an unknown engine", async () => {
  await assert.rejects(
    () =>
      callEngine({ engine: "nope", prompt: "x", workdir: "/", env: {}, engines: () => undefined }),
    /unknown engine 'nope'/,
  );
});

Deno.test("callEngine() reuses a cached answer at no cost, keyed by model and prompt", async () => {
  const builds: { task: EngineTaskSpec; ctx: BuildContext }[] = [];
  const engine = echoEngine(builds);
  const dir = await Deno.makeTempDir();
  try {
    const cache = new SideCallCache({ dir });
    const base = {
      engine: "echo",
      workdir: Deno.cwd(),
      env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
      engines: () => engine,
      cache,
    };
    const first = await callEngine({ ...base, model: "a", prompt: "p" });
    const second = await callEngine({ ...base, model: "a", prompt: "p" });
    const other = await callEngine({ ...base, model: "b", prompt: "p" });
    assert.equal(builds.length, 2);
    assert.equal(second.text, first.text);
    assert.equal(second.cached, true);
    assert.equal(second.cost_usd, 0);
    assert.deepEqual(second.tokens, { input: 0, cached: 0, output: 0 });
    assert.equal(other.cached, false);
    // the disk mirror serves a fresh cache object
    const again = await callEngine({
      ...base,
      cache: new SideCallCache({ dir }),
      model: "a",
      prompt: "p",
    });
    assert.equal(again.cached, true);
    assert.equal(builds.length, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("callEngine() defaults the model to the engine's cheapest", async () => {
  const builds: { task: EngineTaskSpec; ctx: BuildContext }[] = [];
  const engine = { ...echoEngine(builds), name: "claude" };
  const result = await callEngine({
    engine: "claude",
    prompt: "x",
    workdir: Deno.cwd(),
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
    engines: () => engine,
  });
  assert.equal(result.model, "haiku");
  assert.equal(builds[0]!.task.model, "haiku");
});

Deno.test("addSideCallToResult() adds cost and tokens to the task and per purpose", async () => {
  const { makeResult } = await import("./result.ts");
  const { addSideCallToResult } = await import("./side_call.ts");
  const result = makeResult({ task_id: "t", status: "success", message: "ok" });
  addSideCallToResult(
    result,
    { tokens: { input: 10, cached: 2, output: 3 }, cost_usd: 0.1 },
    "judge",
  );
  addSideCallToResult(
    result,
    { tokens: { input: 1, cached: 0, output: 1 }, cost_usd: null },
    "judge",
  );
  addSideCallToResult(result, { tokens: { input: 5, cached: 0, output: 5 }, cost_usd: 0.2 }, "ctx");
  assert.equal(result.cost_usd, 0.3);
  assert.equal(result.structured_context.cost_usd, 0.3);
  assert.deepEqual(result.token_usage, { input: 16, cached: 2, output: 9, total: 27 });
  assert.deepEqual(result.side_calls, {
    judge: { calls: 2, tokens: { input: 11, cached: 2, output: 4 }, cost_usd: 0.1 },
    ctx: { calls: 1, tokens: { input: 5, cached: 0, output: 5 }, cost_usd: 0.2 },
  });
});

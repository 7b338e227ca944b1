import assert from "node:assert/strict";
import type { TaskIR } from "../plan/ir.ts";
import { fixtureTask } from "./_task_fixture.ts";
import { EngineRoute } from "./engine_route.ts";

const all = () => true;

function engineTask(extra: Partial<TaskIR>): TaskIR {
  return fixtureTask("t", [], {
    kind: "engine",
    engine: "claude",
    command: undefined,
    args: ["--max-turns", "3"],
    reasoning_effort: "max",
    ...extra,
  });
}

/** Models of `n` attempts, each followed by a failure that is not the engine's. */
function ladder(task: TaskIR, n: number): (string | null)[] {
  const route = new EngineRoute(task);
  const models = [route.current.model];
  for (let i = 1; i < n; i++) {
    route.escalate();
    models.push(route.current.model);
  }
  return models;
}

Deno.test("EngineRoute escalation starts at the first rung without a model and keeps the top", () => {
  const escalation = ["haiku", "sonnet", "opus"];
  assert.deepEqual(ladder(engineTask({ escalation }), 4), ["haiku", "sonnet", "opus", "opus"]);
  // a model on the ladder starts at its own rung
  assert.deepEqual(ladder(engineTask({ escalation, model: "sonnet" }), 3), [
    "sonnet",
    "opus",
    "opus",
  ]);
  // a model off the ladder climbs to its first rung (the reference's "next after current")
  assert.deepEqual(ladder(engineTask({ escalation, model: "claude-x" }), 3), [
    "claude-x",
    "haiku",
    "sonnet",
  ]);
  assert.deepEqual(ladder(engineTask({ model: "opus" }), 2), ["opus", "opus"]);
});

Deno.test("EngineRoute.escalate() reports each change and the attempt task carries the model", () => {
  const route = new EngineRoute(engineTask({ escalation: ["haiku", "sonnet"] }));
  assert.equal(route.attemptTask().model, "haiku");
  assert.deepEqual(route.escalate(), {
    kind: "escalation",
    from: { engine: "claude", model: "haiku" },
    to: { engine: "claude", model: "sonnet" },
  });
  assert.equal(route.escalate(), undefined);
  assert.equal(route.attemptTask().model, "sonnet");
  // the same engine keeps its args and effort
  assert.deepEqual(route.attemptTask().args, ["--max-turns", "3"]);
  assert.equal(route.attemptTask().reasoning_effort, "max");
});

Deno.test("EngineRoute.fallBack() switches once, on engine failures only", () => {
  const task = engineTask({ model: "opus", fallback_engine: "codex", escalation: ["opus"] });
  for (const category of ["unknown", "timeout", "verify_failed", "context_exceeded", undefined]) {
    assert.equal(new EngineRoute(task).fallBack(category, all), undefined, String(category));
  }
  for (
    const category of [
      "auth",
      "rate_limit",
      "quota",
      "cli_missing",
      "model_unavailable",
      "circuit_open",
    ]
  ) {
    const route = new EngineRoute(task);
    const change = route.fallBack(category, all);
    assert.deepEqual(change, {
      kind: "fallback",
      from: { engine: "claude", model: "opus" },
      to: { engine: "codex", model: null },
    });
    assert.ok(route.fellBack);
    // once only, and no escalation afterwards
    assert.equal(route.fallBack(category, all), undefined);
    assert.equal(route.escalate(), undefined);
  }
});

Deno.test("EngineRoute: a switch of engine drops claude's args and effort, takes the fallback's defaults", () => {
  const bare = new EngineRoute(engineTask({ fallback_engine: "codex" }));
  bare.fallBack("auth", all);
  const plain = bare.attemptTask();
  assert.equal(plain.engine, "codex");
  assert.deepEqual(plain.args, []);
  assert.equal(plain.reasoning_effort, undefined);
  assert.equal(plain.model, undefined);

  const withDefaults = new EngineRoute(engineTask({
    model: "opus",
    fallback_engine: "codex",
    fallback_defaults: { model: "gpt-5.4", reasoning_effort: "high", args: ["--oss"] },
  }));
  withDefaults.fallBack("quota", all);
  const t = withDefaults.attemptTask();
  assert.deepEqual([t.engine, t.model, t.reasoning_effort, t.args], [
    "codex",
    "gpt-5.4",
    "high",
    ["--oss"],
  ]);
  // fallback_model wins over the fallback engine's default model
  const named = new EngineRoute(engineTask({
    fallback_engine: "codex",
    fallback_model: "o3",
    fallback_defaults: { model: "gpt-5.4" },
  }));
  named.fallBack("rate_limit", all);
  assert.equal(named.attemptTask().model, "o3");
});

Deno.test("EngineRoute: fallback_model alone keeps the engine, but not for engine-wide failures", () => {
  const task = engineTask({ model: "opus", fallback_model: "sonnet" });
  const route = new EngineRoute(task);
  assert.deepEqual(route.fallBack("rate_limit", all)?.to, { engine: "claude", model: "sonnet" });
  assert.deepEqual(route.attemptTask().args, ["--max-turns", "3"]);
  for (const category of ["auth", "cli_missing", "circuit_open"]) {
    assert.equal(new EngineRoute(task).fallBack(category, all), undefined, category);
  }
  // a fallback to where the task already is, or to an engine without an adapter, is no fallback
  assert.equal(
    new EngineRoute(engineTask({ fallback_engine: "claude" })).fallBack("auth", all),
    undefined,
  );
  assert.equal(
    new EngineRoute(engineTask({ fallback_engine: "codex" })).fallBack("auth", () => false),
    undefined,
  );
});

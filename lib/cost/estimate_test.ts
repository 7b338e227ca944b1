import assert from "node:assert/strict";
import { fixtureTask } from "../run/_task_fixture.ts";
import type { TaskIR } from "../plan/ir.ts";
import { defaultEstimate, estimateTasks, median } from "./estimate.ts";
import { periodStart } from "./period.ts";

function engineTask(id: string, engine: string, extra: Partial<TaskIR> = {}): TaskIR {
  return fixtureTask(id, [], {
    kind: "engine",
    engine,
    command: undefined,
    prompt: { kind: "inline", text: "x" },
    ...extra,
  });
}

Deno.test("median() takes the middle value, or the mean of the middle two", () => {
  assert.equal(median([]), 0);
  assert.equal(median([0.3]), 0.3);
  assert.equal(median([0.5, 0.1, 0.3]), 0.3);
  assert.equal(median([0.1, 0.2, 0.3, 0.9]), 0.25);
});

Deno.test("defaultEstimate() prices the default token profile at the task's model", () => {
  // 20k input, 100k cached, 8k output at sonnet's 3 / 0.3 / 15 per million
  const sonnet = defaultEstimate(engineTask("a", "claude"));
  assert.equal(sonnet.cost_usd, 0.21);
  assert.equal(sonnet.source, "pricing");
  assert.match(sonnet.basis, /at claude sonnet$/);
  assert.equal(defaultEstimate(engineTask("b", "claude", { model: "opus" })).cost_usd, 0.35);
  // codex aliases are resolved first: 5.4 → gpt-5.4-codex → the gpt-5.4 row (2.5 / 0.25 / 15)
  assert.equal(defaultEstimate(engineTask("c", "codex", { model: "5.4" })).cost_usd, 0.195);
  assert.equal(defaultEstimate(engineTask("d", "ollama")).cost_usd, 0);
  // an override in the environment is used
  const env = {
    MAESTRO_QWEN_PRICING_JSON:
      '{"default":{"input_per_million":1,"cached_input_per_million":0,"output_per_million":0}}',
  };
  assert.equal(defaultEstimate(engineTask("e", "qwen"), env).cost_usd, 0.02);
});

Deno.test("defaultEstimate() gives 0 for shell tasks and unpriced engines", () => {
  const shell = defaultEstimate(fixtureTask("s"));
  assert.deepEqual([shell.cost_usd, shell.source, shell.engine], [0, "shell", null]);
  const custom = defaultEstimate(engineTask("x", "mybot"));
  assert.deepEqual([custom.cost_usd, custom.source], [0, "unpriced"]);
});

Deno.test("estimateTasks() uses the median of the task's history on the same engine and model", () => {
  const tasks = [engineTask("a", "claude", { model: "haiku" }), engineTask("b", "claude")];
  const history = [
    { task_id: "a", engine: "claude", model: "haiku", cost_usd: 0.1 },
    { task_id: "a", engine: "claude", model: "haiku", cost_usd: 0.5 },
    { task_id: "a", engine: "claude", model: "haiku", cost_usd: 0.2 },
    // another model: not this task's history any more
    { task_id: "b", engine: "claude", model: "opus", cost_usd: 3 },
  ];
  const [a, b] = estimateTasks(tasks, history);
  assert.deepEqual([a!.cost_usd, a!.source, a!.runs], [0.2, "history", 3]);
  assert.equal(a!.basis, "median of 3 successful runs");
  assert.deepEqual([b!.cost_usd, b!.source], [0.21, "pricing"]);
});

Deno.test("periodStart() is local midnight today, last Monday, the 1st", () => {
  const thursday = new Date(2026, 10, 26, 15, 30);
  assert.deepEqual(periodStart("daily", thursday), new Date(2026, 10, 26));
  assert.deepEqual(periodStart("weekly", thursday), new Date(2026, 10, 23));
  assert.deepEqual(periodStart("monthly", thursday), new Date(2026, 10, 1));
  // a Sunday belongs to the week that began the Monday before
  assert.deepEqual(periodStart("weekly", new Date(2026, 10, 29, 23)), new Date(2026, 10, 23));
  assert.deepEqual(periodStart("weekly", new Date(2026, 10, 30, 0, 1)), new Date(2026, 10, 30));
});

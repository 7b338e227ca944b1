import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadPlan } from "../plan/load.ts";
import type { TaskIR } from "../plan/ir.ts";
import { type Build, fakeEngine, fakeRegistry, type Outcome } from "./_fake_engine.ts";
import { fixtureTask } from "./_task_fixture.ts";
import {
  type CircuitBreakerConfig,
  circuitBreakerConfig,
  EngineCircuits,
  RunCircuit,
} from "./circuit_breaker.ts";
import { EventBus, type RunEvent } from "./events.ts";
import { makeResult } from "./result.ts";
import { runPlan } from "./run_plan.ts";

const CONFIG: CircuitBreakerConfig = circuitBreakerConfig({ max_engine_failures: 2 })!;

function recording() {
  const events: RunEvent[] = [];
  const bus = new EventBus("p");
  bus.subscribe((r) => events.push(r.event));
  return { bus, events };
}

Deno.test("circuitBreakerConfig() applies the defaults, and is off without the key", () => {
  assert.equal(circuitBreakerConfig(undefined), undefined);
  assert.deepEqual(circuitBreakerConfig({}), {
    maxTotalFailures: 5,
    action: "fail",
    maxEngineFailures: 3,
    engineCooldownSec: null,
  });
  assert.deepEqual(
    circuitBreakerConfig({ max_total_failures: 2, action: "pause", engine_cooldown_sec: 0 }),
    { maxTotalFailures: 2, action: "pause", maxEngineFailures: 3, engineCooldownSec: 0 },
  );
});

Deno.test("EngineCircuits open after consecutive engine failures; other outcomes reset the count", () => {
  const { bus, events } = recording();
  const circuits = new EngineCircuits(CONFIG, bus);
  circuits.record("claude", "a", "rate_limit", "429");
  circuits.record("claude", "b"); // a success in between
  circuits.record("claude", "c", "rate_limit", "429");
  circuits.record("claude", "d", "unknown", "the agent gave up");
  circuits.record("claude", "e", "auth", "401");
  assert.equal(circuits.blocked("claude"), undefined);
  circuits.record("codex", "f", "quota", "no credit");
  circuits.record("claude", "g", "quota", "no credit");
  const why = circuits.blocked("claude");
  assert.match(
    why ?? "",
    /^not started: the claude circuit breaker is open after 2 consecutive engine failures \(last: quota: no credit\); it stays open for the rest of the run$/,
  );
  assert.equal(circuits.blocked("codex"), undefined, "breakers are per engine");
  const open = events.filter((e) => e.event === "engine_circuit_open");
  assert.deepEqual(open.map((e) => [e.engine, e.task_id, e.failures, e.category]), [
    ["claude", "g", 2, "quota"],
  ]);
});

Deno.test("EngineCircuits with a cooldown let one probe through; its outcome closes or re-opens", () => {
  let now = 0;
  const { bus, events } = recording();
  const circuits = new EngineCircuits({ ...CONFIG, engineCooldownSec: 10 }, bus, () => now);
  circuits.record("claude", "a", "rate_limit", "429");
  circuits.record("claude", "b", "rate_limit", "429");
  now = 4000;
  assert.match(circuits.blocked("claude") ?? "", /next probe in 6s$/);
  now = 10_000;
  assert.equal(circuits.blocked("claude"), undefined, "the probe may start");
  assert.match(circuits.blocked("claude") ?? "", /a probe attempt is running$/);
  circuits.record("claude", "c", "rate_limit", "still 429");
  assert.match(
    circuits.blocked("claude") ?? "",
    /last: rate_limit: still 429\); next probe in 10s$/,
  );
  now = 20_000;
  assert.equal(circuits.blocked("claude"), undefined);
  circuits.record("claude", "d");
  assert.equal(circuits.blocked("claude"), undefined);
  assert.deepEqual(events.filter((e) => e.event === "engine_circuit_closed").length, 1);
});

function failed(id: string) {
  return makeResult({ task_id: id, status: "failed", message: "boom" });
}

Deno.test("RunCircuit: fail stops at max_total_failures; pause goes on with --auto-approve", () => {
  const task = (id: string): TaskIR => fixtureTask(id);
  const stop = new RunCircuit({ ...CONFIG, maxTotalFailures: 2 }, recording().bus);
  stop.afterTask(task("a"), failed("a"));
  stop.afterTask(task("b"), makeResult({ task_id: "b", status: "success", message: "ok" }));
  assert.equal(stop.stopReason(), null);
  stop.afterTask(task("c"), makeResult({ task_id: "c", status: "soft_failed", message: "meh" }));
  assert.equal(
    stop.stopReason(),
    "circuit breaker tripped: 2 tasks failed (max_total_failures 2, last 'c')",
  );

  const { bus, events } = recording();
  const pause = new RunCircuit({ ...CONFIG, maxTotalFailures: 1, action: "pause" }, bus, {
    autoApprove: true,
  });
  pause.afterTask(task("a"), failed("a"));
  pause.afterTask(task("b"), failed("b"));
  assert.equal(pause.stopReason(), null);
  assert.deepEqual(
    events.filter((e) => e.event === "circuit_breaker_response").map((e) => [e.approved, e.by]),
    [[true, "auto"], [true, "auto"]],
  );
  // no terminal and no --auto-approve: the pause is denied
  const denied = new RunCircuit({ ...CONFIG, maxTotalFailures: 1, action: "pause" }, bus);
  denied.afterTask(task("a"), failed("a"));
  assert.match(denied.stopReason() ?? "", /^circuit breaker tripped: 1 tasks failed/);
});

Deno.test("RunCircuit pause: new tasks wait for the answer of the terminal", async () => {
  let answer: (ok: boolean) => void = () => {};
  const asked: string[] = [];
  const circuit = new RunCircuit(
    { ...CONFIG, maxTotalFailures: 1, action: "pause" },
    recording().bus,
    {
      approve: (task) => {
        asked.push(String(task.approval_message));
        return new Promise((resolve) => answer = resolve);
      },
    },
  );
  circuit.afterTask(fixtureTask("a"), failed("a"));
  let started = false;
  const next = circuit.beforeTask().then((stop) => {
    started = true;
    return stop;
  });
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(started, false, "the next task waited");
  assert.match(asked[0] ?? "", /Go on with the run\?$/);
  answer(false);
  assert.match((await next) ?? "", /^circuit breaker tripped/);
});

/** Runs a YAML plan with scripted engines; returns results by id, events and builds. */
async function runYaml(yaml: string, engines: Record<string, Outcome[]>) {
  const dir = await mkdtemp(join(tmpdir(), "maestro-breaker-"));
  try {
    await writeFile(join(dir, "plan.yaml"), yaml);
    const loaded = await loadPlan(join(dir, "plan.yaml"));
    if (!loaded.plan) throw new Error(JSON.stringify(loaded.errors));
    const builds: Build[] = [];
    const events: RunEvent[] = [];
    const manifest = await runPlan(loaded.plan, {
      engines: fakeRegistry(
        Object.entries(engines).map(([name, script]) => fakeEngine(name, script, builds)),
      ),
      parentEnv: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
      onEvent: (r) => events.push(r.event),
    });
    return { results: manifest.task_results, events, builds };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

Deno.test("an open engine breaker fails the engine's remaining tasks at once, and a fallback takes over", async () => {
  const { results, events, builds } = await runYaml(
    `name: breaker
fail_fast: false
circuit_breaker:
  max_engine_failures: 2
  max_total_failures: 10
tasks:
  - { id: a, engine: claude, prompt: a, max_retries: 3 }
  - { id: b, engine: claude, prompt: b, depends_on: [a] }
  - { id: c, engine: claude, prompt: c, fallback_engine: codex }
  - { id: d, command: "true" }
`,
    {
      claude: [{ fail: "rate_limit", message: "429 slow down" }],
      codex: [{ text: "codex did c" }],
    },
  );
  // a: two rate limits open the breaker, its third attempt is refused and not retried
  assert.deepEqual(builds.map((b) => `${b.engine}:${b.task.id}`), [
    "claude:a",
    "claude:a",
    "codex:c",
  ]);
  assert.equal(results.a!.status, "failed");
  assert.deepEqual(results.a!.failure_history.map((f) => f.category), [
    "rate_limit",
    "rate_limit",
    "circuit_open",
  ]);
  // b depends on a: skipped; c goes straight to codex; shell tasks are not concerned
  assert.equal(results.b!.status, "skipped");
  assert.equal(results.c!.status, "success", results.c!.message);
  assert.equal(results.c!.engine, "codex");
  assert.match(
    results.c!.failure_history[0]!.message,
    /^claude failed \(circuit_open\): not started: the claude circuit breaker is open after 2 consecutive engine failures \(last: rate_limit: 429 slow down\)/,
  );
  assert.equal(results.d!.status, "success");
  assert.equal(events.filter((e) => e.event === "engine_circuit_open").length, 1);
});

Deno.test("the run breaker skips every task not started once max_total_failures tasks failed", async () => {
  const { results, events } = await runYaml(
    `name: total
fail_fast: false
circuit_breaker: { max_total_failures: 2 }
tasks:
  - { id: a, command: "exit 1" }
  - { id: b, command: "exit 1", allow_failure: true }
  - { id: c, command: "true" }
  - { id: d, command: "true", depends_on: [c] }
`,
    {},
  );
  assert.deepEqual(Object.values(results).map((r) => [r.task_id, r.status]), [
    ["a", "failed"],
    ["b", "soft_failed"],
    ["c", "skipped"],
    ["d", "skipped"],
  ]);
  assert.equal(
    results.c!.message,
    "circuit breaker tripped: 2 tasks failed (max_total_failures 2, last 'b')",
  );
  const tripped = events.find((e) => e.event === "circuit_breaker_tripped");
  assert.deepEqual(tripped && [tripped.task_id, tripped.failures, tripped.action], [
    "b",
    2,
    "fail",
  ]);
});

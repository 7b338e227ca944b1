import assert from "node:assert/strict";
import type { TaskIR } from "../plan/ir.ts";
import { fixtureTask } from "./_task_fixture.ts";
import { parseWhen } from "../plan/when.ts";
import { makeResult, type TaskResult } from "./result.ts";
import { schedule, type ScheduleOptions } from "./scheduler.ts";

const task = fixtureTask;

function options(
  tasks: TaskIR[],
  outcome: Record<string, "success" | "failed">,
  extra: Partial<ScheduleOptions> = {},
) {
  const order: string[] = [];
  // the scheduler keeps no results: the test collects them as finalize receives them
  const results = new Map<string, TaskResult>();
  const opts: ScheduleOptions = {
    tasks,
    maxParallel: 2,
    failFast: false,
    signal: new AbortController().signal,
    execute: async (t) => {
      order.push(t.id);
      await new Promise((r) => setTimeout(r, 5));
      const status = outcome[t.id] ?? "success";
      return makeResult({
        task_id: t.id,
        status,
        message: status,
        exit_code: status === "success" ? 0 : 1,
      });
    },
    skipResult: (t, reason) =>
      makeResult({ task_id: t.id, status: reason.status, message: reason.message }),
    finalize: (t, result) => {
      assert.equal(results.has(t.id), false, `finalize called twice for ${t.id}`);
      results.set(t.id, result);
      return Promise.resolve();
    },
    whenLookup: () => (name) => {
      const [id, field] = name.split(".");
      const r: TaskResult | undefined = results.get(id!);
      return field === "status" ? r?.status : undefined;
    },
    ...extra,
  };
  /** Runs the schedule; results in plan order (as the manifest lists them). */
  const run = async () => {
    const outcome = await schedule(opts);
    const ordered = new Map(tasks.map((t) => [t.id, results.get(t.id)!]));
    return { ...outcome, results: ordered };
  };
  return { opts, order, run };
}

Deno.test("a failure skips dependents transitively and every task gets a final result", async () => {
  const tasks = [task("a"), task("b", ["a"]), task("c", ["b"]), task("d"), task("e", ["d"])];
  const { run } = options(tasks, { a: "failed" });
  const { results } = await run();
  assert.deepEqual([...results.keys()], ["a", "b", "c", "d", "e"]);
  assert.equal(results.get("b")!.message, "Skipped because dependency failed: a");
  assert.equal(results.get("c")!.message, "Skipped because dependency failed: b");
  assert.equal(results.get("e")!.status, "success");
});

Deno.test("a when condition is evaluated even after a dependency failed", async () => {
  const tasks = [
    task("a"),
    task("onfail", ["a"], {
      when: { source: "{{ a.status }} == failed", expr: parseWhen("{{ a.status }} == failed") },
    }),
    task("onok", ["a"], {
      when: { source: "{{ a.status }} == success", expr: parseWhen("{{ a.status }} == success") },
    }),
  ];
  const { run } = options(tasks, { a: "failed" });
  const { results } = await run();
  assert.equal(results.get("onfail")!.status, "success");
  assert.equal(results.get("onok")!.message, "Condition not met: {{ a.status }} == success");
});

Deno.test("fail_fast stops dispatching and skips pending tasks naming the culprit", async () => {
  const tasks = [task("a"), task("b", ["a"]), task("c", ["b"])];
  const { order, run } = options(tasks, { a: "failed" }, { failFast: true, maxParallel: 1 });
  const { results, failFastBy } = await run();
  assert.equal(failFastBy, "a");
  assert.deepEqual(order, ["a"]);
  assert.equal(results.get("c")!.status, "skipped");
});

Deno.test("no more than max_parallel tasks run at once and dispatch follows plan order", async () => {
  let running = 0;
  let peak = 0;
  const tasks = ["t1", "t2", "t3", "t4", "t5"].map((id) => task(id));
  const { opts, order, run } = options(tasks, {});
  const execute = opts.execute;
  opts.execute = async (t, w) => {
    running++;
    peak = Math.max(peak, running);
    const r = await execute(t, w);
    running--;
    return r;
  };
  await run();
  assert.equal(peak, 2);
  assert.deepEqual(order, ["t1", "t2", "t3", "t4", "t5"]);
});

Deno.test("a denied approval skips the task but its dependents still run", async () => {
  const tasks = [task("gate", [], { requires_approval: true }), task("after", ["gate"])];
  const { run } = options(tasks, {}, { approve: () => Promise.resolve(false) });
  const { results } = await run();
  assert.equal(results.get("gate")!.message, "Approval denied or non-interactive");
  assert.equal(results.get("after")!.status, "success");
});

Deno.test("aborting cancels every task that had not started", async () => {
  const controller = new AbortController();
  const tasks = [task("a"), task("b", ["a"]), task("c", ["b"])];
  const { opts, run } = options(tasks, {}, { signal: controller.signal });
  const execute = opts.execute;
  opts.execute = async (t, w) => {
    controller.abort();
    return await execute(t, w);
  };
  const { results } = await run();
  assert.equal(results.get("b")!.status, "cancelled");
  assert.equal(results.get("c")!.status, "cancelled");
});

Deno.test("a 20000-task chain schedules without overflowing the stack", async () => {
  const tasks = Array.from({ length: 20000 }, (_, i) => task(`t${i}`, i ? [`t${i - 1}`] : []));
  const { run } = options(tasks, { t0: "failed" });
  const { results } = await run();
  assert.equal(results.get("t19999")!.status, "skipped");
});

Deno.test("tasks released out of plan order are still dispatched lowest index first", async () => {
  // z finishes first and releases d3 before slow y releases d1/d2: d3 must wait its turn only
  // behind tasks that are ready; when several are ready together, plan order decides.
  const tasks = [
    task("y"),
    task("z"),
    task("d1", ["y"]),
    task("d2", ["y"]),
    task("d3", ["z"]),
    task("d4", ["y", "z"]),
  ];
  const { order, run } = options(tasks, {}, { maxParallel: 1 });
  const { results } = await run();
  assert.deepEqual(order, ["y", "z", "d1", "d2", "d3", "d4"]);
  assert.deepEqual([...results.keys()], tasks.map((t) => t.id));
  // with two slots, d3 is released while y still runs and goes before d1/d2
  const slow = options(tasks, {}, { maxParallel: 2 });
  const execute = slow.opts.execute;
  slow.opts.execute = async (t, w) => {
    const result = await execute(t, w);
    if (t.id === "y") await new Promise((r) => setTimeout(r, 60));
    return result;
  };
  await slow.run();
  assert.deepEqual(slow.order, ["y", "z", "d3", "d1", "d2", "d4"]);
  // a task released after a later one was queued overtakes it (FIFO would run c first)
  const overtake = options([task("r"), task("x", ["r"]), task("c")], {}, { maxParallel: 1 });
  await overtake.run();
  assert.deepEqual(overtake.order, ["r", "x", "c"]);
});

Deno.test("a 20000-task wide plan dispatches in plan order, each task once", async () => {
  const tasks = Array.from({ length: 20000 }, (_, i) => task(`t${i}`));
  const { opts, order, run } = options(tasks, {}, { maxParallel: 8 });
  opts.execute = (t) => {
    order.push(t.id);
    return Promise.resolve(makeResult({ task_id: t.id, status: "success", message: "" }));
  };
  const { results } = await run();
  assert.equal(results.size, 20000);
  assert.deepEqual(order, tasks.map((t) => t.id));
});

Deno.test("a task with a preset result never runs, whatever order its presets come in", async () => {
  // a resumed chain (a, b reused) and a task left out by selection after a root that runs
  const tasks = [task("a"), task("b", ["a"]), task("c", ["b"]), task("x"), task("y", ["x"])];
  const preset = new Map<string, TaskResult>([
    ["a", makeResult({ task_id: "a", status: "success", message: "reused" })],
    ["b", makeResult({ task_id: "b", status: "success", message: "reused" })],
    ["x", makeResult({ task_id: "x", status: "skipped", message: "Not selected" })],
    ["y", makeResult({ task_id: "y", status: "skipped", message: "Not selected" })],
  ]);
  for (const maxParallel of [1, 2, 8]) {
    const { run, order } = options(tasks, {}, { preset, maxParallel });
    const { results } = await run();
    assert.deepEqual(order, ["c"], `max_parallel ${maxParallel}`);
    assert.equal(results.get("b")!.message, "reused");
    assert.equal(results.get("y")!.message, "Not selected");
    assert.equal(results.get("c")!.status, "success");
  }
});

Deno.test("a preset dependency listed after its dependent still gates it", async () => {
  const tasks = [task("late", ["early"]), task("early")];
  const preset = new Map<string, TaskResult>([
    ["late", makeResult({ task_id: "late", status: "success", message: "reused" })],
    ["early", makeResult({ task_id: "early", status: "success", message: "reused" })],
  ]);
  const { run, order } = options(tasks, {}, { preset });
  const { results } = await run();
  assert.deepEqual(order, []);
  assert.equal(results.get("late")!.message, "reused");
});

import assert from "node:assert/strict";
import type { TaskIR } from "../plan/ir.ts";
import { parseWhen } from "../plan/when.ts";
import { makeResult, type TaskResult } from "./result.ts";
import { schedule, type ScheduleOptions } from "./scheduler.ts";

function task(id: string, deps: string[] = [], extra: Partial<TaskIR> = {}): TaskIR {
  return {
    id,
    kind: "shell",
    description: "",
    tags: [],
    depends_on: deps,
    command: "true",
    workdir: "/",
    env: {},
    timeout_sec: 10,
    stdout_tail_lines: 5,
    allow_failure: false,
    max_retries: 0,
    retry_delay_sec: 0,
    retry_strategy: "constant",
    cache: false,
    context_from: [],
    requires_approval: false,
    origin: { file: "t.yaml", line: 1, column: 1 },
    ...extra,
  };
}

function options(
  tasks: TaskIR[],
  outcome: Record<string, "success" | "failed">,
  extra: Partial<ScheduleOptions> = {},
) {
  const order: string[] = [];
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
    finalize: async () => {},
    whenLookup: (_t, results) => (name) => {
      const [id, field] = name.split(".");
      const r: TaskResult | undefined = results.get(id!);
      return field === "status" ? r?.status : undefined;
    },
    ...extra,
  };
  return { opts, order };
}

Deno.test("a failure skips dependents transitively and every task gets a final result", async () => {
  const tasks = [task("a"), task("b", ["a"]), task("c", ["b"]), task("d"), task("e", ["d"])];
  const { opts } = options(tasks, { a: "failed" });
  const { results } = await schedule(opts);
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
  const { opts } = options(tasks, { a: "failed" });
  const { results } = await schedule(opts);
  assert.equal(results.get("onfail")!.status, "success");
  assert.equal(results.get("onok")!.message, "Condition not met: {{ a.status }} == success");
});

Deno.test("fail_fast stops dispatching and skips pending tasks naming the culprit", async () => {
  const tasks = [task("a"), task("b", ["a"]), task("c", ["b"])];
  const { opts, order } = options(tasks, { a: "failed" }, { failFast: true, maxParallel: 1 });
  const { results, failFastBy } = await schedule(opts);
  assert.equal(failFastBy, "a");
  assert.deepEqual(order, ["a"]);
  assert.equal(results.get("c")!.status, "skipped");
});

Deno.test("no more than max_parallel tasks run at once and dispatch follows plan order", async () => {
  let running = 0;
  let peak = 0;
  const tasks = ["t1", "t2", "t3", "t4", "t5"].map((id) => task(id));
  const { opts, order } = options(tasks, {});
  const execute = opts.execute;
  opts.execute = async (t, w) => {
    running++;
    peak = Math.max(peak, running);
    const r = await execute(t, w);
    running--;
    return r;
  };
  await schedule(opts);
  assert.equal(peak, 2);
  assert.deepEqual(order, ["t1", "t2", "t3", "t4", "t5"]);
});

Deno.test("a denied approval skips the task but its dependents still run", async () => {
  const tasks = [task("gate", [], { requires_approval: true }), task("after", ["gate"])];
  const { opts } = options(tasks, {}, { approve: () => Promise.resolve(false) });
  const { results } = await schedule(opts);
  assert.equal(results.get("gate")!.message, "Approval denied or non-interactive");
  assert.equal(results.get("after")!.status, "success");
});

Deno.test("aborting cancels every task that had not started", async () => {
  const controller = new AbortController();
  const tasks = [task("a"), task("b", ["a"]), task("c", ["b"])];
  const { opts } = options(tasks, {}, { signal: controller.signal });
  const execute = opts.execute;
  opts.execute = async (t, w) => {
    controller.abort();
    return await execute(t, w);
  };
  const { results } = await schedule(opts);
  assert.equal(results.get("b")!.status, "cancelled");
  assert.equal(results.get("c")!.status, "cancelled");
});

Deno.test("a 20000-task chain schedules without overflowing the stack", async () => {
  const tasks = Array.from({ length: 20000 }, (_, i) => task(`t${i}`, i ? [`t${i - 1}`] : []));
  const { opts } = options(tasks, { t0: "failed" });
  const { results } = await schedule(opts);
  assert.equal(results.get("t19999")!.status, "skipped");
});

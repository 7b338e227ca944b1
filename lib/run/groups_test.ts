import assert from "node:assert/strict";
import type { PlanIR, TaskIR } from "../plan/ir.ts";
import { fixtureTask } from "./_task_fixture.ts";
import { flattenGroups, groupOutcome } from "./groups.ts";
import { makeResult, type TaskResult } from "./result.ts";
import { schedule } from "./scheduler.ts";

const task = fixtureTask;

function plan(name: string, tasks: TaskIR[]): PlanIR {
  return {
    ir_version: 1,
    name,
    goal: "",
    workspace_root: null,
    max_parallel: 4,
    fail_fast: true,
    run_dir: "/tmp",
    max_cost_usd: null,
    budget_warning_pct: 0.8,
    secrets: [],
    tasks,
  };
}

function group(id: string, deps: string[], sub: PlanIR): TaskIR {
  return task(id, deps, {
    kind: "group",
    command: undefined,
    group: { path: "/s.yaml", plan: sub },
  });
}

const inner = plan("inner", [task("leaf")]);
const sub = plan("sub", [task("a"), task("b", ["a"]), group("deep", ["b"], inner)]);

Deno.test("flattenGroups() puts each group's members after it, renamed with the group's id", () => {
  const flat = flattenGroups([task("first"), group("g", ["first"], sub), task("last", ["g"])]);
  assert.deepEqual(flat.tasks.map((t) => [t.id, t.depends_on]), [
    ["first", []],
    ["g", ["first"]],
    ["g/a", []],
    ["g/b", ["g/a"]],
    ["g/deep", ["g/b"]],
    ["g/deep/leaf", []],
    ["last", ["g"]],
  ]);
  assert.deepEqual(Object.fromEntries(flat.groups), {
    g: ["g/a", "g/b", "g/deep"],
    "g/deep": ["g/deep/leaf"],
  });
  assert.equal(flat.inner.get("g/b")!.task.id, "b");
  assert.equal(flat.inner.get("g/deep/leaf")!.prefix, "g/deep/");
  assert.equal(flat.inner.has("first"), false);
});

Deno.test("groupOutcome() derives cancelled, failed, blocked, soft-failed and success", () => {
  const m = (
    id: string,
    status: "success" | "failed" | "skipped" | "cancelled" | "soft_failed",
    blocked = false,
  ) => ({
    id,
    status,
    message: `${id} ${status}`,
    blocked,
  });
  assert.equal(groupOutcome([m("a", "failed"), m("b", "cancelled")]).status, "cancelled");
  assert.deepEqual(groupOutcome([m("a", "success"), m("b", "failed")]), {
    status: "failed",
    message: "Inner task failed: b",
    blocked: false,
  });
  assert.deepEqual(groupOutcome([m("a", "success"), m("b", "skipped", true)]), {
    status: "skipped",
    message: "b skipped",
    blocked: true,
  });
  assert.equal(groupOutcome([m("a", "soft_failed"), m("b", "success")]).status, "soft_failed");
  assert.equal(groupOutcome([m("a", "skipped"), m("b", "success")]).status, "success");
  assert.equal(groupOutcome([]).status, "success");
});

async function run(tasks: TaskIR[], options: { abort?: boolean; preset?: string[] } = {}) {
  const flat = flattenGroups(tasks);
  const controller = new AbortController();
  if (options.abort) controller.abort();
  const executed: string[] = [];
  const opened: string[] = [];
  const finals = new Map<string, TaskResult>();
  await schedule({
    tasks: flat.tasks,
    maxParallel: 2,
    failFast: true,
    signal: controller.signal,
    preset: new Map(
      (options.preset ?? []).map((id) => [
        id,
        makeResult({ task_id: id, status: "skipped", message: "Excluded by --skip" }),
      ]),
    ),
    execute: (t) => {
      executed.push(t.id);
      return Promise.resolve(makeResult({ task_id: t.id, status: "success", message: "ok" }));
    },
    skipResult: (t, reason) =>
      makeResult({ task_id: t.id, status: reason.status, message: reason.message }),
    finalize: (t, result) => {
      finals.set(t.id, result);
      return Promise.resolve();
    },
    whenLookup: () => () => undefined,
    groups: flat.groups,
    openGroup: (t) => opened.push(t.id),
    groupResult: (t, o) => makeResult({ task_id: t.id, status: o.status, message: o.message }),
  });
  // in plan order, as the scheduler used to return them
  const results = new Map(flat.tasks.map((t) => [t.id, finals.get(t.id)!]));
  const status = Object.fromEntries([...results].map(([id, r]) => [id, r.status]));
  return { status, executed, opened, results };
}

Deno.test("schedule() opens nested groups, runs members in order and never executes a group", async () => {
  const { status, executed, opened } = await run([group("g", [], sub), task("after", ["g"])]);
  assert.deepEqual(opened, ["g", "g/deep"]);
  assert.deepEqual(executed, ["g/a", "g/b", "g/deep/leaf", "after"]);
  assert.ok(Object.values(status).every((s) => s === "success"));
});

Deno.test("schedule() hands an excluded group's reason to every member, nested ones too", async () => {
  const { status, executed, results } = await run([group("g", [], sub), task("after", ["g"])], {
    preset: ["g"],
  });
  assert.deepEqual(executed, ["after"]);
  assert.equal(status["g/deep/leaf"], "skipped");
  assert.equal(results.get("g/a")!.message, "Excluded by --skip");
});

Deno.test("schedule() cancels a group and its members when the run was aborted first", async () => {
  const { status, executed } = await run([group("g", [], sub)], { abort: true });
  assert.deepEqual(executed, []);
  assert.ok(Object.values(status).every((s) => s === "cancelled"), JSON.stringify(status));
});

Deno.test("schedule() closes an empty group as soon as it opens", async () => {
  const { status } = await run([group("g", [], plan("empty", [])), task("after", ["g"])]);
  assert.deepEqual(status, { g: "success", after: "success" });
});

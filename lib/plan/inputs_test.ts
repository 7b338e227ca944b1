import assert from "node:assert/strict";
import { join } from "node:path";
import { tempPlanDir } from "../../tests/helpers.ts";
import { loadPlan } from "./load.ts";

async function load(yaml: string, files: Record<string, string> = {}) {
  const dir = tempPlanDir({ "plan.yaml": yaml, ...files });
  return await loadPlan(join(dir, "plan.yaml"));
}

Deno.test("loadPlan() reports a malformed inputs pattern as E086 at its line and column", async () => {
  const { errors } = await load(`tasks:
  - id: build
    command: make
    inputs:
      - src/**
      - "src/[ab"
`);
  assert.equal(errors.length, 1);
  const [issue] = errors;
  assert.equal(issue!.code, "E086");
  assert.equal(issue!.message, `inputs pattern "src/[ab" has a '[' without its ']'`);
  assert.deepEqual([issue!.line, issue!.column], [6, 9]);
  assert.match(issue!.hint ?? "", /relative to the task's workdir/);
});

Deno.test("loadPlan() refuses inputs on a group task (E086)", async () => {
  const { errors } = await load(
    `tasks:
  - id: g
    group: sub.yaml
    inputs: [src/**]
`,
    { "sub.yaml": "tasks:\n  - id: x\n    command: echo x\n" },
  );
  assert.deepEqual(errors.map((e) => [e.code, e.line]), [["E086", 4]]);
});

Deno.test("loadPlan() warns (W32) about inputs that cannot take effect", async () => {
  const { warnings, plan } = await load(`tasks:
  - id: a
    command: make
    inputs: [src/**]
    cache: false
  - id: b
    command: make
    inputs: ["!src/**"]
`);
  assert.ok(plan);
  assert.deepEqual(warnings.filter((w) => w.code === "W32").map((w) => w.line), [4, 8]);
});

Deno.test("lowering caches engine tasks and shell tasks with inputs:, not other shell tasks", async () => {
  const { plan } = await load(`tasks:
  - id: plain
    command: make
  - id: keyed
    command: make
    inputs: [src/**]
  - id: forced
    command: make
    cache: true
  - id: agent
    engine: claude
    prompt: hi
  - id: agent_off
    engine: claude
    prompt: hi
    cache: false
`);
  const cache = Object.fromEntries(plan!.ir.tasks.map((t) => [t.id, t.cache]));
  assert.deepEqual(cache, {
    plain: false,
    keyed: true,
    forced: true,
    agent: true,
    agent_off: false,
  });
  assert.deepEqual(plan!.ir.tasks[1]!.inputs, ["src/**"]);
});

/**
 * The builder: camelCase options become the YAML's snake_case data at the right levels only,
 * and the ids it tracks make wrong dependencies type errors (`@ts-expect-error` lines fail
 * `deno check` if the error ever goes away).
 */
import assert from "node:assert/strict";
import { plan, PlanBuilder } from "./builder.ts";

Deno.test("the builder writes plan, defaults, engine and task keys in snake_case", () => {
  const built = plan({
    name: "demo",
    maxParallel: 2,
    defaults: { timeoutSec: 5, env: { MY_VAR: "x" }, claude: { reasoningEffort: "high" } },
  })
    .task("build", { command: "make", timeoutSec: 9, env: { keepMe: "1" } })
    .task("test", {
      dependsOn: ["build"],
      outputSchema: { type: "object", additionalProperties: false },
      judge: { pass_threshold: 0.5 },
    });
  assert.deepEqual(built.toJSON(), {
    name: "demo",
    max_parallel: 2,
    defaults: { timeout_sec: 5, env: { MY_VAR: "x" }, claude: { reasoning_effort: "high" } },
    tasks: [
      { id: "build", command: "make", timeout_sec: 9, env: { keepMe: "1" } },
      {
        id: "test",
        depends_on: ["build"],
        output_schema: { type: "object", additionalProperties: false },
        judge: { pass_threshold: 0.5 },
      },
    ],
  });
});

Deno.test("the builder is immutable, so one base plan can grow two ways", () => {
  const base = plan({ name: "base" }).task("a");
  const one = base.task("b");
  const two = base.task("c");
  assert.deepEqual(base.toJSON().tasks.map((t) => t.id), ["a"]);
  assert.deepEqual(one.toJSON().tasks.map((t) => t.id), ["a", "b"]);
  assert.deepEqual(two.toJSON().tasks.map((t) => t.id), ["a", "c"]);
});

Deno.test("each() adds computed tasks and keeps their ids usable in dependsOn", () => {
  const names = ["x", "y"];
  const built = plan({})
    .each(names, (b, name) => b.task(`make-${name}`))
    .task("all", { dependsOn: names.map((n) => `make-${n}` as const) });
  assert.deepEqual(built.toJSON().tasks.at(-1), { id: "all", depends_on: ["make-x", "make-y"] });
});

Deno.test("a dependency on an unknown id is a type error, imported and declared ids are not", () => {
  const base = plan({ imports: [{ path: "lib.yaml", prefix: "lib" }] }).task("build");
  // @ts-expect-error "biuld" is not a task id
  base.task("test", { dependsOn: ["biuld"] });
  // @ts-expect-error a prefix that no import has
  base.task("test", { dependsOn: ["other/x"] });
  // @ts-expect-error context_from names ids too
  base.task("test", { contextFrom: ["nope"] });
  const ok = base.declare("later")
    .task("test", { dependsOn: ["build", "lib/setup", "later"], contextFrom: ["*"] })
    .task("later");
  assert.ok(ok instanceof PlanBuilder);
  assert.deepEqual(ok.toJSON().tasks[1]!.depends_on, ["build", "lib/setup", "later"]);
});

Deno.test("the builder records where plan() and each .task( were called", () => {
  const built = plan({ name: "sites" })
    .task("a");
  const { plan: planStack, tasks } = built.sites;
  assert.equal(planStack[0]!.url, import.meta.url);
  assert.equal(tasks[0]![0]!.line, planStack[0]!.line + 1);
  assert.equal(tasks[0]![0]!.column, 6);
});

import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { HAS_REFERENCE_PLANS, REFERENCE_PLANS, ROOT } from "../../tests/helpers.ts";
import { renderPlanSchema } from "../../tools/gen_schema.ts";
import { matchesSchema } from "./json_schema_check.ts";
import { PLAN_JSON_SCHEMA, TASK_JSON_SCHEMA } from "./keys.ts";
import { planSchema, taskSchema } from "./schema.ts";
import { parseYaml } from "./yaml.ts";

Deno.test("plan.schema.json is up to date with the zod schema (run `deno task gen-schema`)", () => {
  const committed = readFileSync(join(ROOT, "lib/plan/plan.schema.json"), "utf8");
  assert.equal(committed, renderPlanSchema());
});

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith(".yaml")).map((f) => join(dir, f));
}

/** Every task and plan document of the corpus, plus broken variants of each task. */
function corpus(): unknown[] {
  const docs: unknown[] = [];
  const reference = HAS_REFERENCE_PLANS ? yamlFiles(REFERENCE_PLANS) : [];
  for (const file of [...reference, ...yamlFiles(join(ROOT, "examples"))]) {
    const { data } = parseYaml(readFileSync(file, "utf8"), file);
    docs.push(data);
  }
  return docs;
}

const BREAKERS: Array<[string, unknown]> = [
  ["max_retries", 4],
  ["max_retries", 1.5],
  ["timeout_sec", 0],
  ["timeout_sec", "soon"],
  ["engine", "gpt"],
  ["depends_on", "a"],
  ["depends_on", [1]],
  ["env", { A: [1] }],
  ["env", { A: null }],
  ["retry_delay_sec", []],
  ["retry_delay_sec", [-1]],
  ["command", { x: 1 }],
  ["id", ""],
  ["id", 7],
  ["judge", { on_fail: "explode" }],
  ["judge", { pass_threshold: 2 }],
  ["matrix", { os: [] }],
  ["matrix", { os: [{}] }],
  ["tags", null],
  ["cache", "yes"],
  ["stdout_tail_lines", 0],
  ["context_mode", "psychic"],
];

Deno.test("matchesSchema() agrees with zod on every corpus plan and task", () => {
  let checked = 0;
  for (const doc of corpus()) {
    assert.equal(matchesSchema(PLAN_JSON_SCHEMA, doc), planSchema.safeParse(doc).success);
    const tasks = (doc as { tasks?: unknown }).tasks;
    if (!Array.isArray(tasks)) continue;
    for (const task of tasks) {
      assert.equal(matchesSchema(TASK_JSON_SCHEMA, task), taskSchema.safeParse(task).success);
      for (const [key, value] of BREAKERS) {
        const broken = { ...(task as object), [key]: value };
        const expected = taskSchema.safeParse(broken).success;
        assert.equal(
          matchesSchema(TASK_JSON_SCHEMA, broken),
          expected,
          `${key}: ${JSON.stringify(value)}`,
        );
        checked++;
      }
    }
  }
  assert.ok(checked > (HAS_REFERENCE_PLANS ? 500 : 80), `only ${checked} variants checked`);
});

Deno.test("matchesSchema() rejects what zod rejects at the plan level", () => {
  const base = { tasks: [{ id: "a", command: "x" }] };
  const variants = [
    { max_parallel: 0 },
    { fail_fast: "no" },
    { secrets: "all" },
    { budget_warning_pct: 1.5 },
    { defaults: { claude: { args: "x" } } },
    { imports: [{ path: "a.yaml" }] },
    { circuit_breaker: { action: "explode" } },
    { version: 1.5 },
    { secrets: "auto" },
    { name: null },
  ];
  for (const variant of variants) {
    const doc = { ...base, ...variant };
    assert.equal(
      matchesSchema(PLAN_JSON_SCHEMA, doc),
      planSchema.safeParse(doc).success,
      JSON.stringify(variant),
    );
  }
});

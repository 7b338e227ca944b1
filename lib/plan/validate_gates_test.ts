import assert from "node:assert/strict";
import { join } from "node:path";
import { tempPlanDir } from "../../tests/helpers.ts";
import { loadPlan } from "./load.ts";

async function load(yaml: string) {
  const dir = tempPlanDir({ "plan.yaml": yaml });
  return await loadPlan(join(dir, "plan.yaml"));
}

Deno.test("validation reports bad judge criteria and assertions at their line and column", async () => {
  const { errors } = await load(`tasks:
  - id: a
    command: echo hi
    judge:
      preset: nope
      criteria:
        - type: contains
        - type: rubric
          levels: []
        - type: starts-with
          value: hi
    assert:
      - type: file_contains
        path: x.txt
      - type: glob_exist
        glob: "*.md"
`);
  const shown = errors.map((e) => `${e.code} ${e.line}:${e.column} ${e.message}`);
  assert.deepEqual(shown, [
    "E020 5:15 unknown judge preset 'nope'",
    "E020 7:11 judge criterion: contains needs a string value",
    "E020 8:11 judge criterion: a rubric needs at least 2 levels, each with a numeric score",
    "E018 13:15 assert: file_contains needs a pattern",
    "E018 15:15 assert: unknown assertion type 'glob_exist'",
  ]);
  assert.match(errors[0]!.hint ?? "", /code_quality/);
  assert.match(errors[4]!.hint ?? "", /glob_exists/);
});

Deno.test("validation checks quorum settings and warns about expensive judges", async () => {
  const { errors, warnings } = await load(`tasks:
  - id: a
    command: echo hi
    judge:
      criteria: "Is it good?"
      quorum_strategy: any
  - id: b
    command: echo hi
    judge:
      criteria: "Is it good?"
      method: debate
      debate_rounds: 2
      quorum: 3
`);
  assert.deepEqual(errors.map((e) => e.code), ["E055"]);
  assert.deepEqual(warnings.filter((w) => w.code === "W22").map((w) => w.message), [
    'judge of task "b" makes about 12 LLM calls per attempt',
  ]);
});

Deno.test("a valid judge and assert list load without issues", async () => {
  const { errors, plan } = await load(`tasks:
  - id: a
    command: echo hi
    guard_command: grep -q hi
    assert:
      - type: glob_exists
        glob: "*.yaml"
    judge:
      engine: codex
      model: gpt-5.4-mini
      args: ["-c", "x=1"]
      criteria:
        - type: not-icontains
          value: error
        - "The greeting is friendly"
      pass_threshold: 0.8
      on_fail: retry
`);
  assert.deepEqual(errors, []);
  const judge = plan!.ir.tasks[0]!.judge as Record<string, unknown>;
  assert.deepEqual(judge.args, ["-c", "x=1"]);
});

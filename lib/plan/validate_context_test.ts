import assert from "node:assert/strict";
import { join } from "node:path";
import { tempPlanDir } from "../../tests/helpers.ts";
import { loadPlan } from "./load.ts";

async function load(yaml: string) {
  const dir = tempPlanDir({ "plan.yaml": yaml });
  return await loadPlan(join(dir, "plan.yaml"));
}

const where = (i: { code: string; line: number; column: number; hint?: string }) =>
  `${i.code}@${i.line}:${i.column}`;

Deno.test("validation: context errors carry codes, positions and hints", async () => {
  const { errors } = await load(`tasks:
  - id: a
    command: echo a
    output_redact: ["sk-[", "ok-[0-9]+"]
  - id: b
    depends_on: [a]
    context_from: [a]
    context_mode: summarized
    context_allowlist: [status, stdout_tails]
    command: echo b
  - id: c
    engine: codex
    prompt: hi
    depends_on: [a]
    context_from: [a]
    context_mode: council
    context_engine: codx
    council: { topology: graph }
`);
  assert.deepEqual(errors.map(where), [
    "E074@4:21",
    "E076@8:19",
    "E075@9:33",
    "E006@17:21",
    "E072@18:14",
    "E072@18:26",
  ]);
  const byCode = new Map(errors.map((e) => [e.code + e.line, e]));
  assert.match(
    byCode.get("E0744")!.message,
    /output_redact pattern "sk-\[" is not a valid regular expression/,
  );
  assert.match(byCode.get("E0759")!.hint!, /did you mean "stdout_tail"\?/);
  assert.match(byCode.get("E0768")!.hint!, /context_engine/);
  assert.match(byCode.get("E00617")!.hint!, /did you mean "codex"\?/);
  assert.match(errors[4]!.message, /council needs council.models/);
  assert.match(errors[5]!.message, /topology graph is not supported/);
  assert.equal(errors.length, 6);
});

Deno.test("validation: context keys that do nothing are warnings", async () => {
  const { errors, warnings } = await load(`tasks:
  - id: a
    command: echo a
  - id: b
    engine: codex
    depends_on: [a]
    context_budget_tokens: 100
    prompt: "{{ upstream_synthesis }}"
  - id: c
    depends_on: [a]
    context_from: [a]
    context_mode: scip
    context_inject: append
    command: echo c
`);
  assert.deepEqual(errors, []);
  assert.deepEqual(warnings.map((w) => [w.code, w.line]), [
    ["W39", 7],
    ["W33", 8],
    ["W34", 12],
    ["W35", 13],
  ]);
});

Deno.test("validation: a valid context plan has no context issues", async () => {
  const { errors, warnings } = await load(`tasks:
  - id: a
    command: echo a
    output_redact: ["sk-[A-Za-z0-9]+"]
  - id: b
    engine: claude
    depends_on: [a]
    context_from: ["*"]
    context_mode: council
    context_allowlist: [status, stdout_tail, output]
    council:
      models: [haiku, { engine: codex, model: gpt-5.4-mini }]
      topology: chain
      rounds: 2
    prompt: go
`);
  assert.deepEqual(errors, []);
  assert.deepEqual(warnings, []);
});

import assert from "node:assert/strict";
import { join } from "node:path";
import { tempPlanDir } from "../../tests/helpers.ts";
import type { PlanIssue } from "../errors.ts";
import { loadPlan } from "./load.ts";

const ADAPTER = "export default {};\n";

async function load(yaml: string, files: Record<string, string> = {}) {
  const dir = tempPlanDir({ "plan.yaml": yaml, ...files });
  return { dir, ...(await loadPlan(join(dir, "plan.yaml"))) };
}

function codes(issues: PlanIssue[]): string[] {
  return issues.map((i) => i.code);
}

Deno.test("loadPlan() accepts a custom engine and puts its absolute module path on the task", async () => {
  const { dir, plan, errors, warnings } = await load(
    `engines:
  echoer: ./adapters/echoer.ts
tasks:
  - id: a
    engine: echoer
    reasoning_effort: high
    prompt: hi
  - id: b
    engine: claude
    prompt: hi
`,
    { "adapters/echoer.ts": ADAPTER },
  );
  assert.deepEqual(errors, []);
  assert.deepEqual(codes(warnings), [], "no W08: a custom engine may use reasoning_effort");
  const [a, b] = plan!.ir.tasks;
  assert.equal(a!.engine, "echoer");
  assert.equal(a!.kind, "engine");
  assert.equal(a!.engine_module, join(dir, "adapters/echoer.ts"));
  assert.equal(b!.engine_module, undefined);
  assert.equal(plan!.ir.engines, undefined, "the IR carries the module on each task only");
});

Deno.test("loadPlan() reports an undeclared engine as E006 with a suggestion from the declared ones", async () => {
  const { errors } = await load(
    `engines:
  echoer: ./echoer.ts
tasks:
  - id: a
    engine: echoes
    prompt: hi
`,
    { "echoer.ts": ADAPTER },
  );
  assert.deepEqual(codes(errors), ["E006"]);
  assert.equal(errors[0]!.line, 5);
  assert.match(errors[0]!.message, /or a custom engine of the plan \(echoer\), got "echoes"/);
  assert.equal(errors[0]!.hint, 'did you mean "echoer"?');

  const bare = await load(`tasks:\n  - id: a\n    engine: mine\n    prompt: hi\n`);
  assert.deepEqual(codes(bare.errors), ["E006"]);
  assert.match(bare.errors[0]!.hint!, /declare a custom engine under the plan's `engines:`/);
});

Deno.test("loadPlan() checks each engines: entry's module (E084) and name (E085) at its line", async () => {
  const { errors } = await load(
    `engines:
  gone: ./missing.ts
  yamlish: ./plan.yaml
  remote: jsr:@someone/engine
  folder: ./adapters
  claude: ./adapters/ok.ts
  Bad_Name: ./adapters/ok.ts
  fine: ./adapters/ok.ts
tasks:
  - id: a
    engine: fine
    prompt: hi
`,
    { "adapters/ok.ts": ADAPTER },
  );
  assert.deepEqual(
    errors.map((e) => [e.code, e.line]),
    [["E084", 2], ["E084", 3], ["E084", 4], ["E084", 5], ["E085", 6], ["E085", 7]],
  );
  assert.match(errors[0]!.message, /custom engine "gone": module not found: \.\/missing\.ts/);
  assert.match(errors[0]!.hint!, /relative to the plan's folder/);
  assert.match(errors[1]!.message, /is not a TypeScript or JavaScript module/);
  assert.match(errors[2]!.hint!, /re-exports it/);
  assert.match(errors[4]!.message, /has the name of a built-in engine/);
  assert.match(errors[5]!.message, /custom engine name "Bad_Name" is not valid/);
});

Deno.test("loadPlan() resolves an imported plan's custom engines against its own folder", async () => {
  const { dir, plan, errors } = await load(
    `imports:
  - { path: lib/sub.yaml, prefix: sub }
tasks:
  - id: a
    command: "true"
`,
    {
      "lib/sub.yaml":
        `engines:\n  echoer: ./echoer.ts\ntasks:\n  - id: t\n    engine: echoer\n    prompt: hi\n`,
      "lib/echoer.ts": ADAPTER,
    },
  );
  assert.deepEqual(errors, []);
  const task = plan!.ir.tasks.find((t) => t.id === "sub/t")!;
  assert.equal(task.engine_module, join(dir, "lib/echoer.ts"));
});

Deno.test("loadPlan() rejects one engine name declared with two modules (E085)", async () => {
  const { errors } = await load(
    `imports:
  - { path: lib/sub.yaml, prefix: sub }
engines:
  echoer: ./echoer.ts
tasks:
  - id: a
    engine: echoer
    prompt: hi
`,
    {
      "echoer.ts": ADAPTER,
      "lib/sub.yaml":
        `engines:\n  echoer: ./echoer.ts\ntasks:\n  - id: t\n    engine: echoer\n    prompt: hi\n`,
      "lib/echoer.ts": ADAPTER,
    },
  );
  assert.deepEqual(codes(errors), ["E085"]);
  assert.match(errors[0]!.message, /declared with two modules/);
  assert.match(errors[0]!.file, /sub\.yaml$/);
});

import assert from "node:assert/strict";
import { join } from "node:path";
import { HAS_REFERENCE_PLANS, REFERENCE_PLANS, runCli, tempPlanDir } from "../helpers.ts";

Deno.test("maestro validate prints a summary and exits 0 for a valid plan", async () => {
  const result = await runCli(["validate", "examples/hello.yaml"]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /examples\/hello\.yaml is valid/);
  assert.match(result.stdout, /tasks: 4/);
  assert.match(result.stdout, /critical path: 3 tasks \(prepare -> count-words -> report\)/);
  assert.match(result.stdout, /max parallelism: 2/);
});

Deno.test("maestro validate prints every error as file:line:column CODE message with a hint, exit 2", async () => {
  const dir = tempPlanDir({
    "plan.yaml":
      "tasks:\n  - id: build\n    command: make\n  - id: test\n    depends_on: [biuld]\n    command: t\n    max_retries: 9\n",
  });
  const result = await runCli(["validate", "plan.yaml"], { cwd: dir });
  assert.equal(result.code, 2);
  assert.match(result.stderr, /^plan\.yaml:5:18 E005 unknown dependency "biuld" in task "test"$/m);
  assert.match(result.stderr, /^ {2}hint: did you mean "build"\?$/m);
  assert.match(result.stderr, /^plan\.yaml:7:18 E012 /m);
  assert.match(result.stderr, /2 errors/);
  assert.doesNotMatch(result.stderr, /at .*\.ts:\d+/, "no stack trace");
});

Deno.test({
  name: "maestro validate --json reports the reference's pitfall-audit plan as E021 at its line",
  ignore: !HAS_REFERENCE_PLANS,
}, async () => {
  const invalid = await runCli(["validate", "--json", join(REFERENCE_PLANS, "pitfall-audit.yaml")]);
  assert.equal(invalid.code, 2);
  const doc = JSON.parse(invalid.stdout);
  assert.equal(doc.valid, false);
  assert.equal(doc.errors[0].code, "E021");
  assert.equal(doc.errors[0].line, 43);
});

Deno.test("maestro validate --json prints one document with errors and warnings", async () => {
  const broken = tempPlanDir({
    "plan.yaml": "tasks:\n  - id: a\n    command: x\n    depends_on: [b]\n",
  });
  const invalid = await runCli(["validate", "--json", "plan.yaml"], { cwd: broken });
  assert.equal(invalid.code, 2);
  const doc = JSON.parse(invalid.stdout);
  assert.equal(doc.valid, false);
  assert.deepEqual(Object.keys(doc.errors[0]).sort(), [
    "code",
    "column",
    "file",
    "hint",
    "line",
    "message",
  ]);
  assert.equal(doc.errors[0].code, "E005");
  assert.equal(doc.errors[0].line, 4);

  const dir = tempPlanDir({ "plan.yaml": "tasks:\n  - id: a\n    command: x\n    comand: y\n" });
  const warned = JSON.parse(
    (await runCli(["validate", "--json", "plan.yaml"], { cwd: dir })).stdout,
  );
  assert.equal(warned.valid, true);
  assert.deepEqual(warned.warnings.map((w: { code: string }) => w.code), ["W01"]);
  assert.equal(warned.warnings[0].file, "plan.yaml");

  const valid = await runCli(["validate", "--json", "examples/hello.yaml"]);
  assert.equal(valid.code, 0);
  const ok = JSON.parse(valid.stdout);
  assert.equal(ok.valid, true);
  assert.equal(ok.plan.tasks, 4);
  assert.equal(ok.plan.critical_path_length, 3);
  assert.deepEqual(ok.errors, []);
});

Deno.test("maestro validate reports a missing file and bad usage with exit 2", async () => {
  const missing = await runCli(["validate", "no-such-plan.yaml"]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /E081 plan file not found/);
  const usage = await runCli(["validate"]);
  assert.equal(usage.code, 2);
  const unknown = await runCli(["frobnicate"]);
  assert.equal(unknown.code, 2);
  const set = await runCli(["validate", "examples/hello.yaml", "--set", "novalue"]);
  assert.equal(set.code, 2);
  assert.match(set.stderr, /--set expects KEY=VALUE/);
});

Deno.test("maestro ir prints the IR, and --no-origin leaves out provenance", async () => {
  const withOrigin = JSON.parse((await runCli(["ir", "examples/hello.yaml"])).stdout);
  assert.equal(withOrigin.tasks[0].origin.line, 16);
  assert.match(withOrigin.tasks[0].origin.file, /hello\.yaml$/);
  const bare = JSON.parse((await runCli(["ir", "--no-origin", "examples/hello.yaml"])).stdout);
  assert.equal(bare.tasks[0].origin, undefined);
  assert.equal(bare.tasks[3].when.expr.op, "and");
});

Deno.test("maestro graph prints mermaid, dot and json", async () => {
  const mermaid = await runCli(["graph", "examples/hello.yaml"]);
  assert.match(mermaid.stdout, /^flowchart LR/);
  assert.match(mermaid.stdout, /t0 --> t1/);
  const dot = await runCli(["graph", "examples/hello.yaml", "--format", "dot"]);
  assert.match(dot.stdout, /"prepare" -> "greet";/);
  const json = JSON.parse(
    (await runCli(["graph", "examples/hello.yaml", "--format", "json"])).stdout,
  );
  assert.equal(json.edges.length, 4);
  const bad = await runCli(["graph", "examples/hello.yaml", "--format", "svg"]);
  assert.equal(bad.code, 2);
});

Deno.test("maestro schema prints a JSON Schema that describes task keys", async () => {
  const result = await runCli(["schema"]);
  assert.equal(result.code, 0);
  const schema = JSON.parse(result.stdout);
  const task = schema.properties.tasks.items;
  assert.ok(task.properties.depends_on);
  assert.ok(task.properties.engine);
  assert.deepEqual(task.required, ["id"]);
});

Deno.test("maestro --version answers without loading the plan stack", async () => {
  const result = await runCli(["--version"]);
  assert.equal(result.code, 0);
  assert.match(result.stdout, /^maestro \d+\.\d+\.\d+\n$/);
});

Deno.test("examples/multi-engine.yaml is valid and its dry run shows each engine's argv", async () => {
  const valid = await runCli(["validate", "examples/multi-engine.yaml"]);
  assert.equal(valid.code, 0, valid.stdout + valid.stderr);
  const dry = await runCli(["run", "examples/multi-engine.yaml", "--dry-run", "--no-store"]);
  assert.equal(dry.code, 0, dry.stdout + dry.stderr);
  for (const start of ["claude --print", "codex exec", "gemini ", "qwen "]) {
    assert.ok(dry.stdout.includes(`command: ${start}`), `no '${start}' argv in:\n${dry.stdout}`);
  }
});

/**
 * Custom engines end to end through the real CLI: examples/custom-engine.yaml (and its
 * TypeScript twin) run with the `shout` adapter module, a module that is not an engine stops
 * the run before it starts, and validation points at the `engines:` entry.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { withoutProvenance } from "../../lib/plan/ir.ts";
import { loadPlan } from "../../lib/plan/load.ts";
import { ROOT, runCli, tempPlanDir } from "../helpers.ts";

function runOf(root: string): string {
  const [run] = readdirSync(root);
  assert.ok(run, `no run directory in ${root}`);
  return join(root, run);
}

function result(run: string, id: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(run, `${id}.result.json`), "utf8"));
}

for (const file of ["custom-engine.yaml", "custom-engine.ts"]) {
  Deno.test(`maestro run examples/${file} runs the shout adapter module`, async () => {
    const runDir = mkdtempSync(join(tmpdir(), "maestro-custom-"));
    try {
      const out = await runCli([
        "run",
        `examples/${file}`,
        "--run-dir",
        runDir,
        "--no-store",
        "--output",
        "text",
      ]);
      assert.equal(out.code, 0, out.stdout + out.stderr);
      const run = runOf(runDir);
      const draft = result(run, "draft");
      assert.equal(draft.status, "success");
      assert.equal(draft.cost_usd, 0);
      assert.equal(draft.cost_source, "priced");
      const context = draft.structured_context as Record<string, unknown>;
      assert.equal(context.result_text, "CUSTOM ENGINES ARE PLAIN TYPESCRIPT MODULES");
      const whisper = result(run, "whisper");
      assert.equal(
        (whisper.structured_context as Record<string, unknown>).result_text,
        "the draft said: custom engines are plain typescript modules",
      );
      const log = readFileSync(join(run, "draft.log"), "utf8");
      assert.match(log, /\[engine\] sh -c .* shout 'custom engines are plain typescript modules'/);
      const events = readFileSync(join(run, "events.jsonl"), "utf8");
      assert.match(events, /"event":"task_start".*"engine":"shout"/);
      assert.match(readFileSync(join(run, "report.log"), "utf8"), /whisper answered success/);
    } finally {
      rmSync(runDir, { recursive: true, force: true });
    }
  });
}

Deno.test("examples/custom-engine.ts lowers to the same IR as examples/custom-engine.yaml", async () => {
  const [yaml, ts] = await Promise.all([
    loadPlan(join(ROOT, "examples/custom-engine.yaml")),
    loadPlan(join(ROOT, "examples/custom-engine.ts")),
  ]);
  assert.deepEqual(ts.errors, []);
  assert.deepEqual(withoutProvenance(ts.plan!.ir), withoutProvenance(yaml.plan!.ir));
  assert.equal(yaml.plan!.ir.tasks[0]!.engine_module, join(ROOT, "examples/engines/shout.ts"));
});

Deno.test("maestro run stops before the run when a custom engine module is not an engine", async () => {
  const dir = tempPlanDir({
    "plan.yaml": `engines:
  broken: ./broken.ts
tasks:
  - id: shell
    command: echo hi
  - id: agent
    engine: broken
    prompt: hi
`,
    "broken.ts": 'export default { name: "broken", binary: "sh", build() {} };\n',
  });
  try {
    const out = await runCli(["run", "plan.yaml", "--no-store", "--output", "text"], { cwd: dir });
    assert.equal(out.code, 2, out.stdout + out.stderr);
    assert.match(
      out.stderr,
      /^maestro: E102 custom engine "broken": broken\.ts does not export an engine: parser\(\) is missing; parse\(\) is missing; classify\(\) is missing$/m,
    );
    assert.match(out.stderr, /^ {2}hint: export the adapter as the module's default export/m);
    assert.doesNotMatch(out.stderr, /at .*\.ts:\d+/, "no stack trace");
    assert.equal(existsSync(join(dir, ".maestro-runs")), false, "nothing ran, nothing written");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

Deno.test("a custom engine whose build() throws fails its task with E105 and the message", async () => {
  const dir = tempPlanDir({
    "plan.yaml": `engines:
  shout: ${join(ROOT, "examples/engines/shout.ts")}
tasks:
  - id: agent
    engine: shout
    model: sideways
    prompt: hi
`,
  });
  try {
    const out = await runCli(["run", "plan.yaml", "--no-store", "--output", "text"], { cwd: dir });
    assert.equal(out.code, 1, out.stdout + out.stderr);
    const run = runOf(join(dir, ".maestro-runs"));
    const agent = result(run, "agent");
    assert.equal(agent.status, "failed");
    assert.equal(agent.message, 'E105 shout: unknown model "sideways" (use upper or lower)');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

Deno.test("maestro validate points at a missing custom engine module, and never imports one", async () => {
  const dir = tempPlanDir({
    "plan.yaml": `engines:
  gone: ./adapters/gone.ts
  loud: ./adapters/loud.ts
tasks:
  - id: a
    engine: gone
    prompt: hi
  - id: b
    engine: loud
    prompt: hi
`,
    // validating must not run this
    "adapters/loud.ts": 'Deno.writeTextFileSync("imported.txt", "yes");\nexport default {};\n',
  });
  try {
    const out = await runCli(["validate", "plan.yaml"], { cwd: dir });
    assert.equal(out.code, 2);
    assert.match(
      out.stderr,
      /^plan\.yaml:2:9 E084 custom engine "gone": module not found: \.\/adapters\/gone\.ts$/m,
    );
    assert.match(out.stderr, /^ {2}hint: module paths are relative to the plan's folder/m);
    assert.equal(existsSync(join(dir, "imported.txt")), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

Deno.test("maestro run --dry-run shows the argv a custom engine builds", async () => {
  const out = await runCli([
    "run",
    "--dry-run",
    "--output",
    "jsonl",
    "examples/custom-engine.yaml",
  ]);
  assert.equal(out.code, 0, out.stderr);
  const dry = out.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l))
    .find((e) => e.event === "dry_run_task" && e.task_id === "draft");
  assert.deepEqual(dry.argv.slice(0, 2), ["sh", "-c"]);
  assert.equal(dry.argv.at(-1), "custom engines are plain typescript modules");
});

/**
 * TypeScript plans end to end: the sandbox's permissions and error reports, task ids checked
 * by `deno check`, task origins at their `.task(` calls, and examples/hello.ts lowering to the
 * same IR as examples/hello.yaml.
 */
import assert from "node:assert/strict";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { PlanIssue } from "../lib/errors.ts";
import { withoutProvenance } from "../lib/plan/ir.ts";
import { loadPlan } from "../lib/plan/load.ts";
import { checkArgs, evaluatePlanModule, type SandboxResult } from "../lib/plan/sandbox.ts";

const ROOT = resolve(import.meta.dirname!, "..");
const FIXTURES = join(ROOT, "tests/fixtures/ts-plans");
const fixture = (name: string) => join(FIXTURES, name);

function onlyError(result: SandboxResult): PlanIssue {
  assert.equal(result.data, undefined);
  assert.equal(result.errors.length, 1, JSON.stringify(result.errors));
  return result.errors[0]!;
}

async function denoCheck(file: string): Promise<{ success: boolean; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: checkArgs(file),
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { success: out.success, stderr: new TextDecoder().decode(out.stderr) };
}

Deno.test("deno check rejects a dependency on a task id that does not exist", async () => {
  const bad = await denoCheck(fixture("bad_dependency.ts"));
  assert.equal(bad.success, false);
  assert.match(bad.stderr, /TS2\d{3} \[ERROR\]: Type '"biuld"' is not assignable/);
  assert.match(bad.stderr, /bad_dependency\.ts:5:31/);
  const good = await denoCheck(fixture("good_dependency.ts"));
  assert.equal(good.success, true, good.stderr);
});

Deno.test("loading a plan module with a wrong dependency reports the type error at its position", async () => {
  const error = onlyError(await evaluatePlanModule(fixture("bad_dependency.ts")));
  assert.equal(error.code, "E082");
  assert.match(error.message, /"biuld"/);
  assert.deepEqual([error.file, error.line, error.column], [fixture("bad_dependency.ts"), 5, 31]);
});

Deno.test("a plan module may read files in its own folder and compute tasks from them", async () => {
  const result = await evaluatePlanModule(fixture("own_folder.ts"));
  assert.deepEqual(result.errors, []);
  const plan = result.data as { tasks: Array<{ id: string; depends_on?: string[] }> };
  assert.deepEqual(plan.tasks.map((t) => t.id), ["setup", "greet-ada", "greet-grace", "done"]);
  assert.deepEqual(plan.tasks[3]!.depends_on, ["greet-ada", "greet-grace"]);
});

Deno.test("the sandbox returns snake_case data, exactly what the YAML file would hold", async () => {
  const result = await evaluatePlanModule(fixture("own_folder.ts"));
  const plan = result.data as Record<string, unknown>;
  assert.equal(plan.max_parallel, 3);
  assert.equal("maxParallel" in plan, false);
});

const FORBIDDEN: Array<[string, RegExp, number, number]> = [
  ["reads_passwd.ts", /tried to read "\/etc\/passwd"/, 3, 20],
  ["reads_env.ts", /tried to read the environment variable "MAESTRO_TEST_SECRET"/, 3, 24],
  ["runs_command.ts", /tried to run the program "\/bin\/sh"/, 3, 55],
  ["fetches.ts", /tried to use the network \("example\.invalid:80"\)/, 3, 7],
  ["writes.ts", /tried to write ".*written\.txt"/, 3, 6],
];

for (const [name, message, line, column] of FORBIDDEN) {
  Deno.test(`a plan module that does something forbidden fails with E083 (${name})`, async () => {
    // Type checking is covered above; these are about what the code does at run time.
    const error = onlyError(await evaluatePlanModule(fixture(name), { check: false }));
    assert.equal(error.code, "E083");
    assert.match(error.message, message);
    assert.deepEqual([error.file, error.line, error.column], [fixture(name), line, column]);
  });
}

Deno.test("the sandbox never lets a plan module write into its folder", async () => {
  await evaluatePlanModule(fixture("writes.ts"), { check: false });
  assert.equal(existsSync(fixture("written.txt")), false);
});

Deno.test("a syntax error in a plan module is E082 with its position", async () => {
  const error = onlyError(await evaluatePlanModule(fixture("syntax_error.ts")));
  assert.equal(error.code, "E082");
  assert.match(error.message, /syntax error/);
  assert.deepEqual([error.line, error.column], [4, 13]);
});

Deno.test("a plan module without a default export is E082", async () => {
  const error = onlyError(await evaluatePlanModule(fixture("no_default.ts"), { check: false }));
  assert.equal(error.code, "E082");
  assert.match(error.message, /no default export/);
});

Deno.test("an exception thrown by a plan module is E082 at the throw", async () => {
  const error = onlyError(await evaluatePlanModule(fixture("throws.ts"), { check: false }));
  assert.equal(error.code, "E082");
  assert.match(error.message, /threw Error: no items to plan/);
  assert.equal(error.line, 4);
});

Deno.test("a plan module that never finishes is stopped at the time limit", async () => {
  const started = performance.now();
  const error = onlyError(
    await evaluatePlanModule(fixture("never_ends.ts"), { timeoutMs: 1500, check: false }),
  );
  assert.equal(error.code, "E083");
  assert.match(error.message, /did not finish within 1.5 s/);
  assert.ok(performance.now() - started < 10_000, "the child is killed, not waited for");
});

Deno.test("a missing plan module is E081, like a missing YAML file", async () => {
  const error = onlyError(await evaluatePlanModule(fixture("does_not_exist.ts")));
  assert.equal(error.code, "E081");
});

Deno.test("a plain object in the YAML shape is accepted as a plan module's default export", async () => {
  const outcome = await loadPlan(fixture("plain_object.ts"));
  assert.deepEqual(outcome.errors, []);
  assert.equal(outcome.plan!.ir.tasks[0]!.timeout_sec, 5);
});

Deno.test("a plain-object TS plan's errors point at where the task's id is written", async () => {
  const outcome = await loadPlan(fixture("plain_object_bad_dependency.ts"));
  const error = outcome.errors.find((e) => e.code === "E005");
  assert.ok(error, JSON.stringify(outcome.errors));
  assert.deepEqual([error.line, error.column], [7, 7]);
});

Deno.test("validation errors of a TS plan point at the .task( call of the task", async () => {
  const outcome = await loadPlan(fixture("invalid_plan.ts"));
  const error = outcome.errors.find((e) => e.message.includes("max_retries"));
  assert.ok(error, JSON.stringify(outcome.errors));
  assert.deepEqual([error.file, error.line, error.column], [fixture("invalid_plan.ts"), 5, 4]);
});

Deno.test("a bad when: of a TS plan points at its .task( call, not past the end of a line", async () => {
  const outcome = await loadPlan(fixture("bad_when.ts"));
  const error = outcome.errors.find((e) => e.code === "E015");
  assert.ok(error, JSON.stringify(outcome.errors));
  assert.deepEqual([error.line, error.column], [5, 4]);
});

Deno.test("an unknown key of a TS plan is named as its author wrote it, in camelCase", async () => {
  const outcome = await loadPlan(fixture("unknown_key.ts"));
  const warning = outcome.warnings.find((w) => w.code === "W01");
  assert.ok(warning, JSON.stringify(outcome.warnings));
  assert.equal(warning.message, 'unknown key "maxParalel" in plan is ignored');
  assert.equal(warning.hint, 'did you mean "maxParallel"?');
});

Deno.test("each task of a TS plan has its .task( call as origin", async () => {
  const outcome = await loadPlan(join(ROOT, "examples/hello.ts"));
  assert.deepEqual(outcome.errors, []);
  const source = readFileSync(join(ROOT, "examples/hello.ts"), "utf8").split("\n");
  for (const task of outcome.plan!.ir.tasks) {
    const { line, column } = task.origin;
    assert.ok(line > 0, `${task.id} has a position`);
    const text = source[line - 1]!.slice(column - 1);
    assert.ok(text.startsWith(`task("${task.id}"`), `${task.id} points at ${text}`);
  }
});

Deno.test("examples/hello.ts lowers to the same IR as examples/hello.yaml", async () => {
  const [yaml, ts] = await Promise.all([
    loadPlan(join(ROOT, "examples/hello.yaml")),
    loadPlan(join(ROOT, "examples/hello.ts")),
  ]);
  assert.deepEqual([yaml.errors, ts.errors], [[], []]);
  assert.equal(
    JSON.stringify(withoutProvenance(ts.plan!.ir)),
    JSON.stringify(withoutProvenance(yaml.plan!.ir)),
  );
  assert.notEqual(ts.plan!.ir.tasks[0]!.origin.file, yaml.plan!.ir.tasks[0]!.origin.file);
});

Deno.test("maestro validate accepts examples/hello.ts", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-prompt", "cli.ts", "validate", "examples/hello.ts"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  assert.match(stdout, /hello\.ts is valid/);
});

Deno.test("examples/fanout.ts computes its tasks from a file in its folder", async () => {
  const outcome = await loadPlan(join(ROOT, "examples/fanout.ts"));
  assert.deepEqual(outcome.errors, []);
  const services = readFileSync(join(ROOT, "examples/services.txt"), "utf8").trim().split("\n");
  const ids = outcome.plan!.ir.tasks.map((t) => t.id);
  for (const service of services) assert.ok(ids.includes(`build-${service.trim()}`), ids.join());
});

Deno.test("a plan module runs with a copy of its folder elsewhere, offline", async () => {
  const dir = mkdtempSync(join(tmpdir(), "maestro-ts-plan-"));
  try {
    cpSync(fixture("own_folder.ts"), join(dir, "plan.ts"));
    cpSync(fixture("names.txt"), join(dir, "names.txt"));
    const outcome = await loadPlan(join(dir, "plan.ts"));
    assert.deepEqual(outcome.errors, []);
    assert.equal(outcome.plan!.ir.tasks.length, 4);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * End to end: deterministic gates (guard_command, assert, judge) through `maestro run` on shell
 * tasks, the example plan examples/gates.yaml, and `maestro eval` re-grading a finished run.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ROOT, runCli } from "../helpers.ts";

interface Result {
  status: string;
  exit_code: number | null;
  message: string;
  retry_count: number;
  failure_history: { category: string }[];
  gates?: { gate: string; verdict: string; effect: string; reasons: string[] }[];
  judge_result: { verdict: string; score: number } | null;
}

async function inTemp(files: Record<string, string>, fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "maestro-gates-e2e-" });
  try {
    for (const [name, text] of Object.entries(files)) {
      await Deno.writeTextFile(join(dir, name), text);
    }
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function runDir(dir: string): string {
  const root = join(dir, ".maestro-runs");
  const [run] = [...Deno.readDirSync(root)].map((e) => join(root, e.name)).sort();
  return run!;
}

function result(run: string, id: string): Result {
  return JSON.parse(Deno.readTextFileSync(join(run, `${id}.result.json`)));
}

Deno.test("maestro run: guard, assertions and judge gate shell tasks; warnings are shown", async () => {
  await inTemp({
    "plan.yaml": `name: gated
fail_fast: false
tasks:
  - id: guarded
    command: echo 'status=broken'
    guard_command: "grep -q status=ok || { echo 'status is not ok'; exit 4; }"
  - id: asserted
    command: echo hi > out.txt
    assert:
      - type: file_contains
        path: out.txt
        pattern: bye
  - id: judged
    command: echo 'FAIL 2 tests'
    max_retries: 1
    judge:
      criteria: [{type: starts-with, value: PASS}]
      on_fail: retry
  - id: warned
    command: echo 'PASS but slow'
    judge:
      criteria:
        - {type: starts-with, value: PASS}
        - {type: not-contains, value: slow}
  - id: clean
    command: >-
      echo '{"ok": true}'
    guard_command: [grep, -q, ok]
    judge:
      criteria: [{type: is-json, value: {type: object, required: [ok]}}]
`,
  }, async (dir) => {
    const out = await runCli(["run", "plan.yaml"], { cwd: dir });
    assert.equal(out.code, 1, out.stderr);
    const run = runDir(dir);
    const guarded = result(run, "guarded");
    assert.equal(guarded.status, "failed");
    assert.equal(guarded.exit_code, 4);
    assert.match(
      guarded.message,
      /guard_command failed with exit code 4 \(guard output: status is not ok/,
    );
    const asserted = result(run, "asserted");
    assert.equal(asserted.status, "failed");
    assert.match(
      asserted.message,
      /^assertion failed: file_contains out\.txt: out\.txt lacks "bye"/,
    );
    const judged = result(run, "judged");
    assert.equal(judged.status, "failed");
    assert.equal(judged.retry_count, 1);
    assert.deepEqual(judged.failure_history.map((f) => f.category), [
      "judge_failed",
      "judge_failed",
    ]);
    assert.equal(judged.judge_result?.verdict, "fail");
    const warned = result(run, "warned");
    assert.equal(warned.status, "success");
    assert.equal(warned.judge_result?.verdict, "warn");
    assert.match(warned.message, /\[gate warning: judge warn \(score 0\.50 < 0\.70\)/);
    const clean = result(run, "clean");
    assert.equal(clean.status, "success");
    assert.equal(clean.message, "ok");
    assert.deepEqual(clean.gates?.map((g) => `${g.gate}:${g.verdict}`), [
      "guard:pass",
      "judge:pass",
    ]);
    // the terminal shows the warning, the summary lists it, the log chain holds the verdicts
    assert.match(out.stdout, /⚠ warned judge warn \(score 0\.50, threshold 0\.70\)/);
    assert.match(out.stdout, /✗ judged judge fail \(score 0\.00, threshold 0\.70\) → retry/);
    const summary = Deno.readTextFileSync(join(run, "run_summary.md"));
    assert.match(summary, /## Gate warnings\n\n- warned: ok \[gate warning: judge warn/);
    const events = Deno.readTextFileSync(join(run, "events.jsonl")).trim().split("\n")
      .map((l) => JSON.parse(l) as { event: string; task_id?: string; verdict?: string });
    assert.deepEqual(
      events.filter((e) => e.event === "judge_result" && e.task_id === "judged").map((e) =>
        e.verdict
      ),
      ["fail", "fail"],
    );
    assert.ok(events.some((e) => e.event === "gate_result" && e.task_id === "guarded"));
    const verify = await runCli(["verify", run], { cwd: dir });
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  });
});

Deno.test("examples/gates.yaml runs without keys and maestro eval re-grades its run", async () => {
  const plan = Deno.readTextFileSync(join(ROOT, "examples/gates.yaml"));
  const grades = Deno.readTextFileSync(join(ROOT, "examples/gates.eval.yaml"));
  await inTemp({ "gates.yaml": plan, "gates.eval.yaml": grades }, async (dir) => {
    const out = await runCli(["run", "gates.yaml"], { cwd: dir });
    assert.equal(out.code, 0, out.stdout + out.stderr);
    const run = runDir(dir);
    assert.equal(result(run, "build").status, "success");
    assert.deepEqual(result(run, "build").gates?.map((g) => `${g.gate}:${g.verdict}`), [
      "guard:pass",
      "assert:pass",
      "judge:pass",
    ]);
    assert.deepEqual(result(run, "docs").gates?.map((g) => `${g.gate}:${g.verdict}`), [
      "assert:warn",
      "judge:warn",
    ]);
    const passing = await runCli(["eval", "gates.eval.yaml", run], { cwd: dir });
    assert.equal(passing.code, 0, passing.stdout + passing.stderr);
    assert.match(passing.stdout, /PASSED 3 pass \/ 0 warn \/ 0 fail \/ 0 error/);

    // new grades on the same recorded outputs: one fails, so eval exits 1; nothing re-runs
    const before = [...Deno.readDirSync(join(dir, ".maestro-runs"))].length;
    Deno.writeTextFileSync(
      join(dir, "strict.eval.yaml"),
      `grades:
  - task: build
    judge:
      criteria: [{type: contains, value: '"tests": 99'}]
  - task: docs
    assert: [{type: glob_exists, glob: "*.eval.yaml"}]
    judge:
      criteria: [{type: icontains, value: docs}]
`,
    );
    const failing = await runCli(["eval", "strict.eval.yaml", run, "--json"], { cwd: dir });
    assert.equal(failing.code, 1, failing.stdout + failing.stderr);
    const report = JSON.parse(failing.stdout) as {
      passed: boolean;
      grades: { task_id: string; verdict: string; grade: number }[];
    };
    assert.equal(report.passed, false);
    assert.deepEqual(report.grades.map((g) => `${g.grade}:${g.task_id}:${g.verdict}`), [
      "1:build:fail",
      "2:docs:pass",
    ]);
    assert.equal([...Deno.readDirSync(join(dir, ".maestro-runs"))].length, before);
    // a bad eval file is reported with its line and column
    Deno.writeTextFileSync(
      join(dir, "bad.eval.yaml"),
      "grades:\n  - task: build\n    judge:\n      criteria: [{type: containz}]\n",
    );
    const bad = await runCli(["eval", "bad.eval.yaml", run], { cwd: dir });
    assert.equal(bad.code, 2);
    assert.match(
      bad.stderr,
      /bad\.eval\.yaml:4:\d+ E020 judge criterion: unknown criterion type 'containz'/,
    );
  });
});

Deno.test("a secret matched by an assertion is masked before the reason shortens it", async () => {
  const secret = "ghp_9f8e7d6c5b4a39f8e7d6c5b4a39f8e7d6c5b4a39f8e7d6c5b4a3abcd";
  await inTemp({
    "plan.yaml": `name: m2
secrets: [MY_TOKEN]
defaults:
  env: { MY_TOKEN: "${secret}" }
tasks:
  - id: write
    command: 'echo "TOKEN=$MY_TOKEN" > config.env; echo done'
    max_retries: 1
    assert:
      - { type: file_regex_absent, path: config.env, pattern: "TOKEN=.+" }
`,
  }, async (dir) => {
    const run = await runCli(["run", "plan.yaml", "--output", "text"], { cwd: dir });
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stdout + run.stderr, /config\.env matches \/TOKEN=\.\+\/: "TOKEN=\*\*\*"/);
    // any 12 characters of the secret, anywhere maestro wrote or printed
    const pieces = Array.from({ length: secret.length - 11 }, (_, i) => secret.slice(i, i + 12));
    const texts = [run.stdout, run.stderr];
    const root = runDir(dir);
    for (const entry of Deno.readDirSync(root)) {
      if (entry.isFile) texts.push(Deno.readTextFileSync(join(root, entry.name)));
    }
    for (const text of texts) {
      const leaked = pieces.find((piece) => text.includes(piece));
      assert.equal(leaked, undefined, `a piece of the secret leaked: ${leaked}`);
    }
  });
});

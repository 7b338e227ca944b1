import assert from "node:assert/strict";
import { join } from "node:path";
import { HAS_REFERENCE_PLANS, REFERENCE_PLANS, tempPlanDir } from "../../tests/helpers.ts";
import type { PlanIssue } from "../errors.ts";
import { loadPlan } from "./load.ts";

async function load(yaml: string, files: Record<string, string> = {}, options = {}) {
  const dir = tempPlanDir({ "plan.yaml": yaml, ...files });
  return { dir, ...(await loadPlan(join(dir, "plan.yaml"), options)) };
}

function codes(issues: PlanIssue[]): string[] {
  return issues.map((i) => i.code);
}

const REFERENCE_VERDICTS: Record<string, string | null> = {
  "advanced-features.yaml": null,
  "context-mode-demo.yaml": null,
  "context-passing.yaml": null,
  "demo_plan.yaml": null,
  "dynamic-group-demo.yaml": null,
  "risky_plan.yaml": null,
  "tui_demo.yaml": null,
  "windows-bash.yaml": null,
  "pitfall-audit.yaml": "E021",
  "custom-workflow-library.yaml": "E001",
  "library-brief.yaml": "E001",
  "scaffold-brief.yaml": "E001",
  "security-baseline.yaml": "E001",
  "security-baseline-demo.yaml": "E018",
};

for (const [file, expected] of Object.entries(REFERENCE_VERDICTS)) {
  Deno.test({
    name: `loadPlan() gives reference plan ${file} the reference verdict (${expected ?? "valid"})`,
    ignore: !HAS_REFERENCE_PLANS,
  }, async () => {
    const outcome = await loadPlan(join(REFERENCE_PLANS, file));
    if (expected === null) {
      assert.deepEqual(outcome.errors, []);
      assert.ok(outcome.plan);
    } else {
      assert.equal(outcome.plan, undefined);
      assert.ok(outcome.errors.length > 0);
      for (const error of outcome.errors) {
        assert.equal(error.code, expected, `unexpected ${error.code}: ${error.message}`);
        assert.ok(error.line > 0, "every error has a line");
        assert.ok(error.file.endsWith(file));
      }
    }
  });
}

Deno.test("loadPlan() points an unknown dependency at its line and column with a suggestion", async () => {
  const { errors } = await load(`name: p
tasks:
  - id: build
    command: make
  - id: test
    depends_on: [biuld]
    command: make test
`);
  assert.equal(errors.length, 1);
  const [error] = errors;
  assert.equal(error!.code, "E005");
  assert.equal(error!.line, 6);
  assert.equal(error!.column, 18);
  assert.match(error!.hint!, /did you mean "build"/);
});

Deno.test("loadPlan() reports several errors in one pass", async () => {
  const { errors } = await load(`name: p
max_parallel: 0
tasks:
  - id: a
    command: x
    engine: claude
    prompt: hi
  - id: b
    depends_on: [nope]
    command: y
  - id: c
    max_retries: 7
    command: z
  - id: a
    command: again
`);
  assert.deepEqual(codes(errors).sort(), ["E003", "E005", "E011", "E012", "E012"]);
  const range = errors.find((e) => e.message.includes("max_retries"))!;
  assert.equal(range.line, 12);
  assert.match(range.message, /at most 3, got 7/);
});

Deno.test("loadPlan() reports a dependency cycle with its full path", async () => {
  const { errors } = await load(`tasks:
  - id: a
    depends_on: [c]
    command: x
  - id: b
    depends_on: [a]
    command: x
  - id: c
    depends_on: [b]
    command: x
`);
  assert.deepEqual(codes(errors), ["E004"]);
  assert.match(errors[0]!.message, /a -> c -> b -> a|a -> b -> c -> a/);
  assert.ok(errors[0]!.line > 0);
});

Deno.test("loadPlan() rejects self-dependencies, bad ids and missing prompts with their codes", async () => {
  const { errors } = await load(`tasks:
  - id: a
    depends_on: [a]
    command: x
  - id: "bad id!"
    command: x
  - id: agent
    engine: claude
  - id: none
`);
  assert.deepEqual(codes(errors).sort(), ["E001", "E007", "E016", "E017"]);
});

Deno.test("loadPlan() warns about unknown keys with a suggestion, and --strict makes them errors", async () => {
  const yaml = `tasks:
  - id: a
    command: x
    depend_on: [b]
`;
  const lenient = await load(yaml);
  assert.ok(lenient.plan);
  const warning = lenient.warnings.find((w) => w.code === "W01")!;
  assert.match(warning.hint!, /did you mean "depends_on"/);
  assert.equal(warning.line, 4);
  assert.equal(warning.column, 5);
  const strict = await load(yaml, {}, { strict: true });
  assert.equal(strict.plan, undefined);
  assert.deepEqual(codes(strict.errors), ["E031"]);
});

Deno.test("loadPlan() rejects a version above 1 and a root that is not a mapping", async () => {
  assert.deepEqual(codes((await load("version: 2\ntasks: [{id: a, command: x}]\n")).errors), [
    "E002",
  ]);
  assert.deepEqual(codes((await load("- just\n- a list\n")).errors), ["E018"]);
});

Deno.test("loadPlan() reports YAML syntax errors with a position", async () => {
  const { errors } = await load("tasks:\n  - id: a\n    command: [unclosed\n");
  assert.equal(errors[0]!.code, "E080");
  assert.ok(errors[0]!.line >= 3);
});

Deno.test("loadPlan() supports anchors, aliases and merge keys", async () => {
  const { plan, errors } = await load(`x-common: &common
  timeout_sec: 42
  env: { A: "1" }
tasks:
  - id: a
    <<: *common
    command: echo a
  - id: b
    <<: *common
    timeout_sec: 7
    command: echo b
`);
  assert.deepEqual(errors, []);
  const [a, b] = plan!.ir.tasks;
  assert.equal(a!.timeout_sec, 42);
  assert.deepEqual(a!.env, { A: "1" });
  assert.equal(b!.timeout_sec, 7);
});

Deno.test("loadPlan() expands a matrix, copies every field and rewrites dependencies", async () => {
  const { plan, errors } = await load(`tasks:
  - id: t
    matrix: { os: [linux, mac os], py: ["3.11"] }
    engine: codex
    prompt: "test on {{ matrix.os }}"
    allowed_tools: [Read]
    retry_strategy: linear
    output_redact: ["sk-[a-z]+"]
  - id: after
    depends_on: [t]
    command: echo done
`);
  assert.deepEqual(errors, []);
  const ids = plan!.ir.tasks.map((t) => t.id);
  assert.deepEqual(ids, ["t.os-linux.py-3.11", "t.os-mac_os.py-3.11", "after"]);
  const child = plan!.ir.tasks[1]!;
  assert.deepEqual(child.matrix_values, { os: "mac os", py: "3.11" });
  assert.deepEqual(child.allowed_tools, ["Read"]);
  assert.equal(child.retry_strategy, "linear");
  assert.deepEqual(child.output_redact, ["sk-[a-z]+"]);
  assert.deepEqual(plan!.ir.tasks[2]!.depends_on, ["t.os-linux.py-3.11", "t.os-mac_os.py-3.11"]);
});

Deno.test("loadPlan() parses when: at load time and reports a malformed one with its column", async () => {
  const ok = await load(`tasks:
  - id: build
    command: make
  - id: deploy
    depends_on: [build]
    when: "{{ build.status }} == success and not ({{ build.exit_code }} != 0)"
    command: deploy
`);
  assert.deepEqual(ok.errors, []);
  assert.equal(ok.plan!.ir.tasks[1]!.when!.expr.op, "and");

  const bad = await load(`tasks:
  - id: build
    command: make
  - id: deploy
    depends_on: [build]
    when: {{ build.status }} ==
    command: deploy
`);
  // an unquoted {{ starts a YAML flow mapping, so this is a syntax error with a position
  assert.equal(bad.errors[0]!.code, "E080");
  assert.equal(bad.errors[0]!.line, 6);

  const malformed = await load(`tasks:
  - id: build
    command: make
  - id: deploy
    depends_on: [build]
    when: "{{ build.status }} == success and"
    command: deploy
`);
  assert.deepEqual(codes(malformed.errors), ["E015"]);
  assert.equal(malformed.errors[0]!.line, 6);
  assert.ok(malformed.errors[0]!.column > 11);

  const notDep = await load(`tasks:
  - id: build
    command: make
  - id: deploy
    when: "{{ build.status }} == success"
    command: deploy
`);
  assert.deepEqual(codes(notDep.errors), ["E015"]);
});

Deno.test("loadPlan() checks templates in prompts and shell commands", async () => {
  const { errors, warnings } = await load(`tasks:
  - id: build
    command: make
  - id: a
    depends_on: [build]
    command: "echo {{ build.status }} {{ biuld.exit_code }}"
  - id: b
    command: ["sh", "-c", "echo {{ build.stdout_tail }}"]
  - id: c
    command: "echo {{ matrix.os }} {{ plan_name }} {{ something_else }}"
  - id: d
    depends_on: [build]
    engine: claude
    prompt: "Look at {{ build.output.files }} and {{ build.bogus_field }}"
`);
  assert.deepEqual(codes(errors), ["E030", "E030", "E030"]);
  assert.match(errors[0]!.hint!, /did you mean "build"/);
  assert.match(errors[1]!.message, /not in depends_on/);
  assert.match(errors[2]!.message, /matrix key/);
  assert.deepEqual(codes(warnings).filter((c) => c === "W02").length, 2);
});

Deno.test("loadPlan() accepts --set variables in templates", async () => {
  const yaml = `tasks:\n  - id: a\n    command: "echo {{ release }}"\n`;
  assert.equal((await load(yaml)).warnings.filter((w) => w.code === "W02").length, 1);
  const withSet = await load(yaml, {}, { set: { release: "1.2" } });
  assert.equal(withSet.warnings.filter((w) => w.code === "W02").length, 0);
});

Deno.test("loadPlan() merges defaults into every task", async () => {
  const { plan, errors } = await load(`defaults:
  timeout_sec: 90
  env: { A: "1", B: "2" }
  retry_delay_sec: [1, 2]
  claude:
    model: sonnet
    args: ["--verbose"]
    fallback_model: haiku
tasks:
  - id: a
    engine: claude
    args: ["--x"]
    env: { B: "3" }
    prompt: hi
  - id: b
    command: echo
    timeout_sec: 5
`);
  assert.deepEqual(errors, []);
  const [a, b] = plan!.ir.tasks;
  assert.equal(a!.model, "sonnet");
  assert.deepEqual(a!.args, ["--verbose", "--x"]);
  assert.deepEqual(a!.env, { A: "1", B: "3" });
  assert.equal(a!.timeout_sec, 90);
  assert.equal(a!.fallback_model, "haiku");
  assert.deepEqual(a!.retry_delay_sec, [1, 2]);
  assert.deepEqual(a!.prompt, { kind: "inline", text: "hi" });
  assert.equal(b!.timeout_sec, 5);
  assert.equal(b!.stdout_tail_lines, 50);
  assert.equal(plan!.ir.max_parallel, 1);
  assert.equal(plan!.ir.fail_fast, true);
});

Deno.test("loadPlan() inlines imports with prefixes, overrides and nested imports", async () => {
  const { plan, errors } = await load(
    `imports:
  - path: lib/build.yaml
    prefix: build
    overrides: { env: { MODE: ci }, timeout_sec: 11 }
tasks:
  - id: ship
    depends_on: [build/compile]
    command: "echo {{ build/compile.status }}"
`,
    {
      "lib/build.yaml": `imports:
  - path: deps.yaml
    prefix: deps
tasks:
  - id: compile
    depends_on: [deps/fetch]
    command: "echo {{ deps/fetch.status }}"
    env: { CC: gcc }
`,
      "lib/deps.yaml": `tasks:\n  - id: fetch\n    command: echo fetch\n`,
    },
  );
  assert.deepEqual(errors, []);
  const ids = plan!.ir.tasks.map((t) => t.id);
  assert.deepEqual(ids, ["build/deps/fetch", "build/compile", "ship"]);
  const compile = plan!.ir.tasks[1]!;
  assert.deepEqual(compile.depends_on, ["build/deps/fetch"]);
  assert.deepEqual(compile.env, { CC: "gcc", MODE: "ci" });
  assert.equal(compile.timeout_sec, 11);
  assert.equal(compile.command, "echo {{ build/deps/fetch.status }}");
  assert.ok(compile.workdir.endsWith("/lib"));
});

Deno.test("loadPlan() reports import problems with their codes", async () => {
  const cycle = await load(
    `imports: [{ path: a.yaml, prefix: a }]\ntasks: [{ id: x, command: x }]\n`,
    {
      "a.yaml": `imports: [{ path: plan.yaml, prefix: b }]\ntasks: [{ id: y, command: y }]\n`,
    },
  );
  assert.ok(codes(cycle.errors).includes("E025"));
  const prefixes = await load(
    `imports:\n  - { path: a.yaml, prefix: a }\n  - { path: a.yaml, prefix: a }\n  - { path: a.yaml, prefix: Bad_Prefix }\n  - { path: missing.yaml, prefix: m }\ntasks: [{ id: x, command: x }]\n`,
    { "a.yaml": `tasks: [{ id: y, command: y }]\n` },
  );
  assert.deepEqual(codes(prefixes.errors), ["E027", "E028", "E026"]);
  assert.equal(prefixes.errors[2]!.line, 5);
  // every one of them says what to do
  assert.deepEqual(prefixes.errors.filter((e) => !e.hint), []);
  assert.deepEqual(cycle.errors.filter((e) => !e.hint), []);
});

Deno.test("loadPlan() lowers a group task's sub-plan into the IR", async () => {
  const { plan, errors } = await load(`tasks:\n  - id: sub\n    group: sub.yaml\n`, {
    "sub.yaml": `name: sub\ntasks: [{ id: inner, command: echo inner }]\n`,
  });
  assert.deepEqual(errors, []);
  const group = plan!.ir.tasks[0]!.group!;
  assert.equal(group.plan.name, "sub");
  assert.equal(group.plan.tasks[0]!.id, "inner");
  const missing = await load(`tasks:\n  - id: sub\n    group: nope.yaml\n`);
  assert.deepEqual(codes(missing.errors), ["E106"]);
});

Deno.test("loadPlan() refuses run ids or run file names that two tasks would share", async () => {
  const member = await load(
    `tasks:\n  - id: build/a\n    command: echo top\n  - id: build\n    group: sub.yaml\n`,
    { "sub.yaml": `name: sub\ntasks: [{ id: a, command: echo inner }]\n` },
  );
  assert.equal(member.plan, undefined);
  assert.deepEqual(codes(member.errors), ["E003"]);
  assert.match(member.errors[0]!.message, /"build\/a" is used twice/);
  assert.equal(member.errors[0]!.file, join(member.dir, "sub.yaml"));
  assert.match(member.errors[0]!.hint!, /plan\.yaml:2:/);

  const stems = await load(`tasks:\n  - id: x/y\n    command: a\n  - id: x__y\n    command: b\n`);
  assert.deepEqual(codes(stems.errors), ["E003"]);
  assert.match(stems.errors[0]!.message, /x__y\.log/);
  assert.equal(stems.errors[0]!.line, 4);

  const fine = await load(`tasks:\n  - id: x/y\n    command: a\n  - id: x_y\n    command: b\n`);
  assert.deepEqual(fine.errors, []);
});

Deno.test("loadPlan() enforces the reference's cross-field rules", async () => {
  const { errors } = await load(`tasks:
  - id: a
    command: x
    approval_message: sure?
  - id: b
    command: x
    allowed_tools: [Read]
  - id: c
    engine: codex
    reasoning_effort: extreme
    prompt: p
  - id: d
    command: x
    context_from: [a]
  - id: e
    engine: claude
    prompt: p
    worktree: true
`);
  assert.deepEqual(codes(errors).sort(), ["E008", "E010", "E029", "E045", "E071"]);
});

Deno.test("loadPlan() maps schema problems to the reference codes", async () => {
  const { errors } = await load(`budget_warning_pct: 2
retry_strategy_typo: 1
defaults:
  retry_strategy: sideways
  context_budget_tokens: 0
tasks:
  - id: a
    engine: gpt
    prompt: p
    timeout_sec: "soon"
`);
  assert.deepEqual(codes(errors).sort(), ["E006", "E018", "E019", "E023", "E051"]);
  const engine = errors.find((e) => e.code === "E006")!;
  assert.equal(engine.line, 8);
  assert.match(engine.message, /must be one of codex, claude/);
});

Deno.test("loadPlan() gives every value outside a fixed set a hint", async () => {
  const { errors } = await load(`budget_mode: medium
budget_period: dayly
tasks:
  - { id: a, command: x }
`);
  const byKey = (key: string) => errors.find((e) => e.message.startsWith(key))!;
  assert.equal(byKey("budget_mode").code, "E008");
  assert.equal(
    byKey("budget_mode").hint,
    "see `budget_mode` in docs/plan-reference.md for what each value does",
  );
  assert.equal(byKey("budget_period").hint, 'did you mean "daily"?');
});

Deno.test("loadPlan() checks engine capabilities: allowed_tools categories, copilot effort, agent", async () => {
  const { errors, warnings } = await load(`tasks:
  - id: c
    engine: claude
    prompt: p
    allowed_tools: [Read, src-scoped]
  - id: t
    engine: qwen
    prompt: p
    allowed_tools: [read-onyl]
  - id: x
    engine: codex
    prompt: p
    allowed_tools: [src-scoped]
    agent: reviewer
  - id: p
    engine: copilot
    prompt: p
    reasoning_effort: extreme
    agent: reviewer
`);
  const e105 = errors.filter((e) => e.code === "E105");
  assert.deepEqual(e105.map((e) => [e.line, e.column]), [[5, 27], [9, 21]]);
  assert.match(e105[0]!.message, /claude has no equivalent of allowed_tools category "src-scoped"/);
  assert.equal(e105[1]!.hint, 'did you mean "read-only"?');
  const effort = errors.find((e) => e.code === "E008")!;
  assert.match(effort.message, /reasoning_effort "extreme" is not valid for copilot/);
  // codex takes src-scoped (as its read-only sandbox) but has no --agent
  assert.deepEqual(warnings.filter((w) => w.code === "W38").map((w) => w.line), [14]);
});

Deno.test("loadPlan() takes defaults.<engine>.context_model from the context engine's block", async () => {
  const { plan, errors } = await load(`defaults:
  codex: { context_model: gpt-5.4-mini }
  claude: { context_model: sonnet }
tasks:
  - { id: up, command: "echo ok" }
  - { id: a, engine: codex, context_engine: claude, prompt: p, context_from: [up], depends_on: [up] }
  - { id: b, command: "true", context_engine: claude, context_from: [up], depends_on: [up] }
  - { id: c, engine: codex, prompt: p, context_from: [up], depends_on: [up] }
`);
  assert.deepEqual(errors, []);
  const model = (id: string) => plan!.ir.tasks.find((t) => t.id === id)!.context_model;
  assert.deepEqual([model("a"), model("b"), model("c")], ["sonnet", "sonnet", "gpt-5.4-mini"]);
});

Deno.test("loadPlan() refuses aliases that expand to millions of values, at the first alias", async () => {
  const levels = ["x-a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"];
  for (let i = 1; i < 9; i++) {
    levels.push(`x-a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(", ")}]`);
  }
  const { errors } = await load(`name: b
${levels.join("\n")}
tasks:
  - { id: a, command: x, env: { X: "y" } }
  - id: b
    command: x
    matrix: { v: *a8 }
`);
  assert.deepEqual(errors.map((e) => [e.code, e.line, e.column]), [["E080", 3, 12]]);
  assert.match(errors[0]!.message, /aliases expand the document to more than 2000000 values/);
  // ordinary anchors and merge keys are untouched
  const fine = await load(`name: ok
x-env: &env { A: "1" }
tasks:
  - { id: a, command: x, env: *env }
  - { id: b, command: x, env: { <<: *env, B: "2" } }
`);
  assert.deepEqual(fine.errors, []);
});

Deno.test("loadPlan() refuses an empty matrix list (it would drop the task and its edges)", async () => {
  const { errors } = await load(`tasks:
  - id: empty
    matrix: { os: [] }
    command: x
  - { id: after, depends_on: [empty], command: "y" }
`);
  assert.deepEqual(errors.map((e) => [e.code, e.line, e.column]), [["E012", 3, 19]]);
  assert.equal(errors[0]!.hint, "see `matrix` in docs/plan-reference.md");
});

Deno.test("loadPlan() points a second YAML document at its ---", async () => {
  const { errors } = await load(
    "# plan\n---\nname: a\ntasks:\n  - { id: a, command: x }\n---\nname: b\n",
  );
  assert.deepEqual(errors.map((e) => [e.code, e.line, e.column]), [["E080", 6, 1]]);
  assert.match(errors[0]!.hint ?? "", /one YAML document/);
});

Deno.test("loadPlan() reads numbers as PyYAML does (YAML 1.1): octal, base 60, floats need a dot", async () => {
  const { plan, errors } = await load(`tasks:
  - id: a
    command: x
    timeout_sec: 1:30
    env: { V: 1e3, W: 010, X: 1:30, Y: 0o17, Z: 1.5, Q: 0x1F, R: 1_000, S: .5, T: -0b11 }
    matrix: { v: [010, 1e3] }
`);
  assert.deepEqual(errors, []);
  const [first, second] = plan!.ir.tasks;
  assert.deepEqual([first!.id, second!.id], ["a.v-8", "a.v-1e3"]);
  assert.equal(first!.timeout_sec, 90);
  assert.deepEqual(first!.env, {
    V: "1e3",
    W: "8",
    X: "90",
    Y: "0o17",
    Z: "1.5",
    Q: "31",
    R: "1000",
    S: "0.5",
    T: "-3",
  });
});

Deno.test("loadPlan(): a template naming a matrix task or a wrong matrix key is one clear error", async () => {
  const { errors } = await load(`tasks:
  - id: test
    matrix: { py: ["3.10", "3.11"], os: [a, b] }
    command: "echo {{ matrix.pyy }}"
  - id: report
    depends_on: [test]
    context_from: [test]
    command: "echo {{ test.stdout_tail }}"
`);
  assert.deepEqual(errors.map((e) => [e.code, e.line]), [["E030", 4], ["E030", 8]]);
  assert.equal(errors[0]!.hint, "did you mean {{ matrix.py }}?");
  assert.match(errors[1]!.message, /names matrix task "test", which runs as 4 tasks/);
  assert.match(errors[1]!.hint ?? "", /context_from: \[test\]/);
});

Deno.test("loadPlan() warns when a when: compares a task's field written without {{ }}", async () => {
  const { warnings, errors } = await load(`tasks:
  - { id: l, command: x }
  - id: a
    depends_on: [l]
    when: "l.status == 'failed'"
    command: x
  - id: b
    depends_on: [l]
    when: "{{ l.status }} == failed and 'l.status' == x"
    command: x
`);
  assert.deepEqual(errors, []);
  assert.deepEqual(warnings.filter((w) => w.code === "W40").map((w) => w.line), [5]);
});

Deno.test("loadPlan(): a malformed import entry does not hide the problems of the others", async () => {
  const { errors } = await load(
    `imports:
  - a.yaml
  - { prefix: nopath }
  - { path: missing.yaml, prefix: m }
  - { path: a.yaml, prefix: Bad_Prefix }
tasks: [{ id: x, command: x }]
`,
    { "a.yaml": "tasks: [{ id: y, command: y }]\n" },
  );
  assert.deepEqual(errors.map((e) => [e.code, e.line]), [
    ["E026", 2],
    ["E026", 3],
    ["E026", 4],
    ["E028", 5],
  ]);
});

Deno.test("loadPlan() warns about a key written twice (the last one is used, as in PyYAML)", async () => {
  const { plan, warnings } = await load(`tasks:
  - id: a
    command: echo one
    command: echo two
  - { id: b, command: x, env: { A: "1", A: "2" } }
`);
  assert.deepEqual(
    warnings.filter((w) => w.code === "W41").map((w) => [w.line, w.column]),
    [[4, 5], [5, 41]],
  );
  assert.equal(plan!.ir.tasks[0]!.command, "echo two");
});

Deno.test("loadPlan() warns about dense, sequential graphs from 8 tasks on", async () => {
  const chain = (n: number) =>
    "tasks:\n" +
    Array.from({ length: n }, (_, i) =>
      `  - id: t${i}\n    command: "true"\n` + (i
        ? `    depends_on: [${
          Array.from({ length: i }, (_, j) => `t${j}`).join(", ")
        }]\n`
        : ""))
      .join("");
  const small = await load(chain(4));
  assert.deepEqual(codes(small.warnings), []);
  const big = await load(chain(8));
  assert.deepEqual(codes(big.warnings).sort(), ["W17", "W18"]);
  assert.match(big.warnings.find((w) => w.code === "W18")!.message, /sequential depth 8\/8/);
});

Deno.test("loadPlan() stops imports nested deeper than 5 levels", async () => {
  const files: Record<string, string> = {};
  for (let i = 1; i <= 7; i++) {
    const next = i < 7 ? `imports: [{ path: l${i + 1}.yaml, prefix: l${i + 1} }]\n` : "";
    files[`l${i}.yaml`] = `${next}tasks: [{ id: t${i}, command: "true" }]\n`;
  }
  const { errors } = await load(
    `imports: [{ path: l1.yaml, prefix: l1 }]\ntasks: [{ id: x, command: "true" }]\n`,
    files,
  );
  assert.deepEqual(codes(errors), ["E025"]);
  assert.match(errors[0]!.message, /deeper than 5/);
  assert.match(errors[0]!.file, /l5\.yaml$/);
});

Deno.test("loadPlan() reports errors inside a group sub-plan at their own file and line", async () => {
  const { errors } = await load(`tasks:\n  - id: sub\n    group: sub.yaml\n`, {
    "sub.yaml": `tasks:\n  - id: inner\n    command: x\n    depends_on: [nope]\n`,
  });
  assert.deepEqual(codes(errors), ["E005"]);
  assert.match(errors[0]!.file, /sub\.yaml$/);
  assert.equal(errors[0]!.line, 4);
});

Deno.test("loadPlan() refuses a plan file that is not UTF-8, at the first bad byte", async () => {
  const dir = tempPlanDir({});
  const path = join(dir, "plan.yaml");
  const bytes = new TextEncoder().encode("name: u\ntasks:\n  - id: a\n    command: echo caf?\n");
  bytes[bytes.indexOf(0x3f)] = 0xe9; // latin-1 "é"
  Deno.writeFileSync(path, bytes);
  const { errors, plan } = await loadPlan(path);
  assert.equal(plan, undefined);
  assert.deepEqual(errors.map((e) => [e.code, e.line, e.column]), [["E087", 4, 22]]);
});

Deno.test("loadPlan() warns about negative_cache_ttl_sec on a task that is never cached", async () => {
  const { warnings, errors } = await load(`tasks:
  - id: plain
    command: "false"
    negative_cache_ttl_sec: 60
  - id: keyed
    command: "false"
    inputs: [x.txt]
    negative_cache_ttl_sec: 60
`);
  assert.deepEqual(errors, []);
  assert.deepEqual(warnings.filter((w) => w.code === "W36").map((w) => [w.line, w.message]), [
    [4, 'negative_cache_ttl_sec of task "plain" has no effect: the task is not cached'],
  ]);
});

/** `[code, file name, line, column]` of each issue, for position-exact comparisons. */
function placed(issues: PlanIssue[]): Array<[string, string, number, number]> {
  return issues.map((i) => [i.code, i.file.split("/").at(-1)!, i.line, i.column]);
}

Deno.test("loadPlan() checks imports[].overrides as task fields, at their keys in the importing file", async () => {
  const yaml = `imports:
  - path: lib.yaml
    prefix: lib
    overrides:
      timeout_sec: "1"
      max_retries: 9
      timeuot_sec: 5
tasks: [{ id: t, depends_on: [lib/compile], command: echo t }]
`;
  const files = { "lib.yaml": `tasks: [{ id: compile, command: echo compile }]\n` };
  const lenient = await load(yaml, files);
  assert.equal(lenient.plan, undefined);
  assert.deepEqual(placed(lenient.errors), [["E018", "plan.yaml", 5, 20], [
    "E012",
    "plan.yaml",
    6,
    20,
  ]]);
  assert.match(lenient.errors[0]!.message, /^imports\[0\]\.overrides\.timeout_sec must be number/);
  assert.equal(lenient.errors[0]!.hint, "drop the quotes: timeout_sec: 1");
  assert.match(
    lenient.errors[1]!.message,
    /^imports\[0\]\.overrides\.max_retries must be at most 3/,
  );
  const typo = lenient.warnings.find((w) => w.code === "W01")!;
  assert.deepEqual(placed([typo]), [["W01", "plan.yaml", 7, 7]]);
  assert.equal(typo.message, 'unknown key "timeuot_sec" in imports[0].overrides is ignored');
  assert.match(typo.hint!, /did you mean "timeout_sec"/);

  const strict = await load(yaml, files, { strict: true });
  assert.deepEqual(codes(strict.errors), ["E018", "E012", "E031"]);
  assert.equal(strict.errors[2]!.message, 'unknown key "timeuot_sec" in imports[0].overrides');
});

Deno.test("loadPlan() reports overrides of the wrong type or of keys that cannot be overridden, without crashing", async () => {
  const { errors, plan } = await load(
    `imports:
  - path: lib.yaml
    prefix: lib
    overrides:
      command: 42
      depends_on: x
      id: other
      env: { A: [1] }
tasks:
  - id: t
    command: echo t
`,
    { "lib.yaml": `tasks: [{ id: compile, command: echo compile }]\n` },
  );
  assert.equal(plan, undefined);
  assert.deepEqual(placed(errors), [
    ["E018", "plan.yaml", 5, 16],
    ["E026", "plan.yaml", 6, 7],
    ["E026", "plan.yaml", 7, 7],
    ["E018", "plan.yaml", 8, 17],
  ]);
  assert.equal(errors[1]!.message, 'overrides cannot set "depends_on"');
  assert.ok(errors.every((e) => e.hint));
});

Deno.test("loadPlan() resolves path overrides against the importing file's folder, keeping other overrides", async () => {
  const { plan, errors } = await load(
    `imports:
  - path: lib/build.yaml
    prefix: build
    overrides:
      workdir: out
      prompt_file: prompts/review.md
      model: opus
tasks: [{ id: t, depends_on: [build/review], command: echo t }]
`,
    {
      "prompts/review.md": "review it\n",
      "lib/build.yaml": `tasks:
  - id: review
    engine: claude
    prompt_file: lib-prompt.md
    workdir: src
`,
    },
  );
  assert.deepEqual(errors, []);
  const review = plan!.ir.tasks.find((t) => t.id === "build/review")!;
  const dir = plan!.source.slice(0, -"/plan.yaml".length);
  assert.equal(review.workdir, join(dir, "out"));
  assert.deepEqual(review.prompt, { kind: "file", path: join(dir, "prompts/review.md") });
  assert.equal(review.model, "opus");
});

Deno.test("loadPlan() points a when: syntax error inside a quoted or block scalar at the bad word", async () => {
  const { errors } = await load(`tasks:
  - id: a
    command: x
  - id: double
    command: x
    when: "always() \\t extra"
  - id: single
    depends_on: [a]
    command: x
    when: '{{ a.status }} == ''x'' extra'
  - id: folded
    command: x
    when: >-
      always()
      extra
  - id: plain
    command: x
    when: always() extra
`);
  assert.deepEqual(placed(errors), [
    ["E015", "plan.yaml", 6, 24],
    ["E015", "plan.yaml", 10, 36],
    ["E015", "plan.yaml", 15, 7],
    ["E015", "plan.yaml", 18, 20],
  ]);
});

Deno.test("loadPlan() reports assert: severities and unknown keys, E031 under --strict", async () => {
  const yaml = `tasks:
  - id: t
    command: "true"
    assert:
      - type: glob_exists
        glob: "x-*"
        severity: warn
      - type: glob_exists
        glob: "x-*"
        severty: warning
`;
  const loose = await load(yaml);
  assert.deepEqual(codes(loose.errors), ["E018"]);
  assert.equal(loose.errors[0]!.line, 7);
  assert.equal(loose.errors[0]!.hint, 'did you mean "warning"?');
  assert.deepEqual(loose.warnings.filter((w) => w.code === "W01").map((w) => w.line), [10]);
  const strict = await load(yaml, {}, { strict: true });
  assert.deepEqual(codes(strict.errors).sort(), ["E018", "E031"]);
});

Deno.test("loadPlan() warns when a rubric's min_score cannot fail (written as a fraction)", async () => {
  const rubric = (min: number) =>
    `tasks:
  - id: t
    command: "true"
    judge:
      criteria:
        - type: rubric
          name: tone
          min_score: ${min}
          levels: [{ score: 1, description: bad }, { score: 5, description: great }]
`;
  const fraction = await load(rubric(0.9));
  assert.deepEqual(fraction.errors, []);
  assert.deepEqual(fraction.warnings.map((w) => w.code), ["W37"]);
  assert.deepEqual((await load(rubric(3))).warnings, []);
});

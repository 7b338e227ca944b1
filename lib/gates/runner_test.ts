import assert from "node:assert/strict";
import { join } from "node:path";
import { emptyResult } from "../../engines/common.ts";
import type { Engine, EngineResult } from "../../engines/types.ts";
import type { TaskIR } from "../plan/ir.ts";
import { type Build, fakeEngine, fakeRegistry } from "../run/_fake_engine.ts";
import { fixtureTask } from "../run/_task_fixture.ts";
import { EventBus, type RunEvent } from "../run/events.ts";
import { runTask } from "../run/task.ts";

/** A judge engine answering from a script, 100/0/20 tokens and $0.002 per call. */
function grader(answers: string[], prompts: string[]): Engine {
  let calls = 0;
  return {
    name: "grader",
    binary: "sh",
    build(task, ctx) {
      prompts.push(ctx.prompt);
      const text = answers[Math.min(calls++, answers.length - 1)]!;
      return {
        argv: ["sh", "-c", `printf '%s\\n' "$1"`, "sh", JSON.stringify({ text })],
        env: {},
        warnings: [],
        ...(task.model ? { model: task.model } : {}),
      };
    },
    parser() {
      const out: EngineResult = emptyResult();
      return {
        push(line: string) {
          if (line.startsWith("{")) out.text = (JSON.parse(line) as { text: string }).text;
        },
        finish(exit) {
          out.tokens = { input: 100, cached: 0, output: 20 };
          out.cost_usd = 0.002;
          out.cost_source = "reported";
          out.is_error = exit.exitCode !== 0;
          return out;
        },
      };
    },
    parse: () => emptyResult(),
    classify: () => "unknown",
  };
}

async function run(
  extra: Partial<TaskIR>,
  opts: { engines?: Engine[]; mask?: (t: string) => string } = {},
) {
  const dir = await Deno.makeTempDir({ prefix: "maestro-gates-" });
  const events: RunEvent[] = [];
  const bus = new EventBus("p");
  bus.subscribe((r) => events.push(r.event));
  try {
    const result = await runTask({
      task: fixtureTask("t", [], { workdir: dir, ...extra }),
      logPath: join(dir, "t.log"),
      env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
      render: (t) => t,
      bus,
      signal: new AbortController().signal,
      mask: opts.mask ?? ((t) => t),
      engines: fakeRegistry(opts.engines ?? []),
      sleep: () => Promise.resolve(),
    });
    const log = await Deno.readTextFile(join(dir, "t.log"));
    return { result, events, log, dir };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("guard_command reads the task's output on stdin; non-zero fails the task", async () => {
  const ok = await run({
    command: "echo hello world",
    guard_command: "grep -q hello",
  });
  assert.equal(ok.result.status, "success");
  assert.equal(ok.result.gates?.[0]?.verdict, "pass");
  assert.match(ok.log, /\[guard_command\] grep -q hello\n\[guard_command\] exit_code=0/);
  const bad = await run({
    command: "echo hello world",
    guard_command: "grep -q bye || { echo 'no bye in output'; exit 3; }",
    max_retries: 1,
  });
  assert.equal(bad.result.status, "failed");
  assert.equal(bad.result.exit_code, 3);
  assert.match(bad.result.message, /^guard_command failed with exit code 3 \(guard output: no bye/);
  assert.deepEqual(bad.result.failure_history.map((f) => f.category), [
    "guard_failed",
    "guard_failed",
  ]);
  const gateEvents = bad.events.filter((e) => e.event === "gate_result");
  assert.equal(gateEvents.length, 2);
});

Deno.test("allow_failure does not excuse a failing guard", async () => {
  const { result } = await run({
    command: "echo x; exit 1",
    allow_failure: true,
    guard_command: "exit 1",
  });
  assert.equal(result.status, "failed");
});

Deno.test("assert: workspace assertions fail or warn by severity, relative to the workdir", async () => {
  const fail = await run({
    command: 'echo \'{"name": "m"}\' > out.json',
    assert: [
      { type: "glob_exists", glob: "*.json" },
      { type: "json_path_exists", path: "out.json", json_path: "$.version" },
    ],
  });
  assert.equal(fail.result.status, "failed");
  assert.match(
    fail.result.message,
    /^assertion failed: json_path_exists out.json: out.json has no \$\.version/,
  );
  assert.equal(fail.result.failure_history[0]?.category, "assert_failed");
  const warn = await run({
    command: "echo hi",
    assert: [{ type: "glob_exists", glob: "README.md", severity: "warning", message: "no readme" }],
  });
  assert.equal(warn.result.status, "success");
  assert.match(
    warn.result.message,
    /^ok \[gate warning: assert warn: glob_exists README.md: no readme/,
  );
  const ev = warn.events.find((e) => e.event === "gate_result");
  assert.ok(ev && ev.event === "gate_result" && ev.verdict === "warn" && ev.effect === "warn");
});

Deno.test("gates run in order verify → guard → assert → judge and stop at the first failure", async () => {
  const { result, log } = await run({
    command: "echo out",
    verify_command: "true",
    guard_command: "cat >/dev/null",
    assert: [{ type: "file_contains", path: "nothing.txt", pattern: "x" }],
    judge: { criteria: [{ type: "contains", value: "out" }] },
  });
  assert.equal(result.status, "failed");
  const order = [
    ...log.matchAll(/^\[(?:(verify_command)\] exit_code|(guard_command|assert|judge)\] verdict)/gm),
  ].map((m) => m[1] ?? m[2]);
  assert.deepEqual(order, ["verify_command", "guard_command", "assert"]);
  assert.deepEqual(result.gates?.map((g) => g.gate), ["guard", "assert"]);
});

Deno.test("a judge that cannot decide, with on_fail: warn, is named once in the message", async () => {
  const { result } = await run({
    command: "echo out",
    judge: { criteria: ["is good"], engine: "no-such-engine", on_fail: "warn" },
  });
  assert.equal(result.status, "success");
  assert.match(result.message, /\[gate warning: judge error: (?!judge error)/);
});

Deno.test("a deterministic judge on a shell task: warn is recorded and shown, fail fails", async () => {
  const warned = await run({
    command: "echo 'PASS 3 tests'",
    judge: {
      criteria: [{ type: "starts-with", value: "PASS" }, { type: "contains", value: "coverage" }],
    },
  });
  assert.equal(warned.result.status, "success");
  assert.match(warned.result.message, /\[gate warning: judge warn \(score 0\.50 < 0\.70\)/);
  assert.equal(warned.result.judge_result?.verdict, "warn");
  const judged = warned.events.find((e) => e.event === "judge_result");
  assert.ok(judged && judged.event === "judge_result");
  assert.equal(judged.verdict, "warn");
  assert.equal(judged.engine, null, "no LLM call for deterministic criteria");
  assert.equal(warned.result.cost_usd, null);

  const failed = await run({
    command: "echo 'FAIL'",
    max_retries: 2,
    judge: { criteria: [{ type: "starts-with", value: "PASS" }], on_fail: "fail" },
  });
  assert.equal(failed.result.status, "failed");
  assert.equal(failed.result.failure_history.length, 1, "on_fail: fail does not retry");
  assert.equal(failed.result.failure_history[0]?.category, "judge_failed");
  assert.equal(failed.result.exit_code, 1);
});

Deno.test("an LLM judge goes through the named engine; its cost is counted; retry gets its reasons", async () => {
  const builds: Build[] = [];
  const worker = fakeEngine("worker", [{ text: "draft answer" }, { text: "final answer" }], builds);
  const prompts: string[] = [];
  const judge = grader(
    ["SCORE: 3/10 the draft lacks sk-TOPSECRET detail", "SCORE: 9/10 good"],
    prompts,
  );
  const { result, events } = await run(
    {
      kind: "engine",
      engine: "worker",
      command: undefined,
      prompt: { kind: "inline", text: "write the answer" },
      max_retries: 1,
      judge: {
        engine: "grader",
        model: "judge-mini",
        criteria: "The answer is final",
        on_fail: "retry",
      },
    },
    { engines: [worker, judge], mask: (t) => t.replaceAll("sk-TOPSECRET", "***") },
  );
  assert.equal(result.status, "success");
  assert.equal(result.stdout_tail, "final answer");
  assert.equal(prompts.length, 2);
  assert.match(prompts[0]!, /write the answer[^]*<<<OUTPUT\ndraft answer\nOUTPUT>>>/);
  // the second attempt heard why the first was rejected, with the secret masked
  const feedback = builds[1]!.ctx.retryFeedback;
  assert.match(feedback, /Failure category: judge_failed/);
  assert.match(feedback, /\[JUDGE FEEDBACK\] The judge's verdict was fail, score 0\.30/);
  assert.match(feedback, /lacks \*\*\* detail/);
  assert.ok(!feedback.includes("sk-TOPSECRET"));
  // judge calls: 2 × (100/0/20 tokens, $0.002), on top of the worker's 2 × (1/0/1)
  assert.equal(result.cost_usd, 0.004);
  assert.deepEqual(result.token_usage, { input: 202, cached: 0, output: 42, total: 244 });
  assert.deepEqual(result.side_calls?.judge, {
    calls: 2,
    tokens: { input: 200, cached: 0, output: 40 },
    cost_usd: 0.004,
  });
  assert.equal(result.judge_result?.verdict, "pass");
  assert.equal(result.judge_result?.model, "judge-mini");
  const sideCalls = events.filter((e) => e.event === "side_call");
  assert.equal(sideCalls.length, 2);
  assert.ok(sideCalls.every((e) => e.event === "side_call" && e.engine === "grader"));
  const verdicts = events.flatMap((e) => e.event === "judge_result" ? [e.verdict] : []);
  assert.deepEqual(verdicts, ["fail", "pass"]);
});

Deno.test("an LLM judge that cannot run gives an error verdict that fails the task", async () => {
  const { result } = await run({
    command: "echo hi",
    judge: { engine: "absent-engine", criteria: "Is it polite?" },
  });
  assert.equal(result.status, "failed");
  assert.match(result.message, /^E107 judge could not decide: /);
  assert.equal(result.judge_result?.verdict, "error");
});

import assert from "node:assert/strict";
import { makeResult } from "../run/result.ts";
import { ArtifactError, manifestFacts, startedAtFromRunId, taskRows } from "./records.ts";

const context = { runId: "r", planName: "p", file: "a.result.json" };

Deno.test("startedAtFromRunId() gives the manifest's started_at format", () => {
  assert.equal(
    startedAtFromRunId("20261124_031906_070864_a2582f"),
    "2026-11-24T03:19:06.070864+00:00",
  );
  assert.equal(startedAtFromRunId("not-a-run"), null);
});

Deno.test("taskRows() makes one attempt row per failure and one for a final success", () => {
  const result = makeResult({
    task_id: "a",
    status: "success",
    message: "ok",
    exit_code: 0,
    started_at: "2026-01-01T00:00:00.000000+00:00",
    finished_at: "2026-01-01T00:00:02.000000+00:00",
    duration_sec: 2,
    retry_count: 1,
    failure_history: [{
      attempt: 1,
      category: "exit_code",
      exit_code: 2,
      message: "Task failed with exit code 2\nmore",
      verify_tail: null,
      duration_sec: 0.5,
    }],
  });
  const withUsage = {
    ...result,
    cost_usd: 0.25,
    cost_source: "reported",
    token_usage: { input: 10, cached: 5, output: 3, total: 18 },
  };
  const { task, attempts } = taskRows(withUsage, {
    ...context,
    dispatch: { engine: "claude", model: "sonnet" },
  });
  assert.equal(task.attempts, 2);
  assert.equal(task.error, null);
  assert.deepEqual(
    [task.engine, task.model, task.tokens_input, task.tokens_cached, task.tokens_output],
    ["claude", "sonnet", 10, 5, 3],
  );
  assert.deepEqual([task.cost_usd, task.cost_source, task.tokens_total], [0.25, "reported", 18]);
  assert.deepEqual(attempts.map((a) => [a.attempt, a.status, a.exit_code, a.message]), [
    [1, "failed", 2, "Task failed with exit code 2"],
    [2, "success", 0, "ok"],
  ]);
});

Deno.test("taskRows() records no attempt for a skipped or resumed task", () => {
  const skipped = taskRows(
    makeResult({
      task_id: "s",
      status: "skipped",
      message: "Skipped because dependency failed: a",
    }),
    context,
  );
  assert.equal(skipped.task.attempts, 0);
  assert.equal(skipped.task.error, "Skipped because dependency failed: a");
  assert.deepEqual(skipped.attempts, []);
  const resumed = taskRows(
    makeResult({
      task_id: "x",
      status: "success",
      message: "ok",
      started_at: "2026-01-01T00:00:00Z",
    }),
    { ...context, resumed: true },
  );
  assert.deepEqual([resumed.task.attempts, resumed.task.resumed, resumed.attempts.length], [
    0,
    true,
    0,
  ]);
});

Deno.test("taskRows() and manifestFacts() name the file and field of a bad artifact", () => {
  assert.throws(
    () => taskRows({ task_id: "a", status: "exploded" }, context),
    (e: unknown) =>
      e instanceof ArtifactError &&
      /a\.result\.json: status: expected a task status/.test(e.message),
  );
  assert.throws(
    () => taskRows({ task_id: "a", status: "success", token_usage: { input: "many" } }, context),
    /token_usage\.input: expected a number or null/,
  );
  assert.throws(
    () => manifestFacts({ run_id: "r" }, { runDir: "/d", planPath: null, file: "m.json" }),
    /m\.json: started_at: expected a string/,
  );
});

Deno.test("manifestFacts() derives the run's status and duration", () => {
  const base = {
    run_id: "r",
    plan_name: "p",
    started_at: "2026-01-01T00:00:00.000000+00:00",
    finished_at: "2026-01-01T00:01:01.500000+00:00",
    success: false,
    plan_hash: "h",
    resumed_from: null,
    task_results: { a: {}, b: {} },
  };
  const failed = manifestFacts(base, { runDir: "/d", planPath: "/p.yaml", file: "m" });
  assert.deepEqual(
    [failed.run.status, failed.run.duration_sec, failed.run.tasks_total, failed.run.plan_path],
    ["failed", 61.5, 2, "/p.yaml"],
  );
  const interrupted = manifestFacts({ ...base, interrupted: true }, {
    runDir: "/d",
    planPath: null,
    file: "m",
  });
  assert.equal(interrupted.run.status, "interrupted");
  assert.equal(
    manifestFacts({ ...base, success: true }, { runDir: "/d", planPath: null, file: "m" })
      .run.status,
    "success",
  );
});

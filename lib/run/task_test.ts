import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TaskIR } from "../plan/ir.ts";
import { EventBus } from "./events.ts";
import { fixtureTask } from "./_task_fixture.ts";
import { retryDelaySec, runTask } from "./task.ts";

function task(extra: Partial<TaskIR>): TaskIR {
  return fixtureTask("t", [], { workdir: "/tmp", ...extra });
}

async function run(extra: Partial<TaskIR>) {
  const dir = await mkdtemp(join(tmpdir(), "maestro-task-"));
  const delays: number[] = [];
  try {
    const result = await runTask({
      task: task(extra),
      logPath: join(dir, "t.log"),
      env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
      render: (t) => t,
      bus: new EventBus("p"),
      signal: new AbortController().signal,
      mask: (t) => t,
      sleep: (ms) => {
        delays.push(ms);
        return Promise.resolve();
      },
    });
    return { result, delays, log: await readFile(join(dir, "t.log"), "utf8") };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

Deno.test("retry delays follow the constant, linear, exponential and list rules", () => {
  assert.deepEqual([0, 1, 2].map((i) => retryDelaySec(i, 2, "constant")), [2, 2, 2]);
  assert.deepEqual([0, 1, 2].map((i) => retryDelaySec(i, 2, "linear")), [2, 4, 6]);
  assert.deepEqual([0, 1, 2].map((i) => retryDelaySec(i, 2, "exponential")), [2, 4, 8]);
  assert.deepEqual([0, 1, 2].map((i) => retryDelaySec(i, 0.2, "linear")), [0.2, 0.4, 0.6]);
  assert.deepEqual([0, 1, 2].map((i) => retryDelaySec(i, 0.1, "exponential")), [0.1, 0.2, 0.4]);
  assert.deepEqual([0, 1, 2].map((i) => retryDelaySec(i, [1, 5], "exponential")), [1, 5, 5]);
});

Deno.test("a failing command is retried with the computed delays, capped by max_iterations", async () => {
  const { result, delays } = await run({
    command: "exit 2",
    max_retries: 3,
    max_iterations: 3,
    retry_delay_sec: 1,
    retry_strategy: "linear",
  });
  assert.equal(result.status, "failed");
  assert.equal(result.failure_history.length, 3);
  assert.deepEqual(delays, [1000, 2000]);
  assert.equal(result.retry_count, 2);
  assert.equal(result.handoff_report?.failure_category, "exit_code");
});

Deno.test("a failed verify fails the task even with allow_failure", async () => {
  const { result } = await run({
    command: "exit 1",
    allow_failure: true,
    verify_command: "echo nope; exit 5",
  });
  assert.equal(result.status, "failed");
  assert.match(result.message, /^verify_command failed with exit code 5 \(verify output: nope\)$/);
});

Deno.test("allow_failure turns a failure into soft_failed", async () => {
  const { result } = await run({ command: "exit 1", allow_failure: true });
  assert.equal(result.status, "soft_failed");
  assert.equal(result.message, "Task failed with exit code 1 but allow_failure=true");
});

Deno.test("a failing pre_command fails the task without running the command", async () => {
  const { result, log } = await run({ pre_command: "exit 7", command: "echo main-ran" });
  assert.equal(result.message, "pre_command failed with exit code 7");
  assert.ok(!log.includes("\nmain-ran\n"), "the command ran");
});

Deno.test("a missing workdir fails the task with the reference message", async () => {
  const { result } = await run({ workdir: "/definitely/not/here" });
  assert.equal(result.status, "failed");
  assert.match(result.message, /^Workdir does not exist/);
});

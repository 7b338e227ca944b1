import assert from "node:assert/strict";
import type { RunEvent } from "../run/events.ts";
import { LiveState, plainText } from "./live_state.ts";

const head = { ts: "2026-01-01T00:00:00Z", plan_name: "p" };

function events(): RunEvent[] {
  return [
    {
      ...head,
      event: "run_start",
      run_id: "r",
      plan: "p",
      goal: "",
      tasks: 3,
      max_parallel: 2,
      run_path: "",
      resumed_from: null,
    },
    { ...head, event: "task_start", task_id: "build", wave: 0, engine: "shell", model: null },
    {
      ...head,
      event: "task_output",
      task_id: "build",
      stream: "stdout",
      lines: ["one", "two", ""],
    },
    { ...head, event: "task_start", task_id: "lint", wave: 0, engine: "shell", model: null },
    {
      ...head,
      event: "task_skip",
      task_id: "docs",
      status: "skipped",
      reason: "x",
      result_hash: null,
    },
  ];
}

Deno.test("a frame shows each running task with its elapsed time and last line, then the counts", () => {
  const state = new LiveState();
  for (const event of events()) state.apply(event, 0);
  const frame = state.frame(2500, 0, { color: false, columns: 80, rows: 20 });
  assert.deepEqual(frame.split("\n"), [
    "⠋ build    2.5s │ two",
    "⠋ lint     2.5s",
    "1/3 done · 0 failed · 1 skipped · 2 running · 2.5s",
  ]);
});

Deno.test("a frame fits the terminal: long lines are cut and extra tasks summarised", () => {
  const state = new LiveState();
  for (const event of events()) state.apply(event, 0);
  state.apply({
    ...head,
    event: "task_output",
    task_id: "build",
    stream: "stdout",
    lines: ["x".repeat(200)],
  }, 0);
  state.apply({
    ...head,
    event: "task_start",
    task_id: "test",
    wave: 0,
    engine: "shell",
    model: null,
  }, 0);
  const frame = state.frame(0, 0, { color: false, columns: 40, rows: 4 });
  const lines = frame.split("\n");
  assert.equal(lines.length, 3, frame);
  assert.ok(lines.every((l) => [...l].length < 40), frame);
  assert.match(lines[0]!, /^⠋ build +0\.0s │ x+…$/);
  assert.equal(lines[1], "  … and 2 more");
});

Deno.test("colours appear only when asked for", () => {
  const state = new LiveState();
  for (const event of events()) state.apply(event, 0);
  assert.ok(state.frame(0, 0, { color: true, columns: 80, rows: 20 }).includes("\x1b["));
  assert.ok(!state.frame(0, 0, { color: false, columns: 80, rows: 20 }).includes("\x1b"));
});

Deno.test("plainText() removes escape sequences and control characters from task output", () => {
  assert.equal(plainText("\x1b[31mred\x1b[0m\x1b]0;title\x07 \rok\ttab\x1b[2K"), "red ok tab");
});

Deno.test("a frame fits by terminal columns: wide characters, long ids, the coloured counts", () => {
  const state = new LiveState();
  for (const event of events()) state.apply(event, 0);
  state.apply({
    ...head,
    event: "task_output",
    task_id: "build",
    stream: "stdout",
    lines: ["编译模块".repeat(20)],
  }, 0);
  state.apply({
    ...head,
    event: "task_start",
    task_id: "a-very-long-task-identifier-number-1",
    wave: 0,
    engine: "shell",
    model: null,
  }, 0);
  // wide characters take two columns each; nothing may wrap, at any width
  const columns = (line: string) =>
    // deno-lint-ignore no-control-regex
    [...line.replace(/\x1b\[[0-9;]*m/g, "")].reduce(
      (n, c) => n + (/[\u3000-\u9fff]/.test(c) ? 2 : 1),
      0,
    );
  for (const width of [80, 30, 12]) {
    for (const color of [false, true]) {
      const frame = state.frame(1000, 0, { color, columns: width, rows: 20 });
      for (const line of frame.split("\n")) {
        assert.ok(columns(line) < width, `${width} ${color}: ${JSON.stringify(line)}`);
      }
    }
  }
});

import assert from "node:assert/strict";
import { planTextReporters, queuedSink } from "./reporter.ts";
import type { RunEvent } from "./events.ts";

/** A writer that takes at most `chunk` bytes a call and waits for `release()` first. */
function stalledWriter(chunk = 3) {
  const written: string[] = [];
  let open!: () => void;
  let gate = new Promise<void>((resolve) => open = resolve);
  const decoder = new TextDecoder();
  return {
    written,
    release: () => open(),
    stall: () => gate = new Promise<void>((resolve) => open = resolve),
    write: async (bytes: Uint8Array) => {
      await gate;
      const part = bytes.subarray(0, chunk);
      written.push(decoder.decode(part));
      return part.length;
    },
  };
}

Deno.test("queuedSink() returns at once while the reader stalls, then writes every line in order", async () => {
  const writer = stalledWriter();
  const sink = queuedSink({ write: writer.write, droppedNote: (n) => `dropped ${n}` });
  const started = performance.now();
  for (const line of ["one", "two", "three"]) sink(line);
  assert.ok(performance.now() - started < 50, "the run is not held back");
  assert.deepEqual(writer.written, []);
  writer.release();
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(writer.written.join(""), "one\ntwo\nthree\n");
});

Deno.test("queuedSink() drops lines past its limit and says how many when the reader catches up", async () => {
  const writer = stalledWriter(1000);
  const sink = queuedSink({
    write: writer.write,
    maxQueuedBytes: 10,
    droppedNote: (n) => `dropped ${n}`,
  });
  sink("abcd"); // 5 bytes
  sink("efgh"); // 10
  sink("ijkl"); // over the limit: dropped
  sink("mnop"); // dropped
  writer.release();
  await new Promise((r) => setTimeout(r, 20));
  sink("qrst");
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(writer.written.join(""), "abcd\nefgh\ndropped 2\nqrst\n");
});

Deno.test("queuedSink() stops writing after a closed pipe, without throwing", async () => {
  let calls = 0;
  const sink = queuedSink({
    write: () => {
      calls++;
      return Promise.reject(new Error("Broken pipe"));
    },
    droppedNote: (n) => `dropped ${n}`,
  });
  sink("a");
  sink("b");
  await new Promise((r) => setTimeout(r, 20));
  sink("c");
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(calls, 1);
});

Deno.test("planTextReporters() marks each plan's lines with its name, through one sink", () => {
  const lines: string[] = [];
  const forPlan = planTextReporters((line) => lines.push(line));
  const start = (task_id: string) =>
    ({
      event: "task_start",
      task_id,
      wave: 0,
      engine: "shell",
      model: null,
    }) as unknown as RunEvent;
  forPlan("p1")({ event: start("build") });
  forPlan("p2")({ event: start("build") });
  assert.deepEqual(lines, ["[p1] ▶ build", "[p2] ▶ build"]);
});

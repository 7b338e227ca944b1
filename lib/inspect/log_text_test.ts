import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeResult } from "../run/result.ts";
import { errorLines, plainLog, readLogExcerpt } from "./log_text.ts";

Deno.test("plainLog() removes escape sequences and control characters, keeps tabs and newlines", () => {
  assert.equal(plainLog("\x1b[31mred\x1b[0m\x1b]0;t\x07\tok\r\nnext\x00"), "red\tok\nnext");
});

Deno.test("readLogExcerpt() keeps a small log whole and cuts a big one to head and tail at line ends", () => {
  const dir = mkdtempSync(join(tmpdir(), "maestro-log-"));
  try {
    const small = join(dir, "small.log");
    writeFileSync(small, "one\ntwo\n");
    assert.deepEqual(readLogExcerpt(small, 1024), { text: "one\ntwo\n", bytes: 8, omitted: 0 });
    const big = join(dir, "big.log");
    const lines = Array.from({ length: 10_000 }, (_, i) => `line ${i}`);
    writeFileSync(big, lines.join("\n") + "\n");
    const excerpt = readLogExcerpt(big, 4096)!;
    assert.ok(excerpt.omitted > 0);
    assert.ok(excerpt.text.startsWith("line 0\nline 1\n"));
    assert.ok(excerpt.text.endsWith("line 9999\n"));
    assert.match(
      excerpt.text,
      /\n… \d+ bytes omitted \(the whole log is \d+ bytes: .*big\.log\) …\n/,
    );
    for (const line of excerpt.text.split("\n")) {
      assert.ok(line === "" || /^line \d+$/.test(line) || line.startsWith("…"), line);
    }
    assert.equal(readLogExcerpt(join(dir, "none.log"), 10), null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const LOG = `task=t
started_at=2026-11-24T06:18:37.367493+00:00
workdir=/w
command=make

first attempt output
[stderr] error: old failure
Retrying (1/1)...
[retry 1/1]
compiling
[stderr] warning: something
[stderr] src/a.c:1: error: boom
Traceback is not here

status=failed
message=Task failed with exit code 2
`;

Deno.test("errorLines() reads the last attempt: error-looking lines, stderr first", () => {
  const result = makeResult({
    task_id: "t",
    status: "failed",
    message: "Task failed with exit code 2",
  });
  assert.deepEqual(errorLines(result, LOG), ["src/a.c:1: error: boom", "Traceback is not here"]);
  const quiet = LOG.replace("src/a.c:1: error: boom", "just text").replace(
    "Traceback is not here",
    "x",
  );
  assert.deepEqual(errorLines(result, quiet), ["warning: something", "just text"]);
});

Deno.test("errorLines() prefers a failed verify's output, and falls back to stdout_tail", () => {
  const verify = makeResult({
    task_id: "t",
    status: "failed",
    message: "verify_command failed with exit code 1",
    failure_history: [{
      attempt: 1,
      category: "verify_failed",
      exit_code: 1,
      message: "verify_command failed",
      verify_tail: "FAIL test_x\nexpected 2",
      duration_sec: 0.1,
    }],
  });
  assert.deepEqual(errorLines(verify, LOG), ["FAIL test_x", "expected 2"]);
  const tail = makeResult({ task_id: "t", status: "failed", message: "m", stdout_tail: "a\nb\n" });
  assert.deepEqual(errorLines(tail, null), ["a", "b"]);
});

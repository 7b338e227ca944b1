import assert from "node:assert/strict";
import { MAX_ENTRIES, structuredOutput } from "./structured_output.ts";

Deno.test("structuredOutput() reads changed files from diffs, git status and change phrases", () => {
  const out = structuredOutput([
    "diff --git a/src/app.ts b/src/app.ts",
    "+++ b/src/app.ts",
    " M lib/util.ts",
    "?? notes.md",
    "R  old.txt -> docs/new.txt",
    "\tmodified:   README.md",
    "Created src/feature/new_file.py",
    "wrote `out/report.json`",
    // not files: the reference's false positive, a version, a bare word
    "A done",
    "M 1.2.3",
    "D tests",
  ]);
  assert.deepEqual(out.files_changed, [
    "src/app.ts",
    "lib/util.ts",
    "notes.md",
    "docs/new.txt",
    "README.md",
    "src/feature/new_file.py",
    "out/report.json",
  ]);
});

Deno.test("structuredOutput() takes errors and warnings from stderr and from marked lines", () => {
  const out = structuredOutput([
    "[stderr] npm ERR! code ELIFECYCLE failed",
    "[stderr] (node:1) DeprecationWarning: Buffer() is deprecated",
    "error: could not compile `app`",
    "Traceback (most recent call last):",
    "warning: unused variable `x`",
    "all tests passed without failure",
    "[stderr] plain progress line",
  ]);
  assert.deepEqual(out.errors, [
    "npm ERR! code ELIFECYCLE failed",
    "error: could not compile `app`",
    "Traceback (most recent call last):",
  ]);
  assert.deepEqual(out.warnings, [
    "(node:1) DeprecationWarning: Buffer() is deprecated",
    "warning: unused variable `x`",
  ]);
});

Deno.test("structuredOutput() keeps each list short and without repeats", () => {
  const lines = Array.from({ length: 50 }, (_, i) => `[stderr] error ${i % 30}`);
  lines.push("[stderr] error " + "x".repeat(400));
  const out = structuredOutput(lines);
  assert.equal(out.errors.length, MAX_ENTRIES);
  assert.equal(new Set(out.errors).size, MAX_ENTRIES);
  assert.equal(structuredOutput(["[stderr] error " + "x".repeat(400)]).errors[0]!.length, 301);
});

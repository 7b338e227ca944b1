import assert from "node:assert/strict";
import { chunkText } from "./chunks.ts";

Deno.test("chunkText() keeps whole lines, ends at blank lines once half full, and numbers lines", () => {
  const text = ["alpha one", "alpha two", "", "beta one", "beta two", "beta three"].join("\n");
  assert.deepEqual(chunkText(text, 30), [
    { text: "alpha one\nalpha two", startLine: 1, endLine: 2 },
    { text: "beta one\nbeta two\nbeta three", startLine: 4, endLine: 6 },
  ]);
});

Deno.test("chunkText() cuts a line longer than the size and drops blank-only chunks", () => {
  assert.deepEqual(chunkText("x".repeat(25), 10).map((c) => [c.text.length, c.startLine]), [
    [10, 1],
    [10, 1],
    [5, 1],
  ]);
  assert.deepEqual(chunkText("\n\n  \n"), []);
});

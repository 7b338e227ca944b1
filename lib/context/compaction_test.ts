import assert from "node:assert/strict";
import { compactText, cutMiddle, pruneLowSignal } from "./compaction.ts";
import { estimateTokens } from "./tokens.ts";

const noisy = [
  "\u001b[32mPASS\u001b[0m src/a.test.ts",
  "Downloading 10%",
  "Downloading 20%",
  "Downloading 30%",
  "Downloading 40%",
  "Downloading 50%",
  "==========================",
  "",
  "",
  "",
  "retrying...",
  "retrying...",
  "retrying...",
  "ERROR: connection refused at db:5432",
].join("\n");

Deno.test("pruneLowSignal() drops colour codes, rules, blank runs; folds repeats and similar runs", () => {
  assert.equal(
    pruneLowSignal(noisy),
    [
      "PASS src/a.test.ts",
      "Downloading 10%",
      "… (3 similar lines)",
      "Downloading 50%",
      "",
      "retrying... (×3)",
      "ERROR: connection refused at db:5432",
    ].join("\n"),
  );
});

const long =
  Array.from({ length: 400 }, (_, i) => `step ${i}: processed batch ${i * 7} of records`).join(
    "\n",
  ) +
  "\nFINAL: 2800 records, 3 rejected";

Deno.test("compactText() returns a text that fits as it is", () => {
  const out = compactText("small text", 100, "none");
  assert.deepEqual(out, { text: "small text", tokens: 2, removedChars: 0, stage: "fits" });
  assert.equal(compactText(long, null, "none").stage, "fits");
});

Deno.test("compactText() none: cuts to the budget, keeping the start or the end", () => {
  const head = compactText(long, 100, "none");
  assert.equal(head.stage, "truncated");
  assert.ok(head.tokens <= 100, String(head.tokens));
  assert.match(head.text, /^step 0:/);
  assert.match(head.text, /\.\.\.\[truncated: \d+ chars removed\]\.\.\.\n$/);
  const tail = compactText(long, 100, "none", { keep: "tail" });
  assert.ok(tail.tokens <= 100);
  assert.match(tail.text, /FINAL: 2800 records, 3 rejected$/);
});

Deno.test("compactText() standard: prunes first, and cuts the middle only when it must", () => {
  const pruned = compactText(noisy, estimateTokens(pruneLowSignal(noisy)), "standard");
  assert.equal(pruned.stage, "pruned");
  assert.ok(pruned.removedChars > 0);
  const cut = compactText(long, 120, "standard");
  // 400 lines of one shape fold into three lines: pruning alone fits
  assert.equal(cut.stage, "pruned");
  assert.match(cut.text, /… \(398 similar lines\)/);
  const varied = Array.from(
    { length: 300 },
    (_, i) => `${"abcdefghij"[i % 10]!.repeat(i % 7 + 1)} ${i}`,
  ).join("\n");
  const out = compactText(varied, 80, "standard");
  assert.equal(out.stage, "cut");
  assert.ok(out.tokens <= 80, String(out.tokens));
  assert.match(out.text, /\n\.\.\.\[compacted: \d+ chars removed\]\.\.\.\n/);
  assert.ok(out.text.startsWith("a 0"));
  assert.ok(out.text.endsWith("299"));
});

Deno.test("cutMiddle() keeps about 40 % head and 60 % tail", () => {
  const text = Array.from({ length: 100 }, (_, i) => `line number ${i} with some words`).join("\n");
  const out = cutMiddle(text, 100);
  const [head, tail] = out.split(/\n\.\.\.\[compacted: \d+ chars removed\]\.\.\.\n/);
  assert.ok(estimateTokens(head!) < estimateTokens(tail!));
  assert.ok(estimateTokens(out) <= 100);
});

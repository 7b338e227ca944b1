import assert from "node:assert/strict";
import { estimateTokens, lastTokens, splitPieces, truncateToTokens } from "./tokens.ts";

interface Sample {
  kind: string;
  o200k: number;
  cl100k: number;
  text: string;
}

const corpus = JSON.parse(
  Deno.readTextFileSync(new URL("../../tests/fixtures/context/token_corpus.json", import.meta.url)),
) as { samples: Sample[] };
// odd indexes were held out of the calibration (tools/calibrate_tokens.ts)
const heldOut = corpus.samples.filter((_, i) => i % 2 === 1);

function errors(which: "o200k" | "cl100k", estimate: (text: string) => number): number[] {
  return heldOut.map((s) => Math.abs(estimate(s.text) - s[which]) / s[which]).sort((a, b) => a - b);
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

Deno.test("estimateTokens() is within 5 % of o200k_base on average over held-out samples", () => {
  const e = errors("o200k", estimateTokens);
  assert.ok(heldOut.length >= 60, "the held-out half has the samples");
  assert.ok(mean(e) < 0.05, `mean abs error ${mean(e)}`);
  assert.ok(e[Math.floor(e.length * 0.9)]! < 0.1, `p90 abs error ${e[Math.floor(e.length * 0.9)]}`);
  // and far better than the chars/4 rule the reference uses
  const chars4 = errors("o200k", (t) => t.length / 4);
  assert.ok(mean(e) * 3 < mean(chars4), `${mean(e)} vs chars/4 ${mean(chars4)}`);
});

Deno.test("estimateTokens() stays within 8 % of cl100k_base on average", () => {
  const e = errors("cl100k", estimateTokens);
  assert.ok(mean(e) < 0.08, `mean abs error ${mean(e)}`);
});

Deno.test("estimateTokens() counts every kind of sample within 12 % of o200k_base", () => {
  const kinds = new Set(heldOut.map((s) => s.kind));
  for (const kind of kinds) {
    const mine = heldOut.filter((s) => s.kind === kind);
    const err = mean(mine.map((s) => Math.abs(estimateTokens(s.text) - s.o200k) / s.o200k));
    assert.ok(err < 0.12, `${kind}: ${err}`);
  }
});

Deno.test("splitPieces() cuts like o200k_base and loses nothing", () => {
  const text = "Hello world, it's 2026!\n  indented\tline\n\nüber-cool 中文";
  assert.equal(splitPieces(text).join(""), text);
  assert.deepEqual(splitPieces("Hello world"), ["Hello", " world"]);
  assert.deepEqual(splitPieces("12345"), ["123", "45"]);
});

Deno.test("estimateTokens() is 0 only for the empty string", () => {
  assert.equal(estimateTokens(""), 0);
  assert.equal(estimateTokens(" "), 1);
  assert.equal(estimateTokens("Hello world, this is a test of the tokenizer."), 11);
});

Deno.test("truncateToTokens() and lastTokens() respect the budget and cut at lines", () => {
  const text = Array.from({ length: 200 }, (_, i) => `line ${i}: some words here`).join("\n");
  for (const budget of [0, 1, 7, 50, 333]) {
    const head = truncateToTokens(text, budget);
    const tail = lastTokens(text, budget);
    assert.ok(estimateTokens(head) <= budget, `head ${budget}`);
    assert.ok(estimateTokens(tail) <= budget, `tail ${budget}`);
    assert.ok(text.startsWith(head) && text.endsWith(tail));
  }
  assert.ok(truncateToTokens(text, 50).endsWith("\n"));
  assert.ok(lastTokens(text, 50).startsWith("line "));
  assert.equal(truncateToTokens("short", 100), "short");
  assert.equal(lastTokens("short", 100), "short");
});

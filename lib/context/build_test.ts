import assert from "node:assert/strict";
import { buildContext, effectiveBudget } from "./build.ts";
import { estimateTokens } from "./tokens.ts";
import type { ContextMode, Upstream } from "./types.ts";

const words = [
  "alpha",
  "config",
  "parser",
  "timeout",
  "retry",
  "cache",
  "schema",
  "deploy",
  "user",
  "token",
];
function noise(seed: number, lines: number): string {
  let x = seed;
  const rnd = () => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648;
  return Array.from({ length: lines }, (_, i) => {
    const n = 3 + Math.floor(rnd() * 12);
    const line = Array.from({ length: n }, () => words[Math.floor(rnd() * words.length)]).join(" ");
    return i % 17 === 0
      ? `+++ b/src/${words[i % 10]}.ts\n+export function ${words[i % 10]}Handler() {`
      : line;
  }).join("\n");
}
const ups: Upstream[] = [1, 2, 3].map((i) => ({
  id: `t${i}`,
  status: "success",
  exit_code: 0,
  text: noise(i, 400),
  tainted: false,
}));

Deno.test("buildContext() never delivers more than the budget, in every zero-cost mode", async () => {
  const modes: ContextMode[] = ["raw", "selective", "layered", "structural", "knowledge_graph"];
  for (const mode of modes) {
    for (const budget of [30, 300, 3000]) {
      for (const compaction of ["none", "standard"] as const) {
        const built = await buildContext({
          mode,
          upstreams: ups,
          query: "parser timeout retry",
          budget,
          compaction,
        });
        assert.ok(
          built.finalTokens <= budget,
          `${mode} ${compaction} budget ${budget}: ${built.finalTokens} tokens`,
        );
        assert.equal(built.finalTokens, estimateTokens(built.text));
        assert.ok(built.rawTokens > budget);
      }
    }
  }
});

Deno.test("buildContext() wraps each section as an observation when asked", async () => {
  const built = await buildContext({
    mode: "raw",
    upstreams: [{ id: "a", status: "success", exit_code: 0, text: "hello", tainted: true }],
    query: "",
    budget: null,
    wrap: true,
  });
  assert.equal(built.text, '--- a (success) ---\n<observation source="a">\nhello\n</observation>');
});

Deno.test("effectiveBudget(): 6000 for selection modes, none for raw and LLM modes", () => {
  assert.equal(effectiveBudget("selective", null), 6000);
  assert.equal(effectiveBudget("layered", undefined), 6000);
  assert.equal(effectiveBudget("raw", null), null);
  assert.equal(effectiveBudget("summarized", null), null);
  assert.equal(effectiveBudget("raw", 10), 10);
});

Deno.test("buildContext() reports raw and final sizes in tokens and bytes", async () => {
  const built = await buildContext({
    mode: "raw",
    upstreams: [{ id: "a", status: "success", exit_code: 0, text: "héllo wörld", tainted: false }],
    query: "",
    budget: null,
  });
  assert.equal(built.rawBytes, 13);
  assert.equal(built.rawTokens, estimateTokens("héllo wörld"));
  assert.equal(built.finalBytes, new TextEncoder().encode(built.text).length);
});

Deno.test("buildContext() without an LLM caller delivers raw tails for an LLM mode, and says so", async () => {
  const built = await buildContext({
    mode: "summarized",
    upstreams: ups.slice(0, 1),
    query: "",
    budget: 100,
  });
  assert.match(built.report.notes.join(), /needs an LLM caller/);
  assert.ok(built.finalTokens <= 100);
});

import assert from "node:assert/strict";
import { buildContext } from "./build.ts";
import { selectiveMode } from "./mode_selective.ts";
import { terms } from "./terms.ts";
import { estimateTokens } from "./tokens.ts";
import type { Upstream } from "./types.ts";

function up(id: string, text: string): Upstream {
  return { id, status: "success", exit_code: 0, text, tainted: false };
}

const filler = (topic: string, n: number) =>
  Array.from(
    { length: n },
    (_, i) => `${topic} step ${i}: copied files and refreshed the cache index`,
  )
    .join("\n");

// a long log, with one paragraph that answers the downstream question, among filler
const logs = up(
  "logs",
  [
    filler("deploy", 30),
    "",
    "ERROR payment webhook rejected: signature mismatch for stripe event evt_42",
    "the webhook secret in production differs from the one in the vault",
    "",
    filler("cleanup", 30),
  ].join("\n"),
);
const other = up("metrics", filler("metrics", 20));

Deno.test("selective: BM25 picks the chunk that answers the prompt among filler", () => {
  const query = terms("Fix the payment webhook signature mismatch");
  const result = selectiveMode([logs, other], query, 120);
  const chosen = result.items.filter((i) => i.selected);
  // the best chunk is the one with the error; only the chunks around it are relevant at all
  const best = [...result.items].sort((a, b) => b.score! - a.score!)[0]!;
  assert.ok(best.selected && best.upstream === "logs" && best.reason === "rank 1");
  assert.ok(
    chosen.length <= 2 && chosen.every((c) => c.upstream === "logs"),
    JSON.stringify(chosen),
  );
  const text = result.sections.map((s) => s.text).join("\n");
  assert.match(text, /signature mismatch for stripe event evt_42/);
  assert.doesNotMatch(text, /deploy step 3:/);
  assert.doesNotMatch(text, /metrics step/);
  // every other chunk is out, with a reason
  for (const item of result.items.filter((i) => !i.selected)) {
    assert.match(item.reason, /below|over budget/);
  }
});

Deno.test("selective: greedy fill never exceeds the budget, and uses it", async () => {
  const big = up("big", filler("payment", 400));
  for (const budget of [50, 200, 1000, 3000]) {
    const built = await buildContext({
      mode: "selective",
      upstreams: [big, other],
      query: "payment step",
      budget,
    });
    assert.ok(built.finalTokens <= budget, `${built.finalTokens} > ${budget}`);
    assert.ok(
      built.finalTokens >= budget * 0.7,
      `${built.finalTokens} uses too little of ${budget}`,
    );
    assert.equal(built.report.budget_tokens, budget);
  }
});

Deno.test("selective: with no match, the most recent output of each upstream is taken in turn", () => {
  const result = selectiveMode([logs, other], terms("kubernetes helm chart"), 200);
  assert.match(result.notes!.join(), /no chunk matches/);
  const sources = new Set(result.items.filter((i) => i.selected).map((i) => i.upstream));
  assert.deepEqual([...sources].sort(), ["logs", "metrics"]);
  assert.ok(result.sections.every((s) => s.text.endsWith(s.text.split("\n").at(-1)!)));
  assert.match(result.sections[0]!.text, /cleanup step 29/);
});

Deno.test("selective: the default budget is 6000 tokens", async () => {
  const built = await buildContext({
    mode: "selective",
    upstreams: [up("big", filler("payment", 2000))],
    query: "payment",
    budget: null,
  });
  assert.equal(built.report.budget_tokens, 6000);
  assert.ok(built.finalTokens <= 6000 && built.finalTokens > 5000, String(built.finalTokens));
  assert.ok(estimateTokens(built.text) === built.finalTokens);
});

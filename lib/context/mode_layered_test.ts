import assert from "node:assert/strict";
import { layeredMode, TIER_TOKENS, tierL0, tierL1 } from "./mode_layered.ts";
import { terms } from "./terms.ts";
import { estimateTokens } from "./tokens.ts";
import type { Upstream } from "./types.ts";

const up = (id: string, text: string, status: Upstream["status"] = "success"): Upstream => ({
  id,
  status,
  exit_code: status === "success" ? 0 : 2,
  text,
  tainted: false,
});

const body = (topic: string) =>
  [
    `# ${topic} report`,
    ...Array.from({ length: 80 }, (_, i) =>
      `${topic} detail ${i}: measured ${i * 3} units in region ${i % 9}`),
    `Result: ${topic} finished with 2 warnings`,
    "done",
  ].join("\n");

Deno.test("tierL0() is one line with status and the first meaningful line", () => {
  assert.equal(
    tierL0(up("lint", "\n\n  3 problems found\nmore")),
    "lint: success: 3 problems found",
  );
  assert.equal(tierL0(up("t", "", "failed")), "t: failed exit 2: (no output)");
  assert.ok(estimateTokens(tierL0(up("x", "word ".repeat(500)))) <= TIER_TOKENS.L0);
});

Deno.test("tierL1() keeps headings, result lines and the end, within 200 tokens", () => {
  const l1 = tierL1(up("perf", body("latency")));
  assert.match(l1, /^# latency report/);
  assert.match(l1, /Result: latency finished with 2 warnings/);
  assert.match(l1, /done$/);
  assert.doesNotMatch(l1, /detail 40/);
  assert.ok(estimateTokens(l1) <= TIER_TOKENS.L1);
});

Deno.test("layered: the most relevant upstream is expanded first, the others stay shallow", () => {
  const ups = [
    up("storage", body("storage")),
    up("latency", body("latency")),
    up("billing", body("billing")),
  ];
  const result = layeredMode(ups, terms("why is the latency so high"), 1400, "standard");
  const chosen = (id: string) => result.items.find((i) => i.upstream === id && i.selected)!;
  // the relevant one in full; the others only get what is left (compacted)
  assert.equal(chosen("latency").label, "L2");
  assert.equal(chosen("latency").reason, "relevance rank 1");
  assert.equal(chosen("latency").tokens, estimateTokens(ups[1]!.text));
  for (const id of ["storage", "billing"]) {
    assert.ok(chosen(id).label !== "L2" || chosen(id).reason.endsWith("compacted"), id);
    assert.ok(chosen(id).tokens < 100);
  }
  const text = result.sections.map((s) => `--- ${s.heading} ---\n${s.text}`).join("\n\n");
  assert.ok(estimateTokens(text) <= 1400, String(estimateTokens(text)));
  assert.equal(result.upstreamScores!.get("storage"), 0);
  assert.ok(result.upstreamScores!.get("latency")! > 0);
});

Deno.test("layered: a tight budget leaves everyone at L0 and drops what does not fit", () => {
  const ups = [up("a", body("alpha")), up("b", body("beta")), up("c", body("gamma"))];
  const result = layeredMode(ups, terms("beta"), 40, "standard");
  const selected = result.items.filter((i) => i.selected);
  assert.ok(selected.every((i) => i.label === "L0"), JSON.stringify(selected));
  // b is the relevant one; a and c tie at 0 and c, last in plan order, does not fit
  assert.deepEqual(selected.map((i) => i.upstream), ["a", "b"]);
  assert.ok(
    result.items.filter((i) => i.upstream === "c").every((i) =>
      i.reason === "over budget even as one line"
    ),
  );
});

Deno.test("layered: a generous budget gives every upstream its full output", () => {
  const ups = [up("a", "short output a"), up("b", "short output b")];
  const result = layeredMode(ups, [], 6000, "standard");
  assert.deepEqual(result.sections.map((s) => s.text), ["short output a", "short output b"]);
});

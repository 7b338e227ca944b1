import assert from "node:assert/strict";
import { fairShares, rawMode } from "./mode_raw.ts";
import { buildContext } from "./build.ts";
import type { Upstream } from "./types.ts";

const up = (id: string, text: string): Upstream => ({
  id,
  status: "success",
  exit_code: 0,
  text,
  tainted: false,
});

Deno.test("fairShares() gives small ones all they want and splits the rest evenly", () => {
  assert.deepEqual(fairShares([10, 500, 80], 300), [10, 210, 80]);
  assert.deepEqual(fairShares([500, 500], 300), [150, 150]);
  assert.deepEqual(fairShares([5, 5], 300), [5, 5]);
  assert.deepEqual(fairShares([5, 5], -3), [0, 0]);
});

Deno.test("raw: tails pass whole without a budget", async () => {
  const result = await rawMode([up("a", "one\ntwo"), up("b", "three")], null, "standard");
  assert.equal(result.tails!.get("a"), "one\ntwo");
  assert.deepEqual(result.sections.map((s) => s.heading), ["a (success)", "b (success)"]);
});

Deno.test("raw: under a budget a short tail stays whole and a long one keeps its end", async () => {
  const long = Array.from({ length: 300 }, (_, i) => `log ${"xyzw"[i % 4]!.repeat(i % 5 + 1)} ${i}`)
    .join("\n");
  const built = await buildContext({
    mode: "raw",
    upstreams: [up("short", "build ok"), up("long", long)],
    query: "",
    budget: 150,
    compaction: "none",
  });
  assert.ok(built.finalTokens <= 150, String(built.finalTokens));
  assert.equal(built.tails.get("short"), "build ok");
  assert.match(built.tails.get("long")!, / 299$/);
  assert.match(built.tails.get("long")!, /^\n\.\.\.\[truncated/);
  assert.equal(built.report.items.find((i) => i.upstream === "short")!.reason, "whole");
});

Deno.test("raw: progressive asks the LLM to shorten a tail over its share", async () => {
  const long = Array.from(
    { length: 300 },
    (_, i) => `${"abcdefgh"[i % 8]!.repeat(i % 3 + 2)} value ${i}`,
  ).join("\n");
  const prompts: string[] = [];
  const built = await buildContext({
    mode: "raw",
    upstreams: [up("long", long)],
    query: "",
    budget: 60,
    compaction: "progressive",
    call: (request) => {
      prompts.push(request.prompt);
      return Promise.resolve({
        text: "300 values, a to h",
        failed: false,
        call: {
          purpose: request.purpose,
          label: request.label,
          engine: "codex",
          model: "m",
          cached: false,
          is_error: false,
          tokens: { input: 10, cached: 0, output: 5 },
          cost_usd: 0.001,
        },
      });
    },
  });
  assert.equal(built.tails.get("long"), "300 values, a to h");
  assert.equal(prompts.length, 1);
  assert.match(prompts[0]!, /Shorten this output of "long"/);
  assert.equal(built.report.calls.length, 1);
  assert.equal(built.report.calls[0]!.purpose, "context:compaction");
});

import assert from "node:assert/strict";
import {
  councilMode,
  type LlmCaller,
  type LlmRequest,
  mapReduceMode,
  summarizedMode,
} from "./llm_modes.ts";
import type { Upstream } from "./types.ts";

const up = (id: string, text: string, tainted = false): Upstream => ({
  id,
  status: "success",
  exit_code: 0,
  text,
  tainted,
});

/** A caller that answers from a function and records every request. */
function fake(answer: (r: LlmRequest, n: number) => string | null) {
  const requests: LlmRequest[] = [];
  const call: LlmCaller = (request) => {
    requests.push(request);
    const text = answer(request, requests.length);
    return Promise.resolve({
      text: text ?? "",
      failed: text === null,
      call: {
        purpose: request.purpose,
        label: request.label,
        engine: request.target?.engine ?? "codex",
        model: request.target?.model ?? "gpt-5.4-mini",
        cached: false,
        is_error: text === null,
        tokens: { input: 100, cached: 0, output: 20 },
        cost_usd: 0.0002,
      },
    });
  };
  return { call, requests };
}

const ups = [
  up("api", "Added GET /users and POST /users"),
  up("db", "Created table users (id, email)"),
];

Deno.test("summarized: one call per upstream, each answer is that upstream's summary", async () => {
  const { call, requests } = fake((r) =>
    `<analysis>thinking</analysis>summary of ${r.label.split(" ").at(-1)}`
  );
  const result = await summarizedMode(ups, "Write the API docs", null, call);
  assert.equal(requests.length, 2);
  assert.deepEqual([...result.summaries!], [["api", "summary of api"], ["db", "summary of db"]]);
  assert.ok(requests.every((r) => r.purpose === "context:summarized"));
  assert.match(requests[0]!.prompt, /upstream task "api"/);
  assert.match(requests[0]!.prompt, /Write the API docs/);
  assert.match(requests[0]!.prompt, /<observation source="api">\nAdded GET \/users/);
  assert.equal(result.calls.length, 2);
});

Deno.test("summarized: a failed call falls back to the headline tier and says so", async () => {
  const { call } = fake((r) => (r.label.endsWith("db") ? null : "ok"));
  const result = await summarizedMode(ups, "q", null, call);
  assert.equal(result.summaries!.get("db"), "Created table users (id, email)");
  assert.match(result.notes!.join(), /summary of db failed/);
});

Deno.test("map_reduce: N summaries and one merge (N + 1 calls)", async () => {
  const { call, requests } = fake((
    r,
  ) => (r.label === "reduce" ? "merged briefing" : `s-${r.label}`));
  const result = await mapReduceMode(ups, "Write the API docs", 300, call);
  assert.equal(requests.length, 3);
  assert.equal(requests[2]!.label, "reduce");
  assert.match(requests[2]!.prompt, /<observation source="db">\ns-summary of db\n<\/observation>/);
  assert.equal(result.sections[0]!.text, "merged briefing");
  assert.equal(result.summaries!.get("api"), "s-summary of api");
});

Deno.test("council star: members × rounds calls, then the hub merges (N·R + 1)", async () => {
  const { call, requests } = fake((r) => `notes from ${r.label}`);
  const result = await councilMode(ups, "Plan the migration", null, call, {
    members: [{ engine: "codex", model: "gpt-5.4-mini" }, { engine: "claude", model: "haiku" }],
    topology: "star",
    rounds: 2,
    hub: { engine: "gemini", model: "gemini-2.5-flash" },
  });
  assert.equal(requests.length, 2 * 2 + 1);
  assert.deepEqual(requests.map((r) => r.target?.engine), [
    "codex",
    "claude",
    "codex",
    "claude",
    "gemini",
  ]);
  // round 2 members read the other member's round-1 notes
  assert.match(requests[2]!.prompt, /notes from star member 2 \(claude\/haiku\) round 1/);
  assert.doesNotMatch(
    requests[2]!.prompt,
    /notes from star member 1 \(codex\/gpt-5.4-mini\) round 1/,
  );
  assert.equal(result.sections[0]!.text, "notes from star hub");
});

Deno.test("council chain: each member revises the last notes (N·R calls)", async () => {
  const { call, requests } = fake((_r, n) => `draft ${n}`);
  const result = await councilMode(ups, "Plan the migration", 200, call, {
    members: [{ engine: "codex" }, { engine: "claude" }, { engine: "qwen" }],
    topology: "chain",
    rounds: 1,
  });
  assert.equal(requests.length, 3);
  assert.match(requests[1]!.prompt, /draft 1/);
  assert.match(requests[2]!.prompt, /draft 2/);
  assert.equal(result.sections[0]!.text, "draft 3");
});

Deno.test("council: when every call fails the compacted upstream output is delivered", async () => {
  const { call } = fake(() => null);
  const result = await councilMode(ups, "q", null, call, {
    members: [{ engine: "codex" }],
    topology: "star",
    rounds: 1,
  });
  assert.match(result.sections[0]!.text, /api:\nAdded GET/);
  assert.match(result.notes!.join(), /every council call failed/);
});

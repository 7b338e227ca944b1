import assert from "node:assert/strict";
import { makeResult } from "../run/result.ts";
import { contextLookup, hasContextPlaceholder, injectContext } from "./deliver.ts";
import { viewUpstream } from "./upstream.ts";

Deno.test("hasContextPlaceholder(): synthesis and text fields of context_from upstreams count", () => {
  assert.ok(hasContextPlaceholder("see {{ upstream_synthesis }}", ["a"]));
  assert.ok(hasContextPlaceholder("see {{ a.stdout_tail }}", ["a"]));
  assert.ok(hasContextPlaceholder("v={{ a.output.version }}", ["a"]));
  assert.ok(!hasContextPlaceholder("status {{ a.status }} {{ a.exit_code }}", ["a"]));
  assert.ok(!hasContextPlaceholder("see {{ b.stdout_tail }}", ["a"]));
  assert.ok(!hasContextPlaceholder("no placeholders", ["a"]));
});

Deno.test("injectContext(): prepend by default, append, none, and never over a placeholder", () => {
  const opts = { text: "CTX", contextFrom: ["a"] };
  assert.equal(
    injectContext("Do it", "Do it", { ...opts, mode: "prepend" }).prompt,
    "## Context from upstream tasks\n\nCTX\n\n---\n\nDo it",
  );
  assert.equal(
    injectContext("Do it", "Do it", { ...opts, mode: "append" }).prompt,
    "Do it\n\n## Context from upstream tasks\n\nCTX",
  );
  assert.deepEqual(injectContext("Do it", "Do it", { ...opts, mode: "none" }), {
    prompt: "Do it",
    injected: false,
  });
  assert.deepEqual(
    injectContext("Use {{ upstream_synthesis }}", "Use CTX", { ...opts, mode: "prepend" }),
    { prompt: "Use CTX", injected: false },
  );
});

Deno.test("contextLookup(): synthesis, output fields, wrapping under CFI, base for the rest", () => {
  const result = makeResult({
    task_id: "a",
    status: "success",
    message: "ok",
    exit_code: 0,
    stdout_tail: "out",
  });
  result.output = { version: "1.2.3", checks: { passed: 4 }, tags: ["x", "y"] };
  const views = new Map([[
    "a",
    viewUpstream("a", result, { task: undefined, tainted: false, allowlist: undefined, cfi: true }),
  ]]);
  const base = (name: string) => (name === "goal" ? "G" : undefined);
  const lookup = contextLookup(base, {
    views,
    contextFrom: ["a"],
    synthesis: "SYN",
    wrapAll: true,
    observationBlock: false,
  });
  assert.equal(lookup("upstream_synthesis"), "SYN");
  assert.equal(lookup("goal"), "G");
  assert.equal(lookup("a.status"), "success");
  assert.equal(lookup("a.stdout_tail"), '<observation source="a">\nout\n</observation>');
  assert.equal(lookup("a.output.version"), '<observation source="a">\n1.2.3\n</observation>');
  const shell = contextLookup(base, {
    views,
    contextFrom: ["a"],
    wrapAll: true,
    observationBlock: false,
    noWrap: true,
  });
  assert.equal(shell("a.stdout_tail"), "out");
  assert.equal(shell("a.output.checks.passed"), "4");
  assert.equal(shell("a.output.tags"), '["x","y"]');
  assert.equal(shell("a.output.missing"), "(none)");
  // no context_from: the synthesis is left to the base lookup (kept verbatim)
  const none = contextLookup(base, {
    views,
    contextFrom: [],
    wrapAll: false,
    observationBlock: false,
  });
  assert.equal(none("upstream_synthesis"), undefined);
});

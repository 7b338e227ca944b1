import assert from "node:assert/strict";
import { checkOutput, extractJson } from "./output_schema.ts";

Deno.test("extractJson() reads the whole text, a json fence, or the last balanced value", () => {
  assert.deepEqual(extractJson('{"a": 1}'), { value: { a: 1 } });
  assert.deepEqual(extractJson('Here:\n```json\n{"a": 2}\n```\nthanks'), { value: { a: 2 } });
  assert.deepEqual(extractJson('first {"a": 1} then {"b": "x}y"} end'), { value: { b: "x}y" } });
  assert.deepEqual(extractJson("list: [1, 2]"), { value: [1, 2] });
  assert.equal(extractJson("no json here {oops"), undefined);
});

Deno.test("checkOutput() passes a valid value and names every problem of an invalid one", () => {
  const schema = {
    type: "object",
    required: ["verdict", "score"],
    properties: { verdict: { enum: ["pass", "fail"] }, score: { type: "number", minimum: 0 } },
  };
  assert.deepEqual(checkOutput(schema, '{"verdict":"pass","score":0.9}'), {
    ok: true,
    value: { verdict: "pass", score: 0.9 },
  });
  const bad = checkOutput(schema, '{"verdict":"maybe","score":-1}');
  assert.equal(bad.ok, false);
  assert.match((bad as { message: string }).message, /^output_schema validation failed: /);
  assert.match((bad as { message: string }).message, /verdict/);
  assert.match((bad as { message: string }).message, /score/);
  assert.deepEqual(checkOutput(schema, "not json"), {
    ok: false,
    message: "output_schema validation failed: the output has no JSON value",
  });
});

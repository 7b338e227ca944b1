import assert from "node:assert/strict";
import { show, typeName } from "./describe.ts";

Deno.test("show() and typeName() name NaN and Infinity (JSON would print null)", () => {
  assert.equal(show(Number.NaN), "NaN");
  assert.equal(show(-Infinity), "-Infinity");
  assert.equal(typeName(Infinity), "non-finite number");
  assert.equal(show({ a: 1 }), '{"a":1}');
  assert.equal(typeName(2), "integer");
});

import assert from "node:assert/strict";
import { canonicalJson, CanonicalJsonError } from "./canonical_json.ts";

Deno.test("the RFC 8785 section 3.2.2 example canonicalises byte for byte", () => {
  const input = JSON.parse(
    `{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
      "string": "\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\"\\/",
      "literals": [null, true, false]}`,
  );
  assert.equal(
    canonicalJson(input),
    `{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],` +
      `"string":"€$\\u000f\\nA'B\\"\\\\\\\\\\"/"}`,
  );
});

Deno.test("object keys are sorted by UTF-16 code units as in RFC 8785 section 3.2.3", () => {
  const input = {
    "\u20ac": "Euro Sign",
    "\r": "Carriage Return",
    "\ufb33": "Hebrew Letter Dalet With Dagesh",
    "1": "One",
    "\ud83d\ude00": "Emoji: Grinning Face",
    "\u0080": "Control",
    "\u00f6": "Latin Small Letter O With Diaeresis",
  };
  // JSON.parse would reorder the integer-like key "1", so compare the text itself
  const order = [...canonicalJson(input).matchAll(/"([^"]*)":"[^"]*"/g)].map((m) => m[1]);
  assert.deepEqual(order, ["\\r", "1", "\u0080", "\u00f6", "\u20ac", "\ud83d\ude00", "\ufb33"]);
});

Deno.test("numbers follow the ECMAScript serialisation of RFC 8785 appendix B", () => {
  const cases: Array<[number, string]> = [
    [0, "0"],
    [-0, "0"],
    [1e21, "1e+21"],
    [1e-7, "1e-7"],
    [9.999999999999997e22, "9.999999999999997e+22"],
    [295147905179352830000, "295147905179352830000"],
    [5e-324, "5e-324"],
    [-1.7976931348623157e308, "-1.7976931348623157e+308"],
    [0.000001, "0.000001"],
  ];
  for (const [value, text] of cases) assert.equal(canonicalJson(value), text);
});

Deno.test("non-finite numbers have no canonical form and are rejected", () => {
  assert.throws(() => canonicalJson({ a: NaN }), CanonicalJsonError);
  assert.throws(() => canonicalJson([Infinity]), CanonicalJsonError);
});

Deno.test("undefined members are left out and nested structures are sorted too", () => {
  assert.equal(
    canonicalJson({ b: [{ z: 1, a: undefined, y: "x" }], a: true }),
    `{"a":true,"b":[{"y":"x","z":1}]}`,
  );
});

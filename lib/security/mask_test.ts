import assert from "node:assert/strict";
import { createMasker, secretValues } from "./mask.ts";

Deno.test("declared secrets are masked, the longest value first", () => {
  const values = secretValues({
    secrets: ["API_KEY", "SHORT"],
    envLayers: [{ API_KEY: "abcdef123", SHORT: "abc", OTHER: "visible" }],
  });
  const mask = createMasker(values);
  assert.equal(mask("key=abcdef123 short=abc other=visible"), "key=*** short=*** other=visible");
});

Deno.test("auto mode picks names that look secret and ignores values under 3 characters", () => {
  const values = secretValues({
    secrets: [],
    forceAuto: true,
    envLayers: [{ GITHUB_TOKEN: "ghp_x1y2", DB_PASSWORD: "pw", HOME: "/root" }],
  });
  assert.deepEqual(values, ["ghp_x1y2"]);
});

Deno.test("values with regular expression characters are masked literally", () => {
  const mask = createMasker(["a.b*c"]);
  assert.equal(mask("xa.b*cx aXbbc"), "x***x aXbbc");
});

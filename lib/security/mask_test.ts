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

Deno.test("a multi-line secret is masked whole, and line by line as output arrives", () => {
  const key = "-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nAbC\n-----END KEY-----\n";
  const mask = createMasker([key]);
  assert.equal(mask(`before\n${key}after`), "before\n***after");
  // a log batch or a tail holds the key without its final newline, or one line of it
  assert.equal(mask(key.trimEnd()), "***");
  assert.equal(mask("line: MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"), "line: ***");
  // its short lines are not masked on their own: "AbC" would mangle ordinary text
  assert.equal(mask("AbC"), "AbC");
});

Deno.test("what a cut left of a secret next to an ellipsis is masked too", () => {
  const secret = "ghp_9f8e7d6c5b4a39f8e7d6c5b4a3";
  const mask = createMasker([secret]);
  // cut after: its start before "…"; cut before: its end after "…"
  assert.equal(mask(`TOKEN=${secret.slice(0, 20)}…`), "TOKEN=***…");
  assert.equal(mask(`…${secret.slice(-12)} tail`), "…*** tail");
  assert.equal(mask(`a ${secret.slice(0, 9)}… b …${secret.slice(-7)}`), "a ***… b …***");
  // too little of it to tell, or no ellipsis: left alone
  assert.equal(mask(`x ${secret.slice(0, 5)}…`), `x ${secret.slice(0, 5)}…`);
  assert.equal(mask(`x ${secret.slice(0, 20)} y`), `x ${secret.slice(0, 20)} y`);
  // a whole secret is still masked whole
  assert.equal(mask(`${secret}…`), "***…");
});

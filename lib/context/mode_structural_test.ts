import assert from "node:assert/strict";
import { structuralMode } from "./mode_structural.ts";
import { terms } from "./terms.ts";
import { estimateTokens } from "./tokens.ts";
import type { Upstream } from "./types.ts";

const up = (id: string, text: string): Upstream => ({
  id,
  status: "success",
  exit_code: 0,
  text,
  tainted: false,
});

const impl = up(
  "impl",
  [
    "+++ b/src/auth/session.ts",
    "+export function createSession(user: User) {",
    "+export function revokeSession(id: string) {",
    "+++ b/src/billing/invoice.ts",
    "+export class InvoiceBuilder {",
    "+export function renderInvoicePdf(invoice: Invoice) {",
    "+++ b/src/cli.ts",
    '+import { revokeSession } from "./auth/session.ts";',
  ].join("\n"),
);

Deno.test("structural: symbols relevant to the prompt first, their file's neighbours next", () => {
  const query = "Write tests for revokeSession";
  const result = structuralMode([impl], terms(query), query, 6000);
  const symbols = result.items.filter((i) => i.kind === "symbol").sort((a, b) =>
    b.score! - a.score!
  );
  assert.equal(symbols[0]!.label, "revokeSession (function)");
  // same file as the match: blast radius
  assert.equal(symbols[1]!.label, "createSession (function)");
  const text = result.sections[0]!.text;
  assert.match(text, /^Files changed: src\/auth\/session.ts \(impl\), src\/billing\/invoice.ts/);
  assert.match(text, /Imports:\n- src\/cli.ts imports .\/auth\/session.ts/);
});

Deno.test("structural: a small budget keeps the most relevant facts only", () => {
  const query = "Write tests for revokeSession";
  const result = structuralMode([impl], terms(query), query, 60);
  const text = result.sections[0]!.text;
  assert.ok(estimateTokens(text) <= 60, String(estimateTokens(text)));
  assert.match(text, /revokeSession/);
  assert.doesNotMatch(text, /renderInvoicePdf/);
});

Deno.test("structural: output without code falls back to selective", () => {
  const result = structuralMode(
    [up("notes", "the meeting moved to friday\nbring the slides")],
    terms("slides"),
    "slides",
    500,
  );
  assert.match(result.notes!.join(), /no code facts/);
  assert.match(result.sections[0]!.text, /slides/);
});

import assert from "node:assert/strict";
import { extractGraph } from "./entities.ts";
import { knowledgeGraphMode } from "./mode_knowledge_graph.ts";
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

Deno.test("extractGraph() finds entities and stated relations", () => {
  const g = extractGraph(
    "OrderService depends on `inventory_client`\nOrderService calls chargeCard()\nsee https://example.com/docs",
  );
  assert.deepEqual(g.relations.map((r) => [r.from, r.relation, r.to, r.explicit]), [
    ["OrderService", "depends_on", "inventory_client", true],
    ["OrderService", "calls", "chargeCard()", true],
  ]);
  assert.deepEqual(g.entities.map((e) => [e.name, e.kind, e.mentions]), [
    ["OrderService", "identifier", 2],
    ["inventory_client", "term", 1],
    ["chargeCard()", "identifier", 1],
    ["https://example.com/docs", "url", 1],
  ]);
});

Deno.test("knowledge_graph: relations about the prompt's entities come first, within budget", () => {
  const a = up(
    "design",
    "OrderService depends on `inventory_client`\nPaymentGateway calls fraud_check()",
  );
  const b = up("impl", "OrderService uses RetryPolicy\nReportJob writes daily_report.csv");
  const result = knowledgeGraphMode([a, b], terms("How does OrderService reach inventory?"), 400);
  const relations = result.items.filter((i) => i.kind === "relation").sort((x, y) =>
    y.score! - x.score!
  );
  assert.equal(relations[0]!.label, "OrderService depends_on inventory_client");
  const text = result.sections[0]!.text;
  assert.match(text, /^Relations:\n- OrderService —depends_on→ inventory_client \(design\)/);
  assert.ok(estimateTokens(text) <= 400);
  const tight = knowledgeGraphMode([a, b], terms("OrderService inventory"), 30);
  const tightText = tight.sections[0]?.text ?? "";
  assert.ok(estimateTokens(tightText) <= 30, tightText);
  assert.match(tightText, /inventory_client/);
});

Deno.test("knowledge_graph: output without entities falls back to selective, with a note", () => {
  const text = "the build went fine and all checks passed\nthe slides are ready for review";
  assert.deepEqual(extractGraph(text).entities, [], "the premise: nothing to build a graph of");
  const result = knowledgeGraphMode([up("notes", text)], terms("are the slides ready?"), 500);
  assert.ok(result.sections.length > 0, "context is never dropped silently");
  assert.match(result.sections.map((s) => s.text).join("\n"), /slides are ready/);
  assert.match(result.notes!.join(), /no entities found[^]*selective/);
  assert.ok(result.items.every((i) => i.kind !== "entity" && i.kind !== "relation"));
});

import assert from "node:assert/strict";
import { layoutDag } from "./dag_layout.ts";

Deno.test("layoutDag() puts each task one column right of its deepest dependency", () => {
  const layout = layoutDag([
    { id: "a", depends_on: [] },
    { id: "b", depends_on: ["a"] },
    { id: "c", depends_on: ["a", "b"] },
    { id: "d", depends_on: [] },
  ], { nodeWidth: 100, gapX: 50 });
  const at = Object.fromEntries(layout.nodes.map((n) => [n.id, n]));
  assert.deepEqual([at.a!.layer, at.b!.layer, at.c!.layer, at.d!.layer], [0, 1, 2, 0]);
  assert.equal(at.c!.x, 300);
  assert.equal(layout.width, 400);
  assert.deepEqual(layout.edges.map((e) => `${e.from}>${e.to}`), ["a>b", "a>c", "b>c"]);
  assert.match(layout.edges[0]!.d, /^M100 \d+C/);
});

Deno.test("layoutDag() orders a column by its neighbours to avoid crossings", () => {
  // x1 feeds y2 and x2 feeds y1: barycentre ordering swaps the second column
  const layout = layoutDag([
    { id: "x1", depends_on: [] },
    { id: "x2", depends_on: [] },
    { id: "y1", depends_on: ["x2"] },
    { id: "y2", depends_on: ["x1"] },
  ]);
  const y = Object.fromEntries(layout.nodes.map((n) => [n.id, n.y]));
  assert.ok(y.y2! < y.y1!, JSON.stringify(y));
  assert.ok(y.x1! < y.x2!);
});

Deno.test("layoutDag() handles a wide and long graph in linear-ish time", () => {
  const nodes = Array.from({ length: 3000 }, (_, i) => ({
    id: `t${i}`,
    depends_on: i >= 100 ? [`t${i - 100}`, `t${i - 99}`] : [],
  }));
  const start = performance.now();
  const layout = layoutDag(nodes);
  assert.equal(layout.nodes.length, 3000);
  assert.ok(performance.now() - start < 2000);
});

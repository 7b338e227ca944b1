import assert from "node:assert/strict";
import { depths, findCycle, findCycles, graphStats } from "./graph.ts";

const node = (id: string, ...depends_on: string[]) => ({ id, depends_on });

Deno.test("findCycle() returns undefined for an acyclic graph", () => {
  assert.equal(findCycle([node("a"), node("b", "a"), node("c", "a", "b")]), undefined);
});

Deno.test("findCycle() returns the full cycle path, closed on its first id", () => {
  const cycle = findCycle([node("x"), node("a", "c", "x"), node("b", "a"), node("c", "b")])!;
  assert.equal(cycle[0], cycle[cycle.length - 1]);
  assert.deepEqual(new Set(cycle), new Set(["a", "b", "c"]));
  assert.equal(cycle.length, 4);
});

Deno.test("findCycle() handles a 50 000-task chain without overflowing the stack", () => {
  const nodes = Array.from(
    { length: 50_000 },
    (_, i) => node(`t${i}`, ...(i ? [`t${i - 1}`] : [])),
  );
  assert.equal(findCycle(nodes), undefined);
  nodes[0] = node("t0", "t49999");
  assert.equal(findCycle(nodes)!.length, 50_001);
});

Deno.test("graphStats() gives the critical path and the widest level", () => {
  const stats = graphStats([
    node("a"),
    node("b", "a"),
    node("c", "a"),
    node("d", "b", "c"),
    node("e"),
  ]);
  assert.equal(stats.criticalPathLength, 3);
  assert.deepEqual(stats.criticalPath, ["a", "b", "d"]);
  assert.equal(stats.maxWidth, 2);
  assert.deepEqual(depths([node("a"), node("b", "a")]), new Map([["a", 0], ["b", 1]]));
});

Deno.test("findCycles() reports separate cycles in one pass", () => {
  const cycles = findCycles([
    node("a", "c"),
    node("b", "a"),
    node("c", "b"),
    node("d", "e"),
    node("e", "d"),
    node("f", "a"),
  ]);
  assert.equal(cycles.length, 2);
  assert.deepEqual(cycles.map((c) => new Set(c)), [new Set(["a", "b", "c"]), new Set(["d", "e"])]);
  assert.deepEqual(findCycles([node("a"), node("b", "a")]), []);
});

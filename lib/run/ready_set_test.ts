import assert from "node:assert/strict";
import { ReadySet } from "./ready_set.ts";
import { mulberry32 } from "../../bench/gen_plan.ts";

Deno.test("ReadySet takes the smallest index first and ignores double adds", () => {
  const set = new ReadySet(10);
  for (const i of [5, 2, 9, 2, 0, 7]) set.add(i);
  assert.equal(set.size, 5);
  assert.ok(set.has(9) && !set.has(1));
  assert.equal(set.take(), 0);
  set.add(1); // a lower index added later still comes out before the rest
  assert.deepEqual([set.take(), set.take(), set.take()], [1, 2, 5]);
  assert.equal(set.has(5), false);
  set.add(5); // taken indices may come back
  assert.deepEqual([set.take(), set.take(), set.take(), set.take()], [5, 7, 9, undefined]);
  assert.equal(set.size, 0);
});

Deno.test("ReadySet matches a sorted array under random adds and takes", () => {
  const random = mulberry32(7);
  const n = 500;
  const set = new ReadySet(n);
  const model = new Set<number>();
  for (let step = 0; step < 20000; step++) {
    if (random() < 0.55) {
      const i = Math.floor(random() * n);
      set.add(i);
      model.add(i);
    } else {
      const expected = model.size === 0 ? undefined : Math.min(...model);
      if (expected !== undefined) model.delete(expected);
      assert.equal(set.take(), expected, `step ${step}`);
    }
    assert.equal(set.size, model.size);
  }
});

Deno.test("ReadySet.clear empties it and rejects out-of-range indices", () => {
  const set = new ReadySet(3);
  set.add(2);
  set.add(1);
  set.clear();
  assert.equal(set.size, 0);
  assert.equal(set.has(1), false);
  assert.equal(set.take(), undefined);
  assert.throws(() => set.add(3), RangeError);
  assert.throws(() => set.add(-1), RangeError);
});

Deno.test("ReadySet holds a whole wide plan added in reverse order", () => {
  const n = 200_000;
  const set = new ReadySet(n);
  for (let i = n - 1; i >= 0; i--) set.add(i);
  assert.equal(set.size, n);
  for (let i = 0; i < n; i++) assert.equal(set.take(), i);
});

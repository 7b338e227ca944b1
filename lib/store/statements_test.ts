import assert from "node:assert/strict";
import { deleteAttempts, mergeRows } from "./statements.ts";

Deno.test("mergeRows() turns same-SQL single-row inserts into chunked multi-row statements", () => {
  const sql = "INSERT INTO t (a, b) VALUES (?, ?) ON CONFLICT (a) DO UPDATE SET b = excluded.b";
  const rows = Array.from({ length: 40_000 }, (_, i) => ({ sql, args: [i, `v${i}`] }));
  const merged = mergeRows(rows);
  assert.equal(merged.length, 3, "30 000 parameters per statement: 15 000 rows of 2");
  const [first] = merged;
  assert.ok(first && typeof first !== "string" && Array.isArray(first.args));
  assert.equal(first.args.length, 30_000);
  assert.ok(first.sql.startsWith("INSERT INTO t (a, b) VALUES (?, ?), (?, ?), "));
  assert.ok(first.sql.endsWith(") ON CONFLICT (a) DO UPDATE SET b = excluded.b"));
  const args = merged.flatMap((s) => (typeof s === "string" ? [] : s.args as unknown[]));
  assert.deepEqual(args, rows.flatMap((r) => r.args), "every row, in order");
  assert.deepEqual(mergeRows(rows.slice(0, 1)), rows.slice(0, 1));
  assert.throws(() => mergeRows([rows[0]!, { sql: "INSERT INTO u (a) VALUES (?)", args: [1] }]));
});

Deno.test("deleteAttempts() names every task of the run", () => {
  assert.deepEqual(deleteAttempts("r1", ["a", "b"]), [{
    sql: "DELETE FROM attempts WHERE run_id = ? AND task_id IN (?, ?)",
    args: ["r1", "a", "b"],
  }]);
});

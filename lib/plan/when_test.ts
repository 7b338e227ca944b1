import assert from "node:assert/strict";
import { evaluateWhen, parseWhen, WhenSyntaxError, whenVars } from "./when.ts";

function run(
  source: string,
  values: Record<string, string>,
  statuses: string[] = ["success"],
): boolean {
  return evaluateWhen(parseWhen(source), {
    lookup: (n) => values[n],
    dependencyStatuses: statuses,
  });
}

Deno.test("parseWhen() accepts the reference form and compares rendered strings", () => {
  assert.equal(run("{{ build.status }} == success", { "build.status": "success" }), true);
  assert.equal(run("{{ build.status }}==failed", { "build.status": "success" }), false);
  assert.equal(run("{{ build.exit_code }} != 0", { "build.exit_code": "3" }), true);
  assert.equal(run("{{ a.status }} == soft_failed", { "a.status": "soft_failed" }), true);
});

Deno.test("evaluateWhen() combines and/or/not with parentheses and precedence", () => {
  const values = { "a.status": "success", "b.status": "failed" };
  assert.equal(run("{{ a.status }} == success and {{ b.status }} == success", values), false);
  assert.equal(run("{{ a.status }} == success or {{ b.status }} == success", values), true);
  assert.equal(run("not {{ b.status }} == success", values), true);
  // and binds tighter than or
  assert.equal(
    run(
      "{{ b.status }} == success and {{ a.status }} == failed or {{ a.status }} == success",
      values,
    ),
    true,
  );
  assert.equal(
    run(
      "{{ b.status }} == success and ({{ a.status }} == failed or {{ a.status }} == success)",
      values,
    ),
    false,
  );
});

Deno.test("evaluateWhen() compares quoted strings and numbers by value", () => {
  assert.equal(run("{{ a.exit_code }} == 0", { "a.exit_code": "0.0" }), true);
  assert.equal(run("{{ a.out }} == 'two words'", { "a.out": "two words" }), true);
  assert.equal(run('{{ a.out }} != "x"', { "a.out": "x" }), false);
});

Deno.test("evaluateWhen() implements success(), failure() and always() over direct dependencies", () => {
  assert.equal(run("success()", {}, ["success", "skipped", "soft_failed"]), true);
  assert.equal(run("success()", {}, ["success", "failed"]), false);
  assert.equal(run("failure()", {}, ["success", "failed"]), true);
  assert.equal(run("failure()", {}, ["success"]), false);
  assert.equal(run("always()", {}, ["failed"]), true);
  assert.equal(
    run("failure() or {{ a.status }} == success", { "a.status": "success" }, ["success"]),
    true,
  );
});

Deno.test("parseWhen() rejects malformed expressions with a column", () => {
  const cases: Array<[string, number]> = [
    ["", 1],
    ["{{ a.status }} ==", 18],
    ["({{ a.status }} == success", 27],
    ["{{ a.status }} == success and", 30],
    ["{{ a.status", 1],
    ["nope() == x", 1],
    ["a == 'unterminated", 6],
    ["a == b c", 8],
  ];
  for (const [source, column] of cases) {
    assert.throws(() => parseWhen(source), (error: unknown) => {
      assert.ok(error instanceof WhenSyntaxError, source);
      assert.equal(error.column, column, `column for ${JSON.stringify(source)}: ${error.message}`);
      return true;
    });
  }
});

Deno.test("whenVars() lists every variable an expression reads", () => {
  assert.deepEqual(
    whenVars(parseWhen("{{ a.status }} == x and not ({{ b.exit_code }} != 0 or success())")),
    [
      "a.status",
      "b.exit_code",
    ],
  );
});

import assert from "node:assert/strict";
import { join } from "node:path";
import { validateJsonSchema } from "./json_schema.ts";
import { evaluateOutputAssertion, findJsonValues } from "./output_assertions.ts";
import type { GateSubject } from "./types.ts";
import {
  evaluateWorkspaceAssertion,
  globToRegExp,
  workspaceAssertionIssues,
  workspaceAssertionProblem,
} from "./workspace_assertions.ts";

function subject(output: string, extra: Partial<GateSubject> = {}): GateSubject {
  return { output, costUsd: null, durationSec: 1.5, ...extra };
}

function passes(spec: Record<string, unknown>, output: string, extra: Partial<GateSubject> = {}) {
  return evaluateOutputAssertion(spec, subject(output, extra)).passed;
}

Deno.test("evaluateOutputAssertion() handles the promptfoo string assertions", () => {
  assert.equal(passes({ type: "contains", value: "OK" }, "all OK"), true);
  assert.equal(passes({ type: "contains", value: "ok" }, "all OK"), false);
  assert.equal(passes({ type: "icontains", value: "ok" }, "all OK"), true);
  assert.equal(passes({ type: "not-contains", value: "error" }, "all OK"), true);
  assert.equal(passes({ type: "not-icontains", value: "ERROR" }, "an error"), false);
  assert.equal(passes({ type: "equals", value: "done" }, " done\n"), true);
  assert.equal(passes({ type: "equals", value: { a: 1 } }, '{"a": 1}'), true);
  assert.equal(passes({ type: "starts-with", value: "PASS" }, "PASS 3/3"), true);
  assert.equal(passes({ type: "starts-with", value: "PASS" }, "FAIL"), false);
  assert.equal(passes({ type: "regex", value: "^\\d+ passed$", flags: "m" }, "x\n12 passed"), true);
  assert.equal(passes({ type: "regex", pattern: "passed" }, "3 passed"), true);
  assert.equal(passes({ type: "not-regex", value: "FAIL" }, "3 passed"), true);
  assert.equal(passes({ type: "contains-all", value: ["a", "b"] }, "a b"), true);
  assert.equal(passes({ type: "contains-all", value: ["a", "z"] }, "a b"), false);
  assert.equal(passes({ type: "contains-any", value: ["z", "b"] }, "a b"), true);
  assert.equal(passes({ type: "icontains-any", value: ["Z", "B"] }, "a b"), true);
  assert.equal(passes({ type: "word-count", value: { min: 2, max: 3 } }, "one two"), true);
  assert.equal(passes({ type: "word-count", value: 3 }, "one two"), false);
});

Deno.test("evaluateOutputAssertion() handles JSON assertions with and without schemas", () => {
  const schema = { type: "object", required: ["ok"], properties: { ok: { type: "boolean" } } };
  assert.equal(passes({ type: "is-json" }, '```json\n{"ok": true}\n```'), true);
  assert.equal(passes({ type: "is-json" }, 'result: {"ok": true}'), false);
  assert.equal(passes({ type: "is-json", value: schema }, '{"ok": "yes"}'), false);
  assert.equal(passes({ type: "contains-json" }, 'result: {"ok": true} done'), true);
  assert.equal(passes({ type: "contains-json", value: schema }, 'x {"a":1} {"ok": false}'), true);
  assert.equal(passes({ type: "contains-json" }, "no json { here"), false);
  assert.equal(passes({ type: "json-schema", value: schema }, 'x {"ok": true}'), true);
  assert.equal(passes({ type: "is-valid-json-schema", schema }, '{"ok": 1}'), false);
  assert.equal(passes({ type: "not-is-json" }, "plain"), true);
});

Deno.test("evaluateOutputAssertion() checks cost and latency thresholds", () => {
  assert.equal(passes({ type: "cost", threshold: 0.5 }, "", { costUsd: 0.2 }), true);
  assert.equal(passes({ type: "cost", threshold: 0.1 }, "", { costUsd: 0.2 }), false);
  assert.equal(passes({ type: "cost", threshold: 0.1 }, "", { costUsd: null }), true);
  assert.equal(passes({ type: "latency", threshold: 2000 }, "", { durationSec: 1.5 }), true);
  assert.equal(passes({ type: "latency", threshold: 1000 }, "", { durationSec: 1.5 }), false);
  assert.equal(passes({ type: "cost_under", value: 0.1 }, "", { costUsd: 0.2 }), false);
  assert.equal(passes({ type: "duration_under", value: 2 }, "", { durationSec: 1.5 }), true);
});

Deno.test("evaluateOutputAssertion() reports a bad spec as an error check", () => {
  const check = evaluateOutputAssertion({ type: "regex", value: "(" }, subject("x"));
  assert.equal(check.passed, false);
  assert.equal(check.error, true);
  assert.match(check.reason, /invalid regex/);
  assert.equal(evaluateOutputAssertion({ type: "nope" }, subject("x")).error, true);
});

Deno.test("findJsonValues() finds objects and arrays inside prose", () => {
  assert.deepEqual(findJsonValues('a {"x": "}"} b [1, 2] {bad'), [{ x: "}" }, [1, 2]]);
});

Deno.test("validateJsonSchema() reports problems with JSON pointers", () => {
  const schema = {
    type: "object",
    required: ["name", "tags"],
    additionalProperties: false,
    properties: {
      name: { type: "string", minLength: 2, pattern: "^[a-z]+$" },
      tags: { type: "array", items: { type: "string" }, uniqueItems: true, maxItems: 2 },
      n: { type: "integer", minimum: 1, exclusiveMaximum: 5 },
      kind: { enum: ["a", "b"] },
      ref: { $ref: "#/$defs/pos" },
    },
    $defs: { pos: { type: "number", exclusiveMinimum: 0 } },
  };
  assert.deepEqual(validateJsonSchema(schema, { name: "ab", tags: ["x"], n: 2, ref: 1 }), []);
  const problems = validateJsonSchema(schema, {
    name: "A",
    tags: ["x", "x", "y"],
    n: 5,
    kind: "c",
    ref: 0,
    extra: 1,
  });
  assert.ok(problems.some((p) => p.startsWith("/name: must have at least 2")), problems.join());
  assert.ok(problems.some((p) => p.startsWith("/name: must match")));
  assert.ok(problems.some((p) => p.startsWith("/tags: items must be unique")));
  assert.ok(problems.some((p) => p.startsWith("/tags: must have at most 2")));
  assert.ok(problems.some((p) => p.startsWith("/n: must be < 5")));
  assert.ok(problems.some((p) => p.startsWith("/kind: must be one of")));
  assert.ok(problems.some((p) => p.startsWith("/ref: must be > 0")));
  assert.ok(problems.some((p) => p.includes("'extra' is not allowed")));
  assert.deepEqual(validateJsonSchema({ oneOf: [{ type: "string" }, { type: "number" }] }, 1), []);
  assert.equal(validateJsonSchema({ not: { type: "null" } }, null).length, 1);
});

Deno.test("globToRegExp() supports **, *, ?, braces and classes", () => {
  assert.ok(globToRegExp("tests/**/*.py").test("tests/a/b/c_test.py"));
  assert.ok(globToRegExp("tests/**/*.py").test("tests/x.py"));
  assert.ok(!globToRegExp("tests/*.py").test("tests/a/x.py"));
  assert.ok(globToRegExp("{a,b}.txt").test("b.txt"));
  assert.ok(globToRegExp("file?.[ch]").test("file1.h"));
  assert.ok(!globToRegExp("*.md").test("a.md.bak"));
});

Deno.test("evaluateWorkspaceAssertion() checks files relative to the workdir", async () => {
  const dir = await Deno.makeTempDir({ prefix: "maestro-assert-" });
  try {
    await Deno.mkdir(join(dir, "src/deep"), { recursive: true });
    await Deno.writeTextFile(join(dir, "src/deep/app.ts"), "export const x = 1;\nx; x;\n");
    await Deno.writeTextFile(join(dir, ".gitignore"), ".env\nnode_modules\n");
    await Deno.writeTextFile(join(dir, "data.json"), '{"a": {"b": [10, {"c": null}]}}');
    await Deno.writeTextFile(
      join(dir, "package.json"),
      '{"dependencies": {"zod": "4"}, "devDependencies": {"vitest": "1"}}',
    );
    await Deno.writeTextFile(
      join(dir, "composer.json"),
      '{"require-dev": {"phpunit/phpunit": "9"}}',
    );
    const ok = (spec: Record<string, unknown>) => evaluateWorkspaceAssertion(spec, dir).passed;
    assert.equal(ok({ type: "glob_exists", glob: "src/**/*.ts" }), true);
    assert.equal(ok({ type: "glob_exists", glob: "tests/**/*.py" }), false);
    assert.equal(ok({ type: "file_contains", path: ".gitignore", pattern: ".env" }), true);
    assert.equal(ok({ type: "file_contains", path: "missing.txt", pattern: "x" }), false);
    assert.equal(ok({ type: "file_not_contains", path: ".gitignore", pattern: "!.env" }), true);
    assert.equal(ok({ type: "file_not_contains", path: ".gitignore", pattern: ".env" }), false);
    const count = { type: "file_contains_count", path: "src/deep/app.ts", pattern: "x;" };
    assert.equal(ok({ ...count, count: 2 }), true);
    assert.equal(ok({ ...count, count: 3 }), false);
    assert.equal(ok({ ...count, min: 2 }), true);
    assert.equal(
      ok({ type: "file_regex", path: "src/deep/app.ts", pattern: "^export const" }),
      true,
    );
    assert.equal(ok({ type: "file_regex_absent", path: "src/deep/app.ts", pattern: "TODO" }), true);
    assert.equal(ok({ type: "file_regex_absent", path: ".", pattern: "\\.(env|pem)$" }), true);
    await Deno.writeTextFile(join(dir, "prod.pem"), "secret");
    assert.equal(ok({ type: "file_regex_absent", path: ".", pattern: "\\.(env|pem)$" }), false);
    assert.equal(
      ok({ type: "json_path_exists", path: "data.json", json_path: "$.a.b[1].c" }),
      true,
    );
    assert.equal(ok({ type: "json_path_exists", path: "data.json", json_path: "a.b.2" }), false);
    assert.equal(ok({ type: "npm_package_present", package: "vitest" }), true);
    assert.equal(ok({ type: "npm_package_present", package: "react" }), false);
    assert.equal(ok({ type: "composer_package_present", package: "phpunit/phpunit" }), true);
    const failed = evaluateWorkspaceAssertion(
      { type: "glob_exists", glob: "*.md", message: "No README", severity: "warning", rule: "BL5" },
      dir,
    );
    assert.equal(failed.passed, false);
    assert.equal(failed.severity, "warning");
    assert.equal(failed.name, "BL5 glob_exists");
    assert.match(failed.reason, /^No README: no file matches \*\.md/);
    assert.equal(evaluateWorkspaceAssertion({ type: "file_contains" }, dir).error, true);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("workspace assertions: a severity that is not error/warning/info is E018 with a suggestion", () => {
  const spec = { type: "glob_exists", glob: "x-*" };
  for (const severity of ["error", "warning", "info", undefined, null]) {
    assert.equal(workspaceAssertionProblem({ ...spec, severity }), undefined, String(severity));
    assert.deepEqual(workspaceAssertionIssues({ ...spec, severity }), []);
  }
  const cases: Array<[unknown, RegExp]> = [
    ["warn", /did you mean "warning"\?/],
    ["Info", /did you mean "info"\?/],
    ["eror", /did you mean "error"\?/],
    ["fatal", /^use error, warning, info/],
    [2, /^use error, warning, info/],
  ];
  for (const [severity, hint] of cases) {
    const problem = workspaceAssertionProblem({ ...spec, severity });
    assert.match(
      problem ?? "",
      /^severity .* is not one of error, warning, info/,
      String(severity),
    );
    const issues = workspaceAssertionIssues({ ...spec, severity });
    assert.deepEqual(issues.map((i) => [i.code, i.key]), [["E018", "severity"]]);
    assert.match(issues[0]!.hint, hint);
  }
});

Deno.test("evaluateWorkspaceAssertion() never takes an arbitrary string for a severity", () => {
  const check = evaluateWorkspaceAssertion(
    { type: "glob_exists", glob: "x-*", severity: "warn" },
    Deno.cwd(),
  );
  assert.equal(check.severity, "error");
  assert.equal(check.error, true);
  assert.equal(check.passed, false);
  assert.match(check.reason, /severity "warn"/);
});

Deno.test("workspaceAssertionIssues() reports keys the type does not read as W01", () => {
  const issues = workspaceAssertionIssues({
    type: "glob_exists",
    glob: "x-*",
    severty: "warning",
    banana: 1,
  });
  assert.deepEqual(issues.map((i) => [i.code, i.key]), [["W01", "severty"], ["W01", "banana"]]);
  assert.match(issues[0]!.message, /unknown key "severty" in a glob_exists assertion is ignored$/);
  assert.equal(issues[0]!.hint, 'did you mean "severity"?');
  assert.match(issues[1]!.hint, /glob_exists reads type, message, severity, rule, glob/);
  // an unknown key is a warning, not a reason the entry cannot be evaluated
  assert.equal(
    workspaceAssertionProblem({ type: "glob_exists", glob: "x", severty: "x" }),
    undefined,
  );
  // a key read by another type is still unknown to this one; an unknown type is E018 only
  assert.deepEqual(
    workspaceAssertionIssues({ type: "file_contains", path: "a", pattern: "b", count: 2 })
      .map((i) => [i.code, i.key]),
    [["W01", "count"]],
  );
  const typo = workspaceAssertionIssues({ type: "glob_exist", glob: "x", colour: 1 });
  assert.deepEqual(typo.map((i) => [i.code, i.key]), [["E018", "type"]]);
  assert.equal(typo[0]!.hint, 'did you mean "glob_exists"?');
});

Deno.test("glob_exists matches absolute and ../ globs, and literal paths by a stat", async () => {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "maestro-assert-glob-" }));
  try {
    await Deno.mkdir(join(dir, "gw/src"), { recursive: true });
    await Deno.mkdir(join(dir, "gw/node_modules/pkg"), { recursive: true });
    await Deno.writeTextFile(join(dir, "gw/src/a.ts"), "");
    await Deno.writeTextFile(join(dir, "gw/node_modules/pkg/package.json"), "{}");
    const gw = join(dir, "gw");
    const src = join(gw, "src");
    const check = (glob: string, workdir = gw) =>
      evaluateWorkspaceAssertion({ type: "glob_exists", glob }, workdir);
    const absolute = check(`${dir}/gw/src/*.ts`);
    assert.equal(absolute.passed, true, absolute.reason);
    assert.equal(absolute.reason, `${dir}/gw/src/*.ts matches ${dir}/gw/src/a.ts`);
    const up = check("../src/*.ts", src);
    assert.equal(up.passed, true, up.reason);
    assert.equal(up.reason, "../src/*.ts matches ../src/a.ts");
    assert.equal(check("../src/*.js", src).passed, false);
    assert.equal(check(`${dir}/gw/src/*.js`).passed, false);
    assert.equal(check("node_modules/pkg/package.json").passed, true, "a stat, not the walk");
    assert.equal(check("node_modules/pkg/*.json").passed, true, "the walk starts below it");
    assert.equal(check("**/package.json").passed, false, "the walk still skips node_modules");
    assert.equal(check("src").passed, true, "a folder named literally exists");
    assert.equal(check("./src/a.ts").passed, true);
    assert.equal(check("src/b.ts").passed, false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("evaluateWorkspaceAssertion(): dangling symlinks match no glob, a folder is no file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(join(dir, "out"));
    await Deno.symlink("/nonexistent/report.txt", join(dir, "out", "report.txt"));
    const check = (spec: Record<string, unknown>) => evaluateWorkspaceAssertion(spec, dir);
    assert.equal(check({ type: "glob_exists", glob: "out/*.txt" }).passed, false);
    await Deno.writeTextFile(join(dir, "out", "real.txt"), "x");
    await Deno.symlink(join(dir, "out", "real.txt"), join(dir, "out", "link.txt"));
    assert.equal(check({ type: "glob_exists", glob: "out/link*" }).passed, true);
    await Deno.mkdir(join(dir, "src"));
    await Deno.writeTextFile(join(dir, "src", "TODO"), "");
    const folder = check({ type: "file_not_contains", path: "src", pattern: "TODO" });
    assert.deepEqual([folder.passed, folder.reason], [false, "src is a folder, not a file"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("evaluateWorkspaceAssertion() masks a matched secret before it shortens it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const secret = "s3cr3t-".repeat(12);
    await Deno.writeTextFile(join(dir, "config.env"), `TOKEN=${secret}\n`);
    const check = evaluateWorkspaceAssertion(
      { type: "file_regex_absent", path: "config.env", pattern: "TOKEN=.+" },
      dir,
      (text) => text.replaceAll(secret, "***"),
    );
    assert.equal(check.reason, 'config.env matches /TOKEN=.+/: "TOKEN=***"');
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

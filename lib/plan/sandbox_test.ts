/**
 * The sandbox's own rules, with plan modules written to temporary folders: imports stay in the
 * plan's folder, nothing quoted from other files is shown, NaN and Infinity are errors, every
 * denied permission is E083, and any folder name works.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PlanIssue } from "../errors.ts";
import {
  childErrors,
  evaluatePlanModule,
  foreignImports,
  type ModuleGraph,
  type SandboxResult,
} from "./sandbox.ts";
import { serialise } from "./sandbox_child.ts";

const BUILDER = new URL("./builder.ts", import.meta.url).href;
const SECRET = "abc123";

/** A temporary folder holding `files` (paths relative to it); removed after `fn`. */
async function withFiles(
  files: Record<string, string>,
  fn: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "maestro-sandbox-"));
  try {
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(join(dir, name, ".."), { recursive: true });
      writeFileSync(join(dir, name), text);
    }
    await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function onlyErrors(result: SandboxResult): PlanIssue[] {
  assert.equal(result.data, undefined);
  assert.ok(result.errors.length > 0, "the module is refused");
  return result.errors;
}

/** Writes `text` to `file`, creating its folder. */
function write(file: string, text: string): void {
  mkdirSync(join(file, ".."), { recursive: true });
  writeFileSync(file, text);
}

const PLAN_TAIL = 'import { plan } from "jsr:@maestro/core";\n' +
  'export default plan({ name: "x" }).task("a", { command: "echo" });\n';

for (const check of [true, false]) {
  Deno.test(`a plan module may not import a file outside its folder (check: ${check})`, async () => {
    await withFiles({ "secret/.env": `API_KEY=${SECRET}\n` }, async (dir) => {
      const file = join(dir, "plan/st.ts");
      write(file, `import "${dir}/secret/.env";\n${PLAN_TAIL}`);
      const errors = onlyErrors(await evaluatePlanModule(file, { check }));
      assert.equal(errors.length, 1, JSON.stringify(errors));
      const [error] = errors;
      assert.equal(error!.code, "E083");
      assert.match(error!.message, /imports .*secret\/\.env.*outside the plan's folder/);
      assert.deepEqual([error!.file, error!.line, error!.column], [file, 1, 8]);
      assert.ok(error!.hint);
      const shown = JSON.stringify(errors);
      assert.ok(!shown.includes(SECRET) && !shown.includes("API_KEY"), shown);
    });
  });
}

Deno.test("type-only imports and @ts-types files outside the folder are refused too", async () => {
  await withFiles({
    "secret/x.d.ts": `declare const ${SECRET}: 1;\n`,
    "secret/y.d.ts": `export declare const ${SECRET}: 1;\n`,
    "plan/own.js": "export const own = 1;\n",
  }, async (dir) => {
    const file = join(dir, "plan/st.ts");
    write(
      file,
      `/// <reference path="${dir}/secret/x.d.ts" />\n` +
        `// @ts-types="${dir}/secret/y.d.ts"\nimport * as own from "./own.js";\n` +
        `console.log(own);\n${PLAN_TAIL}`,
    );
    const errors = onlyErrors(await evaluatePlanModule(file));
    assert.deepEqual(errors.map((e) => [e.code, e.line, e.message.split(",")[0]]), [
      ["E083", 1, `plan module imports ${dir}/secret/x.d.ts`],
      ["E083", 2, `plan module imports ${dir}/secret/y.d.ts`],
    ]);
    assert.ok(!JSON.stringify(errors).includes(SECRET));
  });
});

Deno.test("a symlink in the plan's folder to a file outside it is refused", async () => {
  await withFiles({ "secret/s.ts": `export const s = "${SECRET}";\n` }, async (dir) => {
    mkdirSync(join(dir, "plan"));
    symlinkSync(join(dir, "secret/s.ts"), join(dir, "plan/link.ts"));
    const file = join(dir, "plan/st.ts");
    writeFileSync(file, `import { s } from "./link.ts";\nconsole.log(s);\n${PLAN_TAIL}`);
    const [error] = onlyErrors(await evaluatePlanModule(file, { check: false }));
    assert.equal(error!.code, "E083");
    assert.match(error!.message, /plan\/link\.ts \(a link to .*secret\/s\.ts\)/);
  });
});

Deno.test("a type error in a module of the plan's folder keeps its file and position", async () => {
  await withFiles({
    "plan/helper.ts": "export const n: number = 1;\nexport const s: string = n;\n",
  }, async (dir) => {
    const file = join(dir, "plan/st.ts");
    writeFileSync(file, `import { s } from "./helper.ts";\nconsole.log(s);\n${PLAN_TAIL}`);
    const [error] = onlyErrors(await evaluatePlanModule(file));
    assert.equal(error!.code, "E082");
    assert.match(error!.message, /TS2322.*not assignable to type 'string'/);
    assert.deepEqual([error!.file, error!.line, error!.column], [
      join(dir, "plan/helper.ts"),
      2,
      14,
    ]);
  });
});

Deno.test("foreignImports() allows the folder, @maestro/core, npm: and node:, and follows data:", () => {
  const span = (line: number) => ({ start: { line, character: 7 } });
  const graph: ModuleGraph = {
    roots: ["file:///p/plan.ts"],
    modules: [
      {
        specifier: "file:///p/plan.ts",
        dependencies: [
          { specifier: "./a.ts", code: { specifier: "file:///p/a.ts", span: span(0) } },
          { specifier: "@maestro/core", code: { specifier: BUILDER, span: span(1) } },
          { specifier: "yaml", code: { specifier: "npm:yaml@^2", span: span(2) } },
          { specifier: "node:os", code: { specifier: "node:os", span: span(3) } },
          { specifier: "data:x", code: { specifier: "data:x", span: span(4) } },
        ],
      },
      {
        specifier: "file:///p/a.ts",
        dependencies: [{
          specifier: "/etc/t.ts",
          type: { specifier: "file:///etc/t.ts", span: span(5) },
        }],
      },
      {
        specifier: "data:x",
        dependencies: [{
          specifier: "/etc/d.ts",
          code: { specifier: "file:///etc/d.ts", span: span(0) },
        }],
      },
      // what the builder imports is Maestro's business, not the plan's
      {
        specifier: BUILDER,
        dependencies: [{ specifier: "/etc/b.ts", code: { specifier: "file:///etc/b.ts" } }],
      },
    ],
  };
  const issues = foreignImports(graph, "/p", (path) => path);
  assert.deepEqual(
    issues.map((i) => [i.code, i.file, i.line, i.column, i.message.split(",")[0]]),
    [
      ["E083", "/p/a.ts", 6, 8, "plan module imports /etc/t.ts"],
      ["E083", "/p/plan.ts", 5, 8, "plan module imports /etc/d.ts"],
    ],
  );
  // a folder that only shares a prefix with the plan's is outside it
  const sibling = foreignImports(
    {
      roots: ["file:///p/plan.ts"],
      modules: [{
        specifier: "file:///p/plan.ts",
        dependencies: [{
          specifier: "../p2/x.ts",
          code: { specifier: "file:///p2/x.ts", span: span(0) },
        }],
      }],
    },
    "/p",
    (path) => path,
  );
  assert.equal(sibling.length, 1);
});

Deno.test("childErrors() never shows a diagnostic located outside the plan's folder", () => {
  const stderr = [
    "TS2304 [ERROR]: Cannot find name 'mine'.",
    "mine;",
    "~~~~",
    "    at file:///p/plan.ts:3:1",
    "",
    `TS2304 [ERROR]: Cannot find name '${SECRET}'.`,
    `API_KEY=${SECRET}`,
    "        ~~~~~~",
    "    at file:///etc/.env:1:9",
    "",
    "error: Type checking failed.",
  ].join("\n");
  const issues = childErrors("/p/plan.ts", stderr, 1);
  assert.deepEqual(issues.map((i) => [i.code, i.file, i.line, i.column]), [
    ["E082", "/p/plan.ts", 3, 1],
    ["E082", "/p/plan.ts", 0, 0],
  ]);
  assert.match(issues[0]!.message, /'mine'/);
  assert.match(issues[1]!.message, /TS2304 in \/etc\/\.env:1:9, outside the plan's folder/);
  assert.ok(!JSON.stringify(issues).includes(SECRET));

  const parse = childErrors(
    "/p/plan.ts",
    `error: The module's source code could not be parsed: Expected ';', got '${SECRET}' at file:///etc/x.ts:2:9\n\n  ${SECRET}\n`,
    1,
  );
  assert.equal(parse.length, 1);
  assert.match(parse[0]!.message, /\/etc\/x\.ts, outside the plan's folder/);
  assert.ok(!JSON.stringify(parse).includes(SECRET));

  const crash = childErrors("/p/plan.ts", `${SECRET}\n    at file:///etc/x.ts:1:1\n`, 134);
  assert.ok(!JSON.stringify(crash).includes(SECRET));
});

Deno.test("NaN and Infinity in a TS plan are E018 at the plan and at the task", async () => {
  await withFiles({
    "plan.ts": 'import { plan } from "jsr:@maestro/core";\n' +
      'export default plan({ name: "x", maxCostUsd: Number("12,50") })\n' +
      '  .task("a", { command: "echo", timeoutSec: Infinity });\n',
  }, async (dir) => {
    const file = join(dir, "plan.ts");
    const errors = onlyErrors(await evaluatePlanModule(file, { check: false }));
    assert.deepEqual(errors.map((e) => [e.code, e.file, e.line, e.column]), [
      ["E018", file, 2, 16],
      ["E018", file, 3, 4],
    ]);
    assert.match(errors[0]!.message, /^max_cost_usd is NaN: .*not NaN or Infinity/);
    assert.match(errors[1]!.message, /^tasks\[0\]\.timeout_sec is Infinity/);
    assert.ok(errors.every((e) => e.hint));
  });
});

Deno.test("serialise() finds non-finite numbers at their paths, after toJSON, in the plan only", () => {
  const plan = {
    max_cost_usd: -Infinity,
    tasks: [{ id: "a" }, { id: "b", env: { toJSON: () => ({ N: NaN }) } }],
  };
  const { text, numbers } = serialise({ ok: true, plan, sites: { plan: [], tasks: [] } });
  assert.deepEqual(numbers, [
    { path: ["max_cost_usd"], value: "-Infinity" },
    { path: ["tasks", 1, "env", "N"], value: "NaN" },
  ]);
  assert.equal(JSON.parse(text).plan.max_cost_usd, null, "the text is what JSON.stringify writes");
});

Deno.test("a subprocess through node:child_process is E083 at the call", async () => {
  await withFiles({
    "plan.ts": 'import { execSync } from "node:child_process";\n' +
      'import { plan } from "jsr:@maestro/core";\n' +
      'execSync("id");\n' +
      'export default plan({ name: "x" }).task("a", { command: "echo" });\n',
  }, async (dir) => {
    const [error] = onlyErrors(await evaluatePlanModule(join(dir, "plan.ts"), { check: false }));
    assert.equal(error!.code, "E083");
    assert.match(error!.message, /tried to start a subprocess \(node:child_process\)/);
    assert.deepEqual([error!.line, error!.column], [3, 1]);
  });
});

Deno.test("childErrors() makes every uncaught NotCapable E083, whatever its message", () => {
  const cases: Array<[string, RegExp]> = [
    ["error: Uncaught (in promise) NotCapable: Requires env access", /read environment variables/],
    [
      'error: Uncaught NotCapable: Requires sys access to "hostname", run again with the --allow-sys flag',
      /read system information \("hostname"\)/,
    ],
    ["error: Uncaught (in promise) NotCapable: a new wording", /forbids \(a new wording\)/],
    [
      "error: Uncaught (in promise) Error: wrapped\n    at file:///p/plan.ts:2:3\n" +
      'Caused by: NotCapable: Requires net access to "x:80", run again with the --allow-net flag',
      /use the network \("x:80"\)/,
    ],
  ];
  for (const [stderr, message] of cases) {
    const [issue] = childErrors("/p/plan.ts", `${stderr}\n    at file:///p/plan.ts:2:3\n`, 1);
    assert.equal(issue!.code, "E083", stderr);
    assert.match(issue!.message, message);
    assert.deepEqual([issue!.line, issue!.column], [2, 3]);
  }
});

Deno.test("a plan in a folder whose name holds a comma reads its own files, and only them", async () => {
  await withFiles({
    "a/secret.txt": SECRET,
    "a,b/names.txt": "ada\ngrace\n",
    "a,b/plan.ts": 'import { plan } from "jsr:@maestro/core";\n' +
      'const names = Deno.readTextFileSync(new URL("./names.txt", import.meta.url)).trim();\n' +
      'export default plan({ name: names.split("\\n").join("-") }).task("a", { command: "x" });\n',
    // Deno splits --allow-read on commas: "<dir>/a,b" would have allowed "<dir>/a"
    "a,b/peek.ts": 'import { plan } from "jsr:@maestro/core";\n' +
      'const s = Deno.readTextFileSync(new URL("../a/secret.txt", import.meta.url));\n' +
      'export default plan({ name: s }).task("a", { command: "x" });\n',
  }, async (dir) => {
    const good = await evaluatePlanModule(join(dir, "a,b/plan.ts"), { check: false });
    assert.deepEqual(good.errors, []);
    assert.equal((good.data as { name: string }).name, "ada-grace");
    const [error] = onlyErrors(
      await evaluatePlanModule(join(dir, "a,b/peek.ts"), { check: false }),
    );
    assert.equal(error!.code, "E083");
    assert.match(error!.message, /tried to read .*a\/secret\.txt/);
  });
});

Deno.test("childErrors() names an out-of-memory crash instead of quoting V8's C stack", () => {
  const stderr = [
    "",
    "<--- Last few GCs --->",
    "[4242:0x55d0]     3912 ms: Mark-Compact 509.1 (523.2) -> 508.9 (523.4) MB",
    "",
    "#",
    "# Fatal JavaScript out of memory: Reached heap limit",
    "#",
    "# ==== C stack trace ===============================",
    "#    /usr/local/bin/deno(+0x28b0d2e) [0x55d0a8]",
  ].join("\n");
  const [issue, ...rest] = childErrors("/p/plan.ts", stderr, 133);
  assert.deepEqual(rest, []);
  assert.equal(issue!.code, "E082");
  assert.equal(issue!.message, "plan module ran out of memory (plan modules get a 512 MB heap)");
  assert.doesNotMatch(issue!.message + (issue!.hint ?? ""), /stack|0x/);
});

import assert from "node:assert/strict";
import { join } from "node:path";
import { tempPlanDir } from "../../tests/helpers.ts";
import { MaestroError } from "../errors.ts";
import type { TaskIR } from "../plan/ir.ts";
import {
  customEngineModules,
  engineShapeProblems,
  importEngine,
  withCustomEngines,
} from "./custom_engines.ts";
import { builtinEngines } from "./engine_executor.ts";

const GOOD = `export const engine = {
  name: "echoer",
  binary: "echo",
  build: () => ({ argv: ["echo"], env: {}, warnings: [] }),
  parser: () => ({ push() {}, finish: () => ({}) }),
  parse: () => ({}),
  classify: () => "unknown",
};
`;

function task(id: string, engine: string, module?: string): TaskIR {
  return { id, kind: "engine", engine, ...(module ? { engine_module: module } : {}) } as TaskIR;
}

async function rejection(promise: Promise<unknown>): Promise<MaestroError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof MaestroError, String(error));
    return error;
  }
  throw new Error("expected a rejection");
}

Deno.test("engineShapeProblems() names every missing or mistyped member", () => {
  assert.deepEqual(engineShapeProblems(null), ["it is null, not an object"]);
  assert.deepEqual(engineShapeProblems({ name: "x", binary: "", build() {}, altBinaries: "y" }), [
    "binary must be a non-empty string",
    "parser() is missing",
    "parse() is missing",
    "classify() is missing",
    "altBinaries must be a list of strings",
  ]);
  assert.deepEqual(engineShapeProblems(builtinEngines("claude")), []);
});

Deno.test("importEngine() takes the default export, else the export named engine", async () => {
  const dir = tempPlanDir({ "named.ts": GOOD, "default.ts": `${GOOD}export default engine;\n` });
  assert.equal((await importEngine("a", join(dir, "named.ts"))).name, "echoer");
  assert.equal((await importEngine("b", join(dir, "default.ts"))).binary, "echo");
});

Deno.test("importEngine() fails with E102 and a hint for modules that export no engine", async () => {
  const dir = tempPlanDir({
    "none.ts": "export const other = 1;\n",
    "half.ts": 'export default { name: "x", binary: "x", build() {} };\n',
    "throws.ts": 'throw new Error("broken at load");\n',
  });
  const none = await rejection(importEngine("mine", join(dir, "none.ts")));
  assert.equal(none.code, "E102");
  assert.equal(none.exitCode, 2);
  assert.match(
    none.message,
    /custom engine "mine": .*none\.ts exports no engine: .*\(it exports other\)/,
  );
  assert.match(none.hint!, /default export/);
  const half = await rejection(importEngine("mine", join(dir, "half.ts")));
  assert.match(
    half.message,
    /does not export an engine: parser\(\) is missing; parse\(\) is missing/,
  );
  const thrown = await rejection(importEngine("mine", join(dir, "throws.ts")));
  assert.match(thrown.message, /cannot import .*throws\.ts: .*broken at load/);
});

Deno.test("withCustomEngines() puts the plan's engines in front of the base registry", async () => {
  const dir = tempPlanDir({ "echoer.ts": GOOD });
  const module = join(dir, "echoer.ts");
  const registry = await withCustomEngines(
    [task("a", "mine", module), task("b", "claude")],
    builtinEngines,
  );
  assert.equal(registry("mine")?.name, "echoer");
  assert.equal(registry("claude"), builtinEngines("claude"));
  assert.equal(registry("nope"), undefined);
  assert.equal(await withCustomEngines([task("b", "claude")], builtinEngines), builtinEngines);
});

Deno.test("customEngineModules() rejects one name standing for two modules", () => {
  assert.throws(
    () => customEngineModules([task("a", "mine", "/x/a.ts"), task("b", "mine", "/x/b.ts")]),
    /custom engine "mine": declared with two modules/,
  );
});

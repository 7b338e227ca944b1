/**
 * The TypeScript writer: what it writes must load back, through the sandbox and its type
 * check, as the same data, for keys that JavaScript treats specially and for plans of any size.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { evaluatePlanModule, type SandboxResult } from "./sandbox.ts";
import {
  authoredToCheckedTypeScript,
  authoredToTypeScript,
  CHAIN_LENGTH,
  PLAIN_OBJECT_TASKS,
} from "./to_typescript.ts";

/** Loads generated module text through the sandbox, from a temporary folder. */
async function load(text: string, check: boolean): Promise<SandboxResult> {
  const dir = mkdtempSync(join(tmpdir(), "maestro-to-ts-"));
  try {
    writeFileSync(join(dir, "plan.ts"), text);
    return await evaluatePlanModule(join(dir, "plan.ts"), { check });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A plan of `count` shell tasks, each (but every seventh) depending on the one before. */
function chainPlan(count: number): Record<string, unknown> {
  const tasks = Array.from({ length: count }, (_, i) => ({
    id: `t${i}`,
    command: `echo ${i}`,
    ...(i % 7 === 0 ? {} : { depends_on: [`t${i - 1}`] }),
  }));
  return { name: "long", tasks };
}

Deno.test("the TS writer keeps __proto__ keys of user-keyed maps as computed keys", async () => {
  // JSON.parse makes __proto__ an own key, as the YAML reader does
  const data = JSON.parse(`{
    "name": "proto",
    "defaults": { "env": { "__proto__": "d" } },
    "tasks": [
      { "id": "a", "command": "echo", "env": { "__proto__": "y", "OTHER": "z" } },
      { "id": "b", "command": "echo", "matrix": { "__proto__": [1, 2] } }
    ]
  }`);
  const text = authoredToTypeScript(data);
  assert.match(text, /env: \{ \["__proto__"\]: "y", OTHER: "z" \}/);
  assert.match(text, /matrix: \{ \["__proto__"\]: \[1, 2\] \}/);
  const back = await load(text, false);
  assert.deepEqual(back.errors, []);
  assert.equal(JSON.stringify(back.data), JSON.stringify(data));
});

Deno.test(`the TS writer keeps a plan of up to ${CHAIN_LENGTH} tasks in one chain`, () => {
  const text = authoredToTypeScript(chainPlan(CHAIN_LENGTH));
  assert.doesNotMatch(text, /const part/);
  assert.match(text, /^export default plan\(\{ name: "long" \}\)\n {2}\.task\("t0"/m);
  assert.equal(text.match(/\.task\(/g)!.length, CHAIN_LENGTH);
});

Deno.test("the TS writer splits a long plan into parts that TypeScript can check", async () => {
  const data = chainPlan(700);
  // t0 names a task of the last part: the .declare must cover every part
  (data.tasks as Array<Record<string, unknown>>)[0]!.depends_on = ["t650"];
  const text = authoredToTypeScript(data);
  assert.match(text, /^const part1 = plan\(\{ name: "long" \}\)\n {2}\.declare\("t650"\)\n/m);
  assert.match(text, /^const part2 = part1\n {2}\.task\("t100"/m);
  assert.match(text, /^export default part6\n {2}\.task\("t600"/m);
  const back = await load(text, true);
  assert.deepEqual(back.errors, []);
  assert.equal(JSON.stringify(back.data), JSON.stringify(data));
});

Deno.test(`from ${PLAIN_OBJECT_TASKS} tasks the TS writer writes the plan as plain data`, async () => {
  const data = chainPlan(PLAIN_OBJECT_TASKS);
  const text = authoredToTypeScript(data, "big.yaml");
  assert.doesNotMatch(text, /\.task\(/);
  assert.match(text, /^export default \{\n {2}"name": "long",/m);
  assert.match(text, /\} satisfies AuthoredPlan;\n$/);
  const back = await load(text, true);
  assert.deepEqual(back.errors, []);
  assert.equal(JSON.stringify(back.data), JSON.stringify(data));
  // a "__proto__" key would set the object's prototype: such a plan keeps builder calls
  const tricky = chainPlan(PLAIN_OBJECT_TASKS);
  (tricky.tasks as Array<Record<string, unknown>>)[0]!.env = JSON.parse('{"__proto__": "x"}');
  assert.match(authoredToTypeScript(tricky), /\.task\("t0"/);
});

Deno.test("authoredToCheckedTypeScript() gives the text when it loads back as the same data", async () => {
  const data = chainPlan(3);
  assert.equal(
    await authoredToCheckedTypeScript(data, "x.yaml"),
    authoredToTypeScript(data, "x.yaml"),
  );
});

Deno.test("authoredToCheckedTypeScript() throws when the module does not give the data back", async () => {
  // NaN has no JSON form: the sandbox refuses it, so the round trip fails
  await assert.rejects(
    () => authoredToCheckedTypeScript({ ...chainPlan(1), max_cost_usd: NaN }),
    /did not round-trip this plan \(max_cost_usd is NaN/,
  );
});

/**
 * `maestro convert` is lossless: every example and every valid reference plan survives
 * YAML -> TS -> YAML with the same IR (provenance aside).
 */
import assert from "node:assert/strict";
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { withoutProvenance } from "./ir.ts";
import { loadPlan } from "./load.ts";
import { authoredToYaml, convertPlan, knownKeysOnly } from "./convert.ts";
import { authoredToTypeScript } from "./to_typescript.ts";

const EXAMPLES = resolve(import.meta.dirname!, "../../examples");
const REFERENCE = "/work/shared/reference/plans";
const VALID_REFERENCE_PLANS = [
  "advanced-features",
  "context-mode-demo",
  "context-passing",
  "demo_plan",
  "dynamic-group-demo",
  "risky_plan",
  "tui_demo",
  "windows-bash",
];

async function irJson(file: string): Promise<string> {
  const outcome = await loadPlan(file);
  assert.deepEqual(outcome.errors, [], `${file} should load`);
  return JSON.stringify(withoutProvenance(outcome.plan!.ir));
}

/** Copies a folder to a temp dir, so relative paths resolve the same and nothing is written
 * beside the originals. */
function copyFolder(folder: string): string {
  const dir = mkdtempSync(join(tmpdir(), "maestro-convert-"));
  cpSync(folder, dir, { recursive: true });
  return dir;
}

async function roundTrip(dir: string, name: string): Promise<void> {
  const yamlFile = join(dir, `${name}.yaml`);
  const original = await irJson(yamlFile);
  const toTs = await convertPlan(yamlFile, "ts");
  assert.deepEqual(toTs.errors, []);
  const tsFile = join(dir, `${name}.converted.ts`);
  writeFileSync(tsFile, toTs.text!);
  assert.equal(await irJson(tsFile), original, `${name}: the TS form lowers differently`);
  const toYaml = await convertPlan(tsFile, "yaml");
  assert.deepEqual(toYaml.errors, []);
  const backFile = join(dir, `${name}.converted.yaml`);
  writeFileSync(backFile, toYaml.text!);
  assert.equal(await irJson(backFile), original, `${name}: YAML -> TS -> YAML lowers differently`);
}

Deno.test("convert keeps the IR of every example through YAML -> TS -> YAML", async () => {
  const dir = copyFolder(EXAMPLES);
  try {
    // `*.eval.yaml` files are `maestro eval` specs, not plans
    const names = readdirSync(dir).filter((f) => f.endsWith(".yaml") && !f.endsWith(".eval.yaml"))
      .map((f) => f.slice(0, -5));
    assert.ok(names.length > 0, "examples/ has YAML plans");
    await Promise.all(names.map((name) => roundTrip(dir, name)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

Deno.test({
  name: "convert keeps every task field of the reference plans through YAML -> TS -> YAML",
  ignore: !existsSync(REFERENCE),
  async fn() {
    const dir = copyFolder(REFERENCE);
    try {
      await Promise.all(VALID_REFERENCE_PLANS.map((name) => roundTrip(dir, name)));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
});

Deno.test("convert refuses an invalid plan and reports its errors", async () => {
  const dir = mkdtempSync(join(tmpdir(), "maestro-convert-"));
  try {
    const file = join(dir, "bad.yaml");
    writeFileSync(file, "name: bad\ntasks:\n  - id: a\n    depends_on: [biuld]\n    command: x\n");
    const outcome = await convertPlan(file, "ts");
    assert.equal(outcome.text, undefined);
    assert.ok(outcome.errors.some((e) => e.code === "E005" && e.line === 4), "E005 at line 4");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

Deno.test("the TS writer declares ids that are named before their task is added", () => {
  const text = authoredToTypeScript({
    name: "order",
    tasks: [{ id: "a", depends_on: ["b"] }, { id: "b" }],
  });
  assert.match(text, /\.declare\("b"\)/);
  assert.match(text, /\.task\("a", \{ dependsOn: \["b"\] \}\)/);
  assert.match(text, /\.task\("b"\);\n$/);
});

Deno.test("the TS writer leaves user-keyed maps and free-form blocks as written", () => {
  const text = authoredToTypeScript({
    defaults: { env: { MY_VAR: "1" }, claude: { reasoning_effort: "high" } },
    tasks: [{
      id: "a",
      output_schema: { type: "object", required_keys: [] },
      judge: { on_fail: "warn" },
    }],
  });
  assert.match(text, /env: \{ MY_VAR: "1" \}/);
  assert.match(text, /claude: \{ reasoningEffort: "high" \}/);
  assert.match(text, /outputSchema: \{ type: "object", required_keys: \[\] \}/);
  assert.match(text, /judge: \{ on_fail: "warn" \}/);
});

Deno.test("the TS writer keeps multi-line text readable and exact", () => {
  const text = authoredToTypeScript({
    tasks: [{ id: "a", prompt: "one `two`\n${three} \\ four\n" }],
  });
  assert.ok(text.includes("prompt: `one \\`two\\`\n\\${three} \\\\ four\n`"), text);
});

Deno.test("convert drops unknown keys and anchor holders, which the loader ignores", () => {
  const data = knownKeysOnly({
    "x-common": { a: 1 },
    name: "p",
    nonsense: true,
    tasks: [{ id: "a", command: "x", typo_key: 1, judge: { preset: "p", bogus: 2 } }],
  });
  assert.deepEqual(data, { name: "p", tasks: [{ id: "a", command: "x", judge: { preset: "p" } }] });
});

Deno.test("the YAML writer quotes what YAML 1.1 would otherwise read as another type", () => {
  const data = { name: "yes", tasks: [{ id: "on", command: "0755", description: "12:30" }] };
  const text = authoredToYaml(data);
  assert.match(text, /name: "yes"/);
  assert.match(text, /id: "on"/);
});

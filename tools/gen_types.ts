/**
 * Generates lib/plan/authored_types.ts: explicit interfaces for the authored plan format,
 * written out from the zod schema in lib/plan/schema.ts.
 *
 * Why generate instead of exporting `z.input<typeof planSchema>`: JSR's fast check cannot
 * follow a type inferred from a value ("slow types"), so the public types must be spelled out.
 * Generating them keeps the zod schema the one source of truth; authored_types_test.ts
 * asserts the result is exactly `z.input<...>` and that the committed file is up to date.
 *
 * Run: `deno task gen-types` (writes the file) or `deno task gen-types --check` (exit 1 when
 * the committed file is stale).
 *
 * @module
 */
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { z } from "zod";
import { defaultsSchema, ENGINE_NAMES, planSchema, taskSchema } from "../lib/plan/schema.ts";

/** Where the generated file lives. */
export const AUTHORED_TYPES_PATH: string = fileURLToPath(
  new URL("../lib/plan/authored_types.ts", import.meta.url),
);

type Schema = z.core.$ZodType;

/** The parts of zod's internal definition objects the generator reads. */
interface Def {
  type: string;
  innerType?: Schema;
  element?: Schema;
  options?: readonly Schema[];
  entries?: Record<string, string | number>;
  values?: readonly unknown[];
  keyType?: Schema;
  valueType?: Schema;
  shape?: Record<string, Schema>;
}

function def(schema: Schema): Def {
  return schema._zod.def as unknown as Def;
}

/** Strips optional/nullable wrappers to reach the schema that carries the shape. */
function unwrap(schema: Schema): Schema {
  let current = schema;
  while (["optional", "nullable"].includes(def(current).type)) current = def(current).innerType!;
  return current;
}

function element(schema: Schema): Schema {
  return def(unwrap(schema)).element!;
}

/** Named object schemas, by identity: each becomes one exported interface. */
function namedSchemas(): Map<Schema, { name: string; doc: string }> {
  const shape = (s: Schema) => def(unwrap(s)).shape!;
  return new Map<Schema, { name: string; doc: string }>([
    [planSchema, { name: "AuthoredPlan", doc: "A whole plan as authored: the YAML document." }],
    [taskSchema, { name: "AuthoredTask", doc: "One task as authored (`tasks:` items)." }],
    [defaultsSchema, {
      name: "AuthoredDefaults",
      doc: "`defaults:` applied to every task of the plan.",
    }],
    [unwrap(shape(defaultsSchema).claude!), {
      name: "AuthoredEngineDefaults",
      doc: "Per-engine defaults under `defaults.<engine>`.",
    }],
    [unwrap(shape(taskSchema).judge!), {
      name: "AuthoredJudge",
      doc: "A task's `judge:` block (LLM judge settings).",
    }],
    [element(shape(planSchema).imports!), {
      name: "AuthoredImport",
      doc: "One `imports:` entry: a plan whose tasks are inlined under a prefix.",
    }],
    [unwrap(shape(planSchema).circuit_breaker!), {
      name: "AuthoredCircuitBreaker",
      doc: "`circuit_breaker:` settings of a plan.",
    }],
  ]);
}

function needsParens(text: string): boolean {
  let depth = 0;
  for (const ch of text) {
    if ("{([<".includes(ch)) depth++;
    else if ("})]>".includes(ch)) depth--;
    else if (ch === "|" && depth === 0) return true;
  }
  return false;
}

function printType(
  schema: Schema,
  names: Map<Schema, { name: string }>,
  indent: string,
): string {
  const named = names.get(schema);
  if (named) return named.name;
  const d = def(schema);
  switch (d.type) {
    case "string":
    case "number":
    case "boolean":
    case "unknown":
    case "null":
    case "undefined":
      return d.type;
    case "literal":
      return d.values!.map((v) => JSON.stringify(v)).join(" | ");
    case "enum":
      return Object.values(d.entries!).map((v) => JSON.stringify(v)).join(" | ");
    case "array": {
      const inner = printType(d.element!, names, indent);
      return needsParens(inner) ? `Array<${inner}>` : `${inner}[]`;
    }
    case "union":
      return d.options!.map((o) => printType(o, names, indent)).join(" | ");
    case "record":
      return `Record<${printType(d.keyType!, names, indent)}, ${
        printType(d.valueType!, names, indent)
      }>`;
    case "nullable":
      return `${printType(d.innerType!, names, indent)} | null`;
    case "optional":
      return `${printType(d.innerType!, names, indent)} | undefined`;
    case "object":
      return `{\n${printMembers(schema, names, indent + "  ")}${indent}}`;
    default:
      throw new Error(`gen_types: zod type "${d.type}" has no TypeScript rendering yet`);
  }
}

function printMembers(
  schema: Schema,
  names: Map<Schema, { name: string }>,
  indent: string,
): string {
  let out = "";
  for (const [key, member] of Object.entries(def(schema).shape!)) {
    const optional = def(member).type === "optional";
    const description = (member as { description?: string }).description;
    const doc = description ? `${description}. YAML: \`${key}\`` : `YAML: \`${key}\``;
    out += `${indent}/** ${doc}. */\n`;
    out += `${indent}${key}${optional ? "?" : ""}: ${printType(member, names, indent)};\n`;
  }
  return out;
}

/** The generated module's text, formatted with `deno fmt`. */
export async function generateAuthoredTypes(): Promise<string> {
  const names = namedSchemas();
  let text = `// Generated by tools/gen_types.ts from lib/plan/schema.ts: do not edit by hand.
// Run \`deno task gen-types\` after changing the schema.
/**
 * The authored plan format as explicit TypeScript interfaces (snake_case keys, as in YAML).
 * They are exactly \`z.input<typeof planSchema>\` (authored_types_test.ts proves it), spelled
 * out so that the published package has no slow types.
 *
 * @module
 */
`;
  text += `\n/** The name of a built-in engine (the keys of per-engine defaults). */
export type AuthoredEngineName = ${ENGINE_NAMES.map((n) => JSON.stringify(n)).join(" | ")};\n`;
  for (const [schema, { name, doc }] of names) {
    text += `\n/** ${doc} */\nexport interface ${name} {\n${printMembers(schema, names, "  ")}}\n`;
  }
  return await format(text);
}

async function format(text: string): Promise<string> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--line-width=100", "--ext=ts", "-"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const out = await child.output();
  if (!out.success) throw new Error(`deno fmt failed: ${new TextDecoder().decode(out.stderr)}`);
  return new TextDecoder().decode(out.stdout);
}

if (import.meta.main) {
  const text = await generateAuthoredTypes();
  let current = "";
  try {
    current = readFileSync(AUTHORED_TYPES_PATH, "utf8");
  } catch {
    // first generation
  }
  if (Deno.args.includes("--check")) {
    if (current !== text) {
      console.error(`${AUTHORED_TYPES_PATH} is stale: run \`deno task gen-types\``);
      Deno.exit(1);
    }
  } else if (current !== text) {
    const temp = `${AUTHORED_TYPES_PATH}.tmp-${Deno.pid}`;
    writeFileSync(temp, text);
    renameSync(temp, AUTHORED_TYPES_PATH);
    console.log(`wrote ${AUTHORED_TYPES_PATH}`);
  }
}

/**
 * Writes authored plan data (snake_case, as YAML holds it) as a TypeScript plan module that
 * uses the builder: `plan({...}).task("id", {...})`. Keys become camelCase exactly where the
 * builder expects them (plan, `defaults` and its engine blocks, tasks); every value is written
 * as it is, so evaluating the module gives back the same data.
 *
 * @module
 */
import { importLater } from "../import_later.ts";
import { join } from "../path.ts";
import { camelCase } from "./camel.ts";

/** Where the builder is imported from in generated modules. */
export const CORE_SPECIFIER = "jsr:@maestro/core";

const LINE_WIDTH = 100;
/**
 * Most `.task(` calls in one chain. TypeScript checks a call chain recursively, so one chain
 * of some hundreds of tasks overflows its stack ("Maximum call stack size exceeded"); longer
 * plans are built in parts, each a `const` that the next part continues.
 */
export const CHAIN_LENGTH = 100;
/**
 * From this many tasks on, the module is the plan as a plain object (`satisfies AuthoredPlan`)
 * instead of builder calls: the builder's id types grow with every task, and checking them
 * for thousands of tasks takes longer than the sandbox allows (20 000 tasks: over 60 s, against
 * ≈ 20 s for the object).
 */
export const PLAIN_OBJECT_TASKS = 1000;
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
/** Control characters other than newline: text holding them stays a JSON-style string. */
// deno-lint-ignore no-control-regex
const OTHER_CONTROL = /[\r\u0000-\u0009\u000b-\u001f\u2028\u2029]/;

type Data = Record<string, unknown>;

function isRecord(value: unknown): value is Data {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * A property name for an object literal. `__proto__` must be computed: `__proto__: v` and even
 * `"__proto__": v` set the object's prototype instead of adding the key.
 */
function propertyKey(name: string): string {
  if (name === "__proto__") return `[${JSON.stringify(name)}]`;
  return IDENTIFIER.test(name) ? name : JSON.stringify(name);
}

function scalar(value: unknown): string {
  if (typeof value === "number") {
    if (Number.isNaN(value)) return "NaN";
    if (!Number.isFinite(value)) return value > 0 ? "Infinity" : "-Infinity";
    return Object.is(value, -0) ? "-0" : String(value);
  }
  if (value === undefined) return "undefined";
  // multi-line text reads best as a template literal (CR would be normalised away in one)
  if (
    typeof value === "string" && value.includes("\n") &&
    !OTHER_CONTROL.test(value)
  ) {
    return `\`${value.replace(/[\\`]|\$\{/g, (m) => `\\${m}`)}\``;
  }
  return JSON.stringify(value);
}

/** A value as a TS expression; inline when it fits the line, one entry per line otherwise. */
function literal(value: unknown, indent: string, room: number): string {
  if (Array.isArray(value)) {
    const items = value.map((v) => literal(v, `${indent}  `, Infinity));
    const inline = `[${items.join(", ")}]`;
    if (!inline.includes("\n") && inline.length <= room) return inline;
    const inner = `${indent}  `;
    const lines = value.map((v) => `${inner}${literal(v, inner, LINE_WIDTH - inner.length - 1)},`);
    return `[\n${lines.join("\n")}\n${indent}]`;
  }
  if (isRecord(value)) return object(Object.entries(value), indent, room);
  return scalar(value);
}

function object(entries: ReadonlyArray<[string, unknown]>, indent: string, room: number): string {
  const present = entries.filter(([, v]) => v !== undefined);
  if (present.length === 0) return "{}";
  const parts = present.map(([k, v]) =>
    `${propertyKey(k)}: ${literal(v, `${indent}  `, Infinity)}`
  );
  const inline = `{ ${parts.join(", ")} }`;
  if (!inline.includes("\n") && inline.length <= room) return inline;
  const inner = `${indent}  `;
  const lines = present.map(([k, v]) => {
    const head = `${inner}${propertyKey(k)}: `;
    return `${head}${literal(v, inner, LINE_WIDTH - head.length - 1)},`;
  });
  return `{\n${lines.join("\n")}\n${indent}}`;
}

function camelEntries(data: Data): Array<[string, unknown]> {
  return Object.entries(data).map(([k, v]) => [camelCase(k), v]);
}

function defaultsEntries(defaults: Data): Array<[string, unknown]> {
  return Object.entries(defaults).map(([k, v]) => [
    camelCase(k),
    // per-engine blocks are the one nested level the builder reads in camelCase
    k !== "env" && isRecord(v) ? Object.fromEntries(camelEntries(v)) : v,
  ]);
}

/** Ids that tasks name before the task that has them: they need `.declare(...)`. */
function forwardReferences(tasks: readonly Data[], prefixes: readonly string[]): string[] {
  const known = new Set<string>();
  const later: string[] = [];
  for (const task of tasks) {
    const refs = [task.depends_on, task.context_from].flatMap((list) =>
      Array.isArray(list) ? list.filter((r): r is string => typeof r === "string") : []
    );
    for (const ref of refs) {
      const imported = prefixes.some((p) => ref.startsWith(`${p}/`));
      if (ref !== "*" && !imported && !known.has(ref) && !later.includes(ref)) later.push(ref);
    }
    known.add(String(task.id));
  }
  return later;
}

/** One `.task(...)` line (or more, for long options) of the chain. */
function taskCall(task: Readonly<Data>): string {
  const { id, ...options } = task;
  const head = `  .task(${JSON.stringify(id)}`;
  const entries = camelEntries(options);
  return entries.length === 0
    ? `${head})`
    : `${head}, ${object(entries, "  ", LINE_WIDTH - head.length - 3)})`;
}

/** `items` in runs of at most `size`; one empty run when there are none. */
function chunks<T>(items: readonly T[], size: number): T[][] {
  const runs: T[][] = [];
  for (let i = 0; i < items.length; i += size) runs.push(items.slice(i, i + size));
  return runs.length > 0 ? runs : [[]];
}

/**
 * The TypeScript plan module for authored plan data.
 *
 * @param data the plan as authored (snake_case keys), already validated
 * @param source where it came from, named in the header comment
 * @returns the module's source text
 */
export function authoredToTypeScript(data: Readonly<Data>, source?: string): string {
  const { tasks, defaults, ...rest } = data;
  const taskList = Array.isArray(tasks) ? tasks.filter(isRecord) : [];
  // an object literal's "__proto__" key would set its prototype: those stay builder calls
  if (taskList.length >= PLAIN_OBJECT_TASKS && !JSON.stringify(data).includes('"__proto__"')) {
    return plainObjectModule(data, taskList.length, source);
  }
  const planEntries = camelEntries(rest);
  if (defaults !== undefined) {
    // keep the author's key order: defaults goes back where it was
    const at = Object.keys(data).filter((k) => k !== "tasks").indexOf("defaults");
    const value = isRecord(defaults) ? Object.fromEntries(defaultsEntries(defaults)) : defaults;
    planEntries.splice(at, 0, ["defaults", value]);
  }
  const prefixes = Array.isArray(rest.imports)
    ? rest.imports.filter(isRecord).map((i) => String(i.prefix))
    : [];

  const lines: string[] = [];
  if (source) lines.push(`// Converted from ${source} by \`maestro convert\`.`);
  lines.push(`import { plan } from "${CORE_SPECIFIER}";`, "");
  const start = `plan(${object(planEntries, "", LINE_WIDTH - 20)})`;
  const later = forwardReferences(taskList, prefixes);
  const declare = later.length > 0
    ? [`  .declare(${later.map((id) => JSON.stringify(id)).join(", ")})`]
    : [];
  const calls = taskList.map(taskCall);
  const parts = chunks(calls, CHAIN_LENGTH);
  if (parts.length > 1) {
    lines.push(
      `// In parts of ${CHAIN_LENGTH} tasks: TypeScript cannot check one chain this long.`,
    );
  }
  parts.forEach((part, i) => {
    const head = i === parts.length - 1 ? "export default " : `const part${i + 1} = `;
    lines.push(`${head}${i === 0 ? start : `part${i}`}`, ...(i === 0 ? declare : []), ...part);
    if (i < parts.length - 1) lines[lines.length - 1] += ";";
  });
  lines[lines.length - 1] += ";";
  return `${lines.join("\n")}\n`;
}

/** A module whose default export is the plan data itself, as the YAML file would hold it. */
function plainObjectModule(data: Readonly<Data>, tasks: number, source?: string): string {
  const lines: string[] = [];
  if (source) lines.push(`// Converted from ${source} by \`maestro convert\`.`);
  lines.push(
    `// ${tasks} tasks: written as plain data (snake_case keys), which TypeScript checks much`,
    "// faster than builder calls for a plan this size.",
    `import type { AuthoredPlan } from "${CORE_SPECIFIER}";`,
    "",
    `export default ${JSON.stringify(data, null, 2)} satisfies AuthoredPlan;`,
  );
  return `${lines.join("\n")}\n`;
}

/** JSON with object keys sorted: the builder may give keys back in another order. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_key, v: unknown) =>
      isRecord(v)
        ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0))
        : v,
  );
}

/**
 * {@linkcode authoredToTypeScript}, checked: the module is loaded back through the sandbox
 * (type check included) from a temporary folder, and must give back the same data, as
 * `authoredToYaml` checks its YAML. Costs a type check: about 2 s for a new module.
 *
 * @param data the plan as authored (snake_case keys), already validated
 * @param source where it came from, named in the header comment
 * @returns the module's source text
 * @throws Error when the module does not load or gives back other data (a writer bug)
 */
export async function authoredToCheckedTypeScript(
  data: Readonly<Data>,
  source?: string,
): Promise<string> {
  const text = authoredToTypeScript(data, source);
  const { evaluatePlanModule } = await importLater<typeof import("./sandbox.ts")>(
    new URL("./sandbox.ts", import.meta.url),
  );
  const dir = await Deno.makeTempDir({ prefix: "maestro-convert-" });
  try {
    const file = join(dir, "plan.ts");
    await Deno.writeTextFile(file, text);
    const back = await evaluatePlanModule(file);
    const problem = back.errors[0]?.message ??
      (canonicalJson(back.data) === canonicalJson(data) ? undefined : "it gives back other data");
    if (problem) {
      throw new Error(
        `the TypeScript writer did not round-trip this plan (${problem}); please report it`,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  return text;
}

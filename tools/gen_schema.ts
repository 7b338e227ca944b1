/**
 * Writes lib/plan/plan.schema.json, the JSON Schema of the authored plan format, from the zod
 * schema in lib/plan/schema.ts. The loader checks plans against this file first and loads zod
 * only for the detailed messages of an invalid plan; `maestro schema` prints it.
 *
 * Run `deno task gen-schema` after changing schema.ts; a test fails while the file is stale.
 *
 * @module
 */
import { planJsonSchema } from "../lib/plan/schema.ts";

/** The file's content: the schema as pretty JSON with a final newline. */
export function renderPlanSchema(): string {
  return JSON.stringify(planJsonSchema(), null, 2) + "\n";
}

if (import.meta.main) {
  const target = new URL("../lib/plan/plan.schema.json", import.meta.url);
  Deno.writeTextFileSync(target, renderPlanSchema());
  console.log(`wrote ${target.pathname}`);
}

/**
 * The generated authored types must be exactly the zod schema's input types, and the committed
 * file must be what the generator writes today: the schema stays the only source of truth.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import type { z } from "zod";
import { AUTHORED_TYPES_PATH, generateAuthoredTypes } from "../../tools/gen_types.ts";
import type {
  AuthoredDefaults as GeneratedDefaults,
  AuthoredEngineName,
  AuthoredPlan as GeneratedPlan,
  AuthoredTask as GeneratedTask,
} from "./authored_types.ts";
import type { defaultsSchema, EngineName, planSchema, taskSchema } from "./schema.ts";

/** True only when A and B are identical types (not merely assignable both ways). */
type IsExact<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true
  : false;

/** Compiles only for `true`: a failed type assertion breaks `deno check`. */
function assertType<T extends true>(_proof: T): void {}

Deno.test("the generated AuthoredPlan is exactly the input type of planSchema", () => {
  assertType<IsExact<GeneratedPlan, z.input<typeof planSchema>>>(true);
  assertType<IsExact<GeneratedTask, z.input<typeof taskSchema>>>(true);
  assertType<IsExact<GeneratedDefaults, z.input<typeof defaultsSchema>>>(true);
  assertType<IsExact<AuthoredEngineName, EngineName>>(true);
  // The checker above must be able to say no, or it proves nothing.
  type Loose = Omit<GeneratedTask, "id"> & { id?: string };
  const notExact: IsExact<Loose, z.input<typeof taskSchema>> = false;
  assert.equal(notExact, false);
});

Deno.test("the committed authored_types.ts is what tools/gen_types.ts generates", async () => {
  const committed = readFileSync(AUTHORED_TYPES_PATH, "utf8");
  const generated = await generateAuthoredTypes();
  assert.equal(committed, generated, "run `deno task gen-types` and commit the result");
});

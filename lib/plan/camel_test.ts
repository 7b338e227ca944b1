/** The camelCase rule of TypeScript plans is lossless for every key of the schema. */
import assert from "node:assert/strict";
import { type CamelCase, camelCase, snakeCase } from "./camel.ts";
import { KNOWN_KEYS } from "./keys.ts";

Deno.test("camelCase and snakeCase round-trip every key the schema knows", () => {
  const keys = Object.values(KNOWN_KEYS).flat();
  assert.ok(keys.includes("prompt_md_heading"));
  for (const key of keys) assert.equal(snakeCase(camelCase(key)), key, key);
});

Deno.test("the runtime rule and the type-level CamelCase agree", () => {
  const key: CamelCase<"negative_cache_ttl_sec"> = "negativeCacheTtlSec";
  assert.equal(camelCase("negative_cache_ttl_sec"), key);
  // @ts-expect-error the type-level rule must reject the snake_case spelling
  const wrong: CamelCase<"timeout_sec"> = "timeout_sec";
  assert.equal(wrong, "timeout_sec");
});

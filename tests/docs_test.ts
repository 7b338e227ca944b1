/**
 * docs/cli.md names every command and every option the CLI accepts, so a user never misses a
 * flag that exists (negatable flags may be documented as `--no-<name>`).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { COMMANDS } from "../lib/cli/program.ts";
import { ROOT } from "./helpers.ts";

Deno.test("docs/cli.md documents every command and option of maestro", async () => {
  const doc = await Deno.readTextFile(join(ROOT, "docs", "cli.md"));
  const missing: string[] = [];
  for (const command of COMMANDS) {
    if (!doc.includes(`maestro ${command.name}`)) missing.push(`command ${command.name}`);
    for (const option of command.options ?? []) {
      const forms = [`--${option.name}`, ...(option.negatable ? [`--no-${option.name}`] : [])];
      if (!forms.some((form) => doc.includes(form))) {
        missing.push(`${command.name} ${forms.join(" / ")}`);
      }
    }
  }
  assert.deepEqual(missing, [], "add these to docs/cli.md");
});

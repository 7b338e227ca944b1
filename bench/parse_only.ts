/**
 * Baseline for `maestro validate`: start Deno, read the plan file and parse it with the same
 * YAML front end (`parseYaml` of lib/plan/yaml.ts: YAML 1.1, merge keys, source positions), then
 * exit. `validate` minus this is the cost of everything after parsing plus loading zod and
 * commander.
 *
 * Usage: `deno run -A bench/parse_only.ts <plan.yaml>`; exits 1 when the YAML has errors.
 *
 * @module
 */
import { parseYaml } from "../lib/plan/yaml.ts";

if (import.meta.main) {
  const [path] = Deno.args;
  if (!path) {
    console.error("usage: deno run -A bench/parse_only.ts <plan.yaml>");
    Deno.exit(2);
  }
  const parsed = parseYaml(await Deno.readTextFile(path), path);
  Deno.exitCode = parsed.errors.length > 0 ? 1 : 0;
}

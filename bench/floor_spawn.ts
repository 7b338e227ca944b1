/**
 * The least any Deno program pays to run a command for someone: Deno's start, one spawn of the
 * argv with stdout and stderr piped, both read to the end, and an exit with the command's code.
 * `bench/engine_bench.ts` runs it next to `maestro run` and the command by hand, so the part of
 * maestro's overhead that Deno itself sets is measured in the same sitting.
 *
 * Usage: `deno run -A bench/floor_spawn.ts <program> [args...]`.
 *
 * @module
 */
const [program, ...args] = Deno.args;
if (!program) {
  console.error("usage: floor_spawn.ts <program> [args...]");
  Deno.exit(2);
}
const output = await new Deno.Command(program, {
  args,
  stdin: "null",
  stdout: "piped",
  stderr: "piped",
}).output();
Deno.exit(output.code);

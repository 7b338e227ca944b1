#!/usr/bin/env -S deno run -A --no-prompt --v8-flags=--optimize-for-size
/**
 * The `maestro` command. `--version` answers before anything heavy is loaded; every other
 * command is loaded on demand from lib/cli/.
 *
 * @module
 */
import { importLater } from "./lib/import_later.ts";
import denoJson from "./deno.json" with { type: "json" };

/** The running Maestro's version. */
export const VERSION: string = denoJson.version;

if (import.meta.main) {
  const args = Deno.args;
  if (args.length === 1 && (args[0] === "--version" || args[0] === "-V")) {
    console.log(`maestro ${VERSION}`);
  } else {
    const { main } = await importLater<typeof import("./lib/cli/program.ts")>(
      new URL("./lib/cli/program.ts", import.meta.url),
    );
    Deno.exitCode = await main(args, VERSION);
  }
}

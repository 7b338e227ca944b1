/**
 * The command-line program: argument parsing with commander, one small action per command.
 * Actions return an exit code; nothing here calls Deno.exit, so tests can drive `main`.
 *
 * @module
 */
import { Command, CommanderError, Option } from "@commander-js/extra-typings";
import { EXIT, MaestroError, PlanError } from "../errors.ts";
import { issueLines } from "./output.ts";

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Builds the program; `setCode` receives each action's exit code. */
function program(version: string, setCode: (code: number) => void) {
  const root = new Command("maestro")
    .description("Run AI execution plans: DAGs of shell commands and coding-agent calls")
    .version(`maestro ${version}`, "-V, --version")
    .option("--debug", "show stack traces for internal errors")
    .showHelpAfterError("(run `maestro --help` for usage)")
    .exitOverride()
    .configureOutput({ writeErr: (text) => Deno.stderr.writeSync(new TextEncoder().encode(text)) });

  root.command("validate")
    .description("check a plan (YAML or TS) and print a summary or every problem found")
    .argument("<plan>", "plan file (.yaml, .yml or .ts)")
    .option("--json", "print one JSON document {valid, errors, warnings}")
    .option("--strict", "treat unknown keys as errors")
    .option("--set <KEY=VALUE>", "template variable (repeatable)", collect, [] as string[])
    .action(async (plan, options) => {
      const { validateCommand } = await import("./plan_commands.ts");
      setCode(await validateCommand(plan, options));
    });

  root.command("ir")
    .description("print the lowered plan (the IR the runtime executes) as JSON")
    .argument("<plan>", "plan file")
    .option("--no-origin", "leave out each task's origin (file, line, column)")
    .option("--strict", "treat unknown keys as errors")
    .option("--set <KEY=VALUE>", "template variable (repeatable)", collect, [] as string[])
    .action(async (plan, options) => {
      const { irCommand } = await import("./plan_commands.ts");
      setCode(await irCommand(plan, options));
    });

  root.command("graph")
    .description("print the task graph")
    .argument("<plan>", "plan file")
    .addOption(
      new Option("--format <format>", "output format").choices(["mermaid", "dot", "json"] as const)
        .default("mermaid" as const),
    )
    .action(async (plan, options) => {
      const { graphCommand } = await import("./plan_commands.ts");
      setCode(await graphCommand(plan, options));
    });

  root.command("schema")
    .description("print the JSON Schema of the plan format (for editors)")
    .action(async () => {
      const { schemaCommand } = await import("./plan_commands.ts");
      setCode(await schemaCommand());
    });

  return root;
}

/**
 * Runs the CLI with the given arguments.
 *
 * @param args command-line arguments (without the program name)
 * @param version the version to report
 * @returns the process exit code
 */
export async function main(args: string[], version: string): Promise<number> {
  let code: number = EXIT.ok;
  const debug = args.includes("--debug");
  try {
    await program(version, (c) => code = c).parseAsync(args, { from: "user" });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === "commander.helpDisplayed" || error.code === "commander.version") {
        return EXIT.ok;
      }
      if (error.code === "commander.help") return EXIT.ok;
      return EXIT.invalid;
    }
    if (error instanceof PlanError) {
      for (const issue of error.issues) console.error(issueLines(issue, "error"));
      return EXIT.invalid;
    }
    if (error instanceof MaestroError) {
      console.error(`maestro: ${error.code} ${error.message}`);
      if (error.hint) console.error(`  hint: ${error.hint}`);
      return error.exitCode;
    }
    console.error(
      `maestro: internal error: ${error instanceof Error ? error.message : String(error)}`,
    );
    if (debug && error instanceof Error && error.stack) console.error(error.stack);
    else console.error("  hint: run again with --debug for details, and please report it");
    return EXIT.failed;
  }
}

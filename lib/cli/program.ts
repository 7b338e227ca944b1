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

  root.command("convert")
    .description("rewrite a plan as YAML or TypeScript (lossless: the same IR)")
    .argument("<plan>", "plan file (.yaml, .yml or .ts)")
    .addOption(
      new Option("--to <format>", "format to write").choices(["yaml", "ts"] as const)
        .makeOptionMandatory(),
    )
    .option("-o, --output <file>", "write to FILE (atomically) instead of stdout")
    .action(async (plan, options) => {
      const { convertCommand } = await import("./convert_command.ts");
      setCode(await convertCommand(plan, options));
    });

  root.command("schema")
    .description("print the JSON Schema of the plan format (for editors)")
    .action(async () => {
      const { schemaCommand } = await import("./plan_commands.ts");
      setCode(await schemaCommand());
    });

  // --- run (owned by the runtime) ---
  root.command("run")
    .description("run one or more plans")
    .argument("<plans...>", "plan files (.yaml, .yml or .ts)")
    .option("--dry-run", "print each task's resolved command, env keys and workdir; run nothing")
    .option("--max-parallel <n>", "how many tasks may run at once (overrides the plan)")
    .option(
      "--only <ids>",
      "run only these tasks and their dependencies (comma-separated, repeatable)",
      collect,
      [] as string[],
    )
    .option(
      "--skip <ids>",
      "do not run these tasks (comma-separated, repeatable)",
      collect,
      [] as string[],
    )
    .option(
      "--tags <tags>",
      "run only tasks with one of these tags, plus their dependencies",
      collect,
      [] as string[],
    )
    .option(
      "--skip-tags <tags>",
      "do not run tasks with one of these tags",
      collect,
      [] as string[],
    )
    .option("--set <KEY=VALUE>", "template variable (repeatable)", collect, [] as string[])
    .option("--run-dir <dir>", "folder where run directories are created (overrides the plan)")
    .addOption(
      new Option("--output <format>", "terminal output").choices(["text", "jsonl", "live"] as const)
        .default("text" as const),
    )
    .option("-v, --verbose", "text output: also print every output line of every task")
    .option("--auto-approve", "approve every task that requires approval")
    .option("--mask-secrets", "mask values of env vars whose names look secret")
    .option("--parallel", "run several plans at the same time")
    .option("--resume <run-dir>", "re-run what did not succeed in an earlier run")
    .option("--resume-last", "resume the latest run of the plan")
    .action(async (plans, options) => {
      const { runCommand } = await import("./run_command.ts");
      setCode(await runCommand(plans, options));
    });

  // --- verify (owned by the runtime) ---
  root.command("verify")
    .description("check a run's tamper-evident event log and artifact hashes")
    .argument("<run-dir>", "a run directory")
    .option("--json", "print one JSON document")
    .action(async (runDir, options) => {
      const { verifyCommand } = await import("./verify_command.ts");
      setCode(await verifyCommand(runDir, options));
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

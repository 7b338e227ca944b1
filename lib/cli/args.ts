/**
 * A small declarative command-line parser: commands with positional arguments and options
 * (`--flag`, `--no-flag`, `--name value`, `--name=value`, `-x value`, repeatable options,
 * choices), "did you mean" for unknown commands and options, and generated help.
 *
 * It replaces commander, whose Node-compat imports (node:fs, node:child_process, node:events)
 * cost about 35 ms of start-up in Deno, a fifth of the budget of `maestro validate`.
 *
 * @module
 */
import { didYouMean } from "../errors.ts";

/** One option of a command. */
export interface OptionSpec {
  /** Long name without dashes, e.g. `max-parallel`. */
  name: string;
  /** One-letter alias without the dash. */
  short?: string;
  /** `boolean` takes no value; `string` takes one; `list` takes one per use and collects them. */
  type: "boolean" | "string" | "list";
  /** Name of the value in help, e.g. `KEY=VALUE`. */
  value?: string;
  /** Allowed values of a `string` option. */
  choices?: readonly string[];
  /** Value when the option is not given. */
  default?: string | boolean;
  /** Booleans: also accept `--no-<name>` (sets false). */
  negatable?: boolean;
  /** One line of help. */
  description: string;
}

/** One positional argument. */
export interface ArgumentSpec {
  /** Name shown in help. */
  name: string;
  /** Whether it must be given. */
  required: boolean;
  /** Takes every remaining argument. */
  variadic?: boolean;
  /** One line of help. */
  description: string;
}

/** Parsed options, read through typed accessors (values were checked against the spec). */
export class ParsedOptions {
  readonly #values: Map<string, string | boolean | string[]>;

  /** @param values parsed values by long name */
  constructor(values: Map<string, string | boolean | string[]>) {
    this.#values = values;
  }

  /** A boolean option (false when absent and without default). */
  flag(name: string): boolean {
    return this.#values.get(name) === true;
  }

  /** A string option, or undefined. */
  string(name: string): string | undefined {
    const value = this.#values.get(name);
    return typeof value === "string" ? value : undefined;
  }

  /** A repeatable option's values (empty when absent). */
  list(name: string): string[] {
    const value = this.#values.get(name);
    return Array.isArray(value) ? value : [];
  }

  /** Whether the option was given or has a default. */
  has(name: string): boolean {
    return this.#values.has(name);
  }
}

/** A command: its arguments, options and action. */
export interface CommandSpec {
  /** The command word. */
  name: string;
  /** One line of help. */
  description: string;
  /** Positional arguments, in order. */
  args: ArgumentSpec[];
  /** Options. */
  options: OptionSpec[];
  /** Runs the command; returns the exit code. */
  action(args: string[], options: ParsedOptions): Promise<number>;
}

/** A usage problem: the message to print; the CLI exits with 2. */
export class UsageError extends Error {
  /** @param message what is wrong with the command line */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

function optionLabel(option: OptionSpec): string {
  const long = option.type === "boolean"
    ? `--${option.name}`
    : `--${option.name} <${option.value ?? "value"}>`;
  return option.short ? `-${option.short}, ${long}` : `    ${long}`;
}

/** Help text of one command. */
export function commandHelp(program: string, command: CommandSpec): string {
  const args = command.args.map((a) => {
    const name = a.variadic ? `${a.name}...` : a.name;
    return a.required ? `<${name}>` : `[${name}]`;
  });
  const lines = [
    `Usage: ${program} ${command.name} ${[...args, "[options]"].join(" ")}`,
    "",
    command.description,
  ];
  if (command.args.length > 0) {
    lines.push("", "Arguments:");
    for (const a of command.args) lines.push(`  ${a.name.padEnd(28)} ${a.description}`);
  }
  lines.push("", "Options:");
  for (
    const option of [...command.options, {
      name: "help",
      short: "h",
      type: "boolean" as const,
      description: "show this help",
    }]
  ) {
    const extra = option.choices ? ` (${option.choices.join(", ")})` : "";
    const fallback = option.default !== undefined && option.type !== "boolean"
      ? ` [default: ${option.default}]`
      : "";
    lines.push(`  ${optionLabel(option).padEnd(28)} ${option.description}${extra}${fallback}`);
    if (option.negatable) lines.push(`  ${`    --no-${option.name}`.padEnd(28)} the opposite`);
  }
  return lines.join("\n");
}

/** Help text of the whole program. */
export function programHelp(
  program: string,
  description: string,
  commands: readonly CommandSpec[],
): string {
  const lines = [`Usage: ${program} <command> [options]`, "", description, "", "Commands:"];
  for (const command of commands) lines.push(`  ${command.name.padEnd(12)} ${command.description}`);
  lines.push(
    "",
    "Options:",
    "  -V, --version  print the version",
    "  -h, --help     show this help",
    "      --debug    show stack traces for internal errors",
    "",
    `Run \`${program} <command> --help\` for a command's options.`,
  );
  return lines.join("\n");
}

/** What the command line asks for. */
export type Invocation =
  | { kind: "run"; command: CommandSpec; args: string[]; options: ParsedOptions }
  | { kind: "help"; text: string };

/**
 * Parses a command line against the commands.
 *
 * @param argv arguments after the program name
 * @param program the program's name, for help
 * @param description one line about the program, for help
 * @param commands the commands
 * @throws {UsageError} for anything the commands do not accept
 */
export function parseCommandLine(
  argv: readonly string[],
  program: string,
  description: string,
  commands: readonly CommandSpec[],
): Invocation {
  const words = argv.filter((a) => a !== "--debug");
  const name = words[0];
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    const target = name === "help" ? commands.find((c) => c.name === words[1]) : undefined;
    return {
      kind: "help",
      text: target ? commandHelp(program, target) : programHelp(program, description, commands),
    };
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    // `--versio` is a misspelt global option, not a command
    const flag = name.startsWith("-");
    const suggestion = flag
      ? didYouMean(name.replace(/^-+/, ""), ["version", "help", "debug"])
      : didYouMean(name, commands.map((c) => c.name));
    throw new UsageError(
      `unknown ${flag ? "option" : "command"} '${name}'${
        suggestion ? ` (did you mean '${flag ? "--" : ""}${suggestion}'?)` : ""
      }`,
    );
  }
  const values = new Map<string, string | boolean | string[]>();
  for (const option of command.options) {
    if (option.default !== undefined) values.set(option.name, option.default);
  }
  const positionals: string[] = [];
  const byLong = new Map(command.options.map((o) => [o.name, o]));
  const byShort = new Map(command.options.filter((o) => o.short).map((o) => [o.short!, o]));
  const rest = words.slice(1);
  for (let i = 0; i < rest.length; i++) {
    const word = rest[i]!;
    if (word === "--help" || word === "-h") {
      return { kind: "help", text: commandHelp(program, command) };
    }
    if (word === "--") {
      positionals.push(...rest.slice(i + 1));
      break;
    }
    if (!word.startsWith("-") || word === "-") {
      positionals.push(word);
      continue;
    }
    const eq = word.indexOf("=");
    const flag = eq > 0 ? word.slice(0, eq) : word;
    let option: OptionSpec | undefined;
    let negated = false;
    if (flag.startsWith("--")) {
      option = byLong.get(flag.slice(2));
      if (!option && flag.startsWith("--no-")) {
        option = byLong.get(flag.slice(5));
        negated = option?.negatable === true;
        if (!negated) option = undefined;
      }
    } else if (flag.length === 2) {
      option = byShort.get(flag.slice(1));
    }
    if (!option) {
      const suggestion = didYouMean(flag.replace(/^-+/, ""), [
        ...command.options.map((o) => o.name),
        "help",
      ]);
      throw new UsageError(
        `${command.name}: unknown option '${flag}'${
          suggestion ? ` (did you mean '--${suggestion}'?)` : ""
        }`,
      );
    }
    if (option.type === "boolean") {
      if (eq > 0) throw new UsageError(`${command.name}: option '--${option.name}' takes no value`);
      values.set(option.name, !negated);
      continue;
    }
    const value = eq > 0 ? word.slice(eq + 1) : rest[++i];
    if (value === undefined) {
      throw new UsageError(
        `${command.name}: option '--${option.name}' needs a value <${option.value ?? "value"}>`,
      );
    }
    if (option.choices && !option.choices.includes(value)) {
      throw new UsageError(
        `${command.name}: option '--${option.name}' must be one of ${
          option.choices.join(", ")
        }, got '${value}'`,
      );
    }
    if (option.type === "list") {
      const previous = values.get(option.name);
      values.set(option.name, [...(Array.isArray(previous) ? previous : []), value]);
    } else {
      values.set(option.name, value);
    }
  }
  const required = command.args.filter((a) => a.required).length;
  const variadic = command.args.some((a) => a.variadic);
  if (positionals.length < required) {
    const missing = command.args[positionals.length]!;
    throw new UsageError(`${command.name}: missing argument <${missing.name}>`);
  }
  if (!variadic && positionals.length > command.args.length) {
    throw new UsageError(
      `${command.name}: unexpected argument '${positionals[command.args.length]}'`,
    );
  }
  return { kind: "run", command, args: positionals, options: new ParsedOptions(values) };
}

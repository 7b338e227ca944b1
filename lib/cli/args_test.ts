import assert from "node:assert/strict";
import { type CommandSpec, parseCommandLine, UsageError } from "./args.ts";

const validate: CommandSpec = {
  name: "validate",
  description: "check a plan",
  args: [{ name: "plan", required: true, description: "plan file" }],
  options: [
    { name: "json", type: "boolean", description: "JSON" },
    { name: "origin", type: "boolean", negatable: true, default: true, description: "origins" },
    { name: "set", type: "list", value: "KEY=VALUE", description: "variable" },
    {
      name: "format",
      short: "f",
      type: "string",
      choices: ["dot", "json"],
      default: "dot",
      description: "format",
    },
    { name: "max-parallel", type: "string", description: "n" },
  ],
  action: () => Promise.resolve(0),
};
const run: CommandSpec = {
  name: "run",
  description: "run plans",
  args: [{ name: "plans", required: true, variadic: true, description: "plan files" }],
  options: [],
  action: () => Promise.resolve(0),
};

function parse(argv: string[]) {
  const parsed = parseCommandLine(argv, "maestro", "test", [validate, run]);
  if (parsed.kind !== "run") throw new Error("expected a command");
  return parsed;
}

Deno.test("parseCommandLine() reads flags, values, repeatable options, defaults and --no-", () => {
  const { command, args, options } = parse([
    "validate",
    "plan.yaml",
    "--json",
    "--set",
    "a=1",
    "--set=b=2",
    "-f",
    "json",
    "--no-origin",
    "--max-parallel=4",
  ]);
  assert.equal(command.name, "validate");
  assert.deepEqual(args, ["plan.yaml"]);
  assert.equal(options.flag("json"), true);
  assert.deepEqual(options.list("set"), ["a=1", "b=2"]);
  assert.equal(options.string("format"), "json");
  assert.equal(options.flag("origin"), false);
  assert.equal(options.string("max-parallel"), "4");
  const defaults = parse(["validate", "p.yaml"]).options;
  assert.equal(defaults.flag("origin"), true);
  assert.equal(defaults.string("format"), "dot");
  assert.equal(defaults.flag("json"), false);
});

Deno.test("parseCommandLine() collects variadic arguments and everything after --", () => {
  assert.deepEqual(parse(["run", "a.yaml", "b.yaml"]).args, ["a.yaml", "b.yaml"]);
  assert.deepEqual(parse(["validate", "--", "--weird.yaml"]).args, ["--weird.yaml"]);
});

Deno.test("parseCommandLine() rejects bad command lines with a clear message", () => {
  const cases: Array<[string[], RegExp]> = [
    [["valdate", "x"], /unknown command 'valdate' \(did you mean 'validate'\?\)/],
    [["validate"], /missing argument <plan>/],
    [["validate", "a", "b"], /unexpected argument 'b'/],
    [["validate", "a", "--jsn"], /unknown option '--jsn' \(did you mean '--json'\?\)/],
    [["validate", "a", "--hepl"], /unknown option '--hepl' \(did you mean '--help'\?\)/],
    [["--versio"], /unknown option '--versio' \(did you mean '--version'\?\)/],
    [["validate", "a", "--format", "svg"], /must be one of dot, json, got 'svg'/],
    [["validate", "a", "--set"], /needs a value <KEY=VALUE>/],
    [["validate", "a", "--json=yes"], /takes no value/],
    [["validate", "a", "--no-json"], /unknown option '--no-json'/],
    [["run"], /missing argument <plans>/],
  ];
  for (const [argv, message] of cases) {
    assert.throws(
      () => parseCommandLine(argv, "maestro", "test", [validate, run]),
      (error: unknown) => {
        assert.ok(error instanceof UsageError);
        assert.match(error.message, message);
        return true;
      },
    );
  }
});

Deno.test("parseCommandLine() returns help for the program and for a command", () => {
  const top = parseCommandLine(["--help"], "maestro", "test program", [validate, run]);
  assert.equal(top.kind, "help");
  assert.match(
    top.kind === "help" ? top.text : "",
    /Commands:\n {2}validate\s+check a plan\n {2}run\s+run plans/,
  );
  const sub = parseCommandLine(["validate", "--help"], "maestro", "test", [validate, run]);
  assert.match(sub.kind === "help" ? sub.text : "", /Usage: maestro validate <plan> \[options\]/);
  assert.match(
    sub.kind === "help" ? sub.text : "",
    /-f, --format <value>\s+format \(dot, json\) \[default: dot\]/,
  );
  const none = parseCommandLine([], "maestro", "test", [validate, run]);
  assert.equal(none.kind, "help");
});

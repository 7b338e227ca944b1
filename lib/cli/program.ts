/**
 * The command-line program: the commands, their arguments and options (declared for the small
 * parser in args.ts), and one small action per command, loaded on demand. Actions return an
 * exit code; nothing here calls Deno.exit, so tests can drive `main`.
 *
 * @module
 */
import { importLater } from "../import_later.ts";
import { EXIT, MaestroError, PlanError } from "../errors.ts";
import { type CommandSpec, type OptionSpec, parseCommandLine, UsageError } from "./args.ts";
import { issueLines } from "./output.ts";
import type { RunStatus } from "../store/records.ts";

const DESCRIPTION = "Run AI execution plans: DAGs of shell commands and coding-agent calls";

/** The command modules, each imported when one of its commands runs (see import_later.ts). */
const commandModules = {
  budget_commands: () =>
    importLater<typeof import("./budget_commands.ts")>(
      new URL("./budget_commands.ts", import.meta.url),
    ),
  cache_commands: () =>
    importLater<typeof import("./cache_commands.ts")>(
      new URL("./cache_commands.ts", import.meta.url),
    ),
  cleanup_command: () =>
    importLater<typeof import("./cleanup_command.ts")>(
      new URL("./cleanup_command.ts", import.meta.url),
    ),
  convert_command: () =>
    importLater<typeof import("./convert_command.ts")>(
      new URL("./convert_command.ts", import.meta.url),
    ),
  doctor_command: () =>
    importLater<typeof import("./doctor_command.ts")>(
      new URL("./doctor_command.ts", import.meta.url),
    ),
  eval_command: () =>
    importLater<typeof import("./eval_command.ts")>(new URL("./eval_command.ts", import.meta.url)),
  explain_command: () =>
    importLater<typeof import("./explain_command.ts")>(
      new URL("./explain_command.ts", import.meta.url),
    ),
  inspect_commands: () =>
    importLater<typeof import("./inspect_commands.ts")>(
      new URL("./inspect_commands.ts", import.meta.url),
    ),
  plan_commands: () =>
    importLater<typeof import("./plan_commands.ts")>(
      new URL("./plan_commands.ts", import.meta.url),
    ),
  run_command: () =>
    importLater<typeof import("./run_command.ts")>(new URL("./run_command.ts", import.meta.url)),
  store_commands: () =>
    importLater<typeof import("./store_commands.ts")>(
      new URL("./store_commands.ts", import.meta.url),
    ),
  verify_command: () =>
    importLater<typeof import("./verify_command.ts")>(
      new URL("./verify_command.ts", import.meta.url),
    ),
};

const PLAN_ARG = {
  name: "plan",
  required: true,
  description: "plan file (.yaml, .yml, or a .ts/.mts/.js/.mjs module)",
};
const STRICT: OptionSpec = {
  name: "strict",
  type: "boolean",
  description: "treat unknown keys as errors",
};
const SET: OptionSpec = {
  name: "set",
  type: "list",
  value: "KEY=VALUE",
  description: "template variable (repeatable)",
};
const JSON_OUTPUT: OptionSpec = {
  name: "json",
  type: "boolean",
  description: "print one JSON document",
};

const DB: OptionSpec = {
  name: "db",
  type: "string",
  value: "path|url",
  description: "run store: a file or a libSQL server URL (overrides MAESTRO_DB_URL)",
};

/** Every command of `maestro`, in the order help lists them. */
export const COMMANDS: readonly CommandSpec[] = [
  {
    name: "run",
    description: "run one or more plans",
    args: [{
      name: "plans",
      required: true,
      variadic: true,
      description: "plan files (.yaml, .yml, or .ts/.mts/.js/.mjs modules)",
    }],
    options: [
      {
        name: "dry-run",
        type: "boolean",
        description: "print each task's resolved command, env keys and workdir; run nothing",
      },
      {
        name: "max-parallel",
        type: "string",
        value: "n",
        description: "how many tasks may run at once (overrides the plan)",
      },
      {
        name: "only",
        type: "list",
        value: "ids",
        description: "run only these tasks and their dependencies (comma-separated, repeatable)",
      },
      {
        name: "skip",
        type: "list",
        value: "ids",
        description: "do not run these tasks (comma-separated, repeatable)",
      },
      {
        name: "tags",
        type: "list",
        value: "tags",
        description: "run only tasks with one of these tags, plus their dependencies",
      },
      {
        name: "skip-tags",
        type: "list",
        value: "tags",
        description: "do not run tasks with one of these tags",
      },
      SET,
      {
        name: "run-dir",
        type: "string",
        value: "dir",
        description: "folder where run directories are created (overrides the plan)",
      },
      {
        name: "output",
        type: "string",
        value: "format",
        choices: ["text", "jsonl", "live"],
        description: "terminal output [default: live on a terminal, text otherwise]",
      },
      {
        name: "verbose",
        short: "v",
        type: "boolean",
        description: "text output: also print every output line of every task",
      },
      {
        name: "auto-approve",
        type: "boolean",
        description: "approve every task that requires approval",
      },
      {
        name: "mask-secrets",
        type: "boolean",
        description: "mask values of env vars whose names look secret",
      },
      { name: "parallel", type: "boolean", description: "run several plans at the same time" },
      {
        name: "resume",
        type: "string",
        value: "run-dir",
        description: "re-run what did not succeed in an earlier run",
      },
      { name: "resume-last", type: "boolean", description: "resume the latest run of the plan" },
      {
        name: "wait-orphans",
        type: "boolean",
        description:
          "on resume, wait for processes the earlier run left alive instead of stopping them",
      },
      {
        name: "execution-profile",
        type: "string",
        value: "profile",
        choices: ["plan", "safe", "yolo"],
        description: "what engine agents may do without asking: plan (default), safe or yolo",
      },
      {
        ...DB,
        description: "run store to index the run in [default: .maestro/maestro.db beside the plan]",
      },
      {
        name: "store",
        type: "boolean",
        negatable: true,
        default: true,
        description: "index the run in the run store; --no-store leaves the store alone",
      },
      {
        name: "cache",
        type: "boolean",
        negatable: true,
        default: true,
        description: "reuse cached task results; --no-cache runs every task, refreshing the cache",
      },
    ],
    async action(plans, o) {
      const { runCommand } = await commandModules.run_command();
      const output = o.string("output") as "text" | "jsonl" | "live" | undefined;
      return await runCommand(plans, {
        dryRun: o.flag("dry-run"),
        maxParallel: o.string("max-parallel"),
        only: o.list("only"),
        skip: o.list("skip"),
        tags: o.list("tags"),
        skipTags: o.list("skip-tags"),
        set: o.list("set"),
        runDir: o.string("run-dir"),
        ...(output ? { output } : {}),
        verbose: o.flag("verbose"),
        autoApprove: o.flag("auto-approve"),
        maskSecrets: o.flag("mask-secrets"),
        parallel: o.flag("parallel"),
        resume: o.string("resume"),
        resumeLast: o.flag("resume-last"),
        waitOrphans: o.flag("wait-orphans"),
        executionProfile: o.string("execution-profile"),
        db: o.string("db"),
        store: o.flag("store"),
        cache: o.flag("cache"),
      });
    },
  },
  {
    name: "validate",
    description: "check a plan and print a summary or every problem found",
    args: [PLAN_ARG],
    options: [
      { ...JSON_OUTPUT, description: "print one JSON document {valid, errors, warnings}" },
      STRICT,
      SET,
    ],
    async action([plan], o) {
      const { validateCommand } = await commandModules.plan_commands();
      return await validateCommand(plan!, {
        json: o.flag("json"),
        strict: o.flag("strict"),
        set: o.list("set"),
      });
    },
  },
  {
    name: "verify",
    description: "check a run's tamper-evident event log and artifact hashes",
    args: [{ name: "run-dir", required: true, description: "a run directory" }],
    options: [JSON_OUTPUT],
    async action([runDir], o) {
      const { verifyCommand } = await commandModules.verify_command();
      return await verifyCommand(runDir!, { json: o.flag("json") });
    },
  },
  {
    name: "runs",
    description: "list past runs from the run store, newest first",
    args: [],
    options: [
      { name: "plan", type: "string", value: "name", description: "only runs of this plan" },
      {
        name: "status",
        type: "string",
        value: "status",
        choices: ["running", "success", "failed", "interrupted", "incomplete"],
        description: "only runs with this status",
      },
      { name: "limit", type: "string", value: "n", default: "20", description: "at most n runs" },
      { ...JSON_OUTPUT, description: "print one JSON document {store, runs}" },
      DB,
    ],
    async action(_args, o) {
      const { runsCommand } = await commandModules.store_commands();
      const status = o.string("status") as RunStatus | undefined;
      return await runsCommand({
        db: o.string("db"),
        plan: o.string("plan"),
        status,
        limit: o.string("limit"),
        json: o.flag("json"),
      });
    },
  },
  {
    name: "reindex",
    description: "rebuild or refresh the run store from run directories",
    args: [{
      name: "dirs",
      required: false,
      variadic: true,
      description: "run directories or folders of them [default: the runs the store knows]",
    }],
    options: [DB],
    async action(dirs, o) {
      const { reindexCommand } = await commandModules.store_commands();
      return await reindexCommand(dirs, { db: o.string("db") });
    },
  },
  {
    name: "report",
    description: "write one self-contained HTML page of a run: summary, DAG, timeline, costs, logs",
    args: [{
      name: "run",
      required: true,
      description: "run directory, run id (or prefix), or last[~N]",
    }],
    options: [
      {
        name: "output",
        short: "o",
        type: "string",
        value: "file",
        description: "where to write the page, - for stdout [default: <run-dir>/report.html]",
      },
      {
        name: "plan",
        type: "string",
        value: "name",
        description: "last means this plan's last run",
      },
      {
        ...JSON_OUTPUT,
        description: "also print the report's data as one JSON document",
      },
      DB,
    ],
    async action([run], o) {
      const { reportCommand } = await commandModules.inspect_commands();
      return await reportCommand(run!, {
        output: o.string("output"),
        plan: o.string("plan"),
        json: o.flag("json"),
        db: o.string("db"),
      });
    },
  },
  {
    name: "diff",
    description: "compare two runs task by task: status, duration, cost; exit 1 on regressions",
    args: [
      {
        name: "run-a",
        required: true,
        description: "the baseline run (directory, id, last~1 …)",
      },
      {
        name: "run-b",
        required: true,
        description: "the run compared with it",
      },
    ],
    options: [
      {
        name: "duration-threshold",
        type: "string",
        value: "pct",
        default: "50",
        description: "a task this many percent slower (and 1s or more) is a regression",
      },
      {
        name: "cost-threshold",
        type: "string",
        value: "pct",
        default: "20",
        description: "a task costing this many percent more (and $0.01 or more) is a regression",
      },
      {
        name: "plan",
        type: "string",
        value: "name",
        description: "last means this plan's last run",
      },
      JSON_OUTPUT,
      DB,
    ],
    async action([a, b], o) {
      const { diffCommand } = await commandModules.inspect_commands();
      return await diffCommand(a!, b!, {
        durationThreshold: o.string("duration-threshold"),
        costThreshold: o.string("cost-threshold"),
        plan: o.string("plan"),
        json: o.flag("json"),
        db: o.string("db"),
      });
    },
  },
  {
    name: "blame",
    description: "which failed tasks are root causes, which only failed or skipped because of them",
    args: [{
      name: "run",
      required: true,
      description: "run directory, run id (or prefix), or last[~N]",
    }],
    options: [
      {
        name: "plan",
        type: "string",
        value: "name",
        description: "last means this plan's last run",
      },
      JSON_OUTPUT,
      DB,
    ],
    async action([run], o) {
      const { blameCommand } = await commandModules.inspect_commands();
      return await blameCommand(run!, {
        plan: o.string("plan"),
        json: o.flag("json"),
        db: o.string("db"),
      });
    },
  },
  {
    name: "cleanup",
    description: "delete old run directories and their store rows (never a running run)",
    args: [],
    options: [
      {
        name: "keep",
        type: "string",
        value: "n",
        description: "keep the newest n runs of each plan",
      },
      {
        name: "older-than",
        type: "string",
        value: "days",
        description: "only runs that started more than this many days ago",
      },
      {
        name: "plan",
        type: "string",
        value: "name",
        description: "only runs of this plan",
      },
      {
        name: "dry-run",
        type: "boolean",
        description: "list what would be deleted; delete nothing",
      },
      JSON_OUTPUT,
      DB,
    ],
    async action(_args, o) {
      const { cleanupCommand } = await commandModules.cleanup_command();
      return await cleanupCommand({
        keep: o.string("keep"),
        olderThan: o.string("older-than"),
        plan: o.string("plan"),
        dryRun: o.flag("dry-run"),
        json: o.flag("json"),
        db: o.string("db"),
      });
    },
  },
  {
    name: "estimate",
    description: "expected cost per task and in total, from the run store's history and pricing",
    args: [PLAN_ARG],
    options: [
      { ...JSON_OUTPUT, description: "print one JSON document {plan, tasks, total_usd, budget}" },
      SET,
      {
        ...DB,
        description: "run store with the history [default: .maestro/maestro.db beside the plan]",
      },
    ],
    async action([plan], o) {
      const { estimateCommand } = await commandModules.budget_commands();
      return await estimateCommand(plan!, {
        json: o.flag("json"),
        set: o.list("set"),
        db: o.string("db"),
      });
    },
  },
  {
    name: "budget",
    description: "spend today, this week and this month, per plan, from the run store",
    args: [],
    options: [
      { name: "plan", type: "string", value: "name", description: "only this plan's spend" },
      { ...JSON_OUTPUT, description: "print one JSON document {store, periods, plans}" },
      DB,
    ],
    async action(_args, o) {
      const { budgetCommand } = await commandModules.budget_commands();
      return await budgetCommand({
        plan: o.string("plan"),
        json: o.flag("json"),
        db: o.string("db"),
      });
    },
  },
  {
    name: "doctor",
    description: "check that plans can run here: Deno, engine CLIs and their auth, store, run dir",
    args: [],
    options: [
      {
        name: "plan",
        type: "string",
        value: "file",
        description: "also check this plan: exit 1 when an engine it uses is missing",
      },
      { ...JSON_OUTPUT, description: "print one JSON document (see docs/cli.md)" },
      DB,
    ],
    async action(_args, o) {
      const { doctorCommand } = await commandModules.doctor_command();
      return await doctorCommand({
        plan: o.string("plan"),
        json: o.flag("json"),
        db: o.string("db"),
      });
    },
  },
  {
    name: "ir",
    description: "print the lowered plan (the IR the runtime executes) as JSON",
    args: [PLAN_ARG],
    options: [
      {
        name: "origin",
        type: "boolean",
        negatable: true,
        default: true,
        description: "include each task's origin (file, line, column); --no-origin leaves it out",
      },
      STRICT,
      SET,
    ],
    async action([plan], o) {
      const { irCommand } = await commandModules.plan_commands();
      return await irCommand(plan!, {
        origin: o.flag("origin"),
        strict: o.flag("strict"),
        set: o.list("set"),
      });
    },
  },
  {
    name: "graph",
    description: "print the task graph",
    args: [PLAN_ARG],
    options: [{
      name: "format",
      type: "string",
      value: "format",
      choices: ["mermaid", "dot", "json"],
      default: "mermaid",
      description: "output format",
    }],
    async action([plan], o) {
      const { graphCommand } = await commandModules.plan_commands();
      const format = o.string("format") as "mermaid" | "dot" | "json";
      return await graphCommand(plan!, { format });
    },
  },
  {
    name: "convert",
    description: "rewrite a plan as YAML or TypeScript (lossless: the same IR)",
    args: [PLAN_ARG],
    options: [
      {
        name: "to",
        type: "string",
        value: "format",
        choices: ["yaml", "ts"],
        description: "format to write (required)",
      },
      {
        name: "output",
        short: "o",
        type: "string",
        value: "file",
        description: "write to FILE (atomically) instead of stdout",
      },
    ],
    async action([plan], o) {
      const to = o.string("to") as "yaml" | "ts" | undefined;
      if (!to) throw new UsageError("convert: option '--to <format>' is required (yaml or ts)");
      const { convertCommand } = await commandModules.convert_command();
      const output = o.string("output");
      return await convertCommand(plan!, { to, ...(output ? { output } : {}) });
    },
  },
  {
    name: "eval",
    description: "re-grade a finished run's outputs with new assertions or judges (no agent runs)",
    args: [
      { name: "eval", required: true, description: "eval file (.yaml): grades to apply" },
      { name: "run-dir", required: true, description: "a run directory" },
    ],
    options: [
      JSON_OUTPUT,
      { name: "out", type: "string", value: "file", description: "also write the JSON report" },
      { name: "strict", type: "boolean", description: "a warn verdict fails the eval too" },
    ],
    async action([evalFile, runDir], o) {
      const { evalCommand } = await commandModules.eval_command();
      const out = o.string("out");
      return await evalCommand(evalFile!, runDir!, {
        json: o.flag("json"),
        strict: o.flag("strict"),
        ...(out ? { out } : {}),
      });
    },
  },
  {
    name: "explain",
    description:
      "why each task would hit or miss the cache; --context: what a task's context selects",
    args: [PLAN_ARG],
    options: [
      { name: "context", type: "boolean", description: "what the task's context selects and why" },
      { name: "task", type: "string", value: "id", description: "the task to explain" },
      {
        name: "run",
        type: "string",
        value: "dir",
        description: "a run directory (default: latest)",
      },
      { name: "text", type: "boolean", description: "also print the delivered context" },
      JSON_OUTPUT,
      SET,
      {
        ...DB,
        description: "run store holding the cache [default: .maestro/maestro.db beside the plan]",
      },
    ],
    async action([plan], o) {
      const { explainCommand } = await commandModules.explain_command();
      return await explainCommand(plan!, {
        context: o.flag("context"),
        task: o.string("task"),
        run: o.string("run"),
        json: o.flag("json"),
        text: o.flag("text"),
        set: o.list("set"),
        db: o.string("db"),
      });
    },
  },
  {
    name: "status",
    description: "which tasks are stale (would run) and why, from the cache; runs nothing",
    args: [PLAN_ARG],
    options: [
      { ...JSON_OUTPUT, description: "print one JSON document {plan, stale, uncached, fresh}" },
      SET,
      {
        ...DB,
        description: "run store holding the cache [default: .maestro/maestro.db beside the plan]",
      },
    ],
    async action([plan], o) {
      const { statusCommand } = await commandModules.cache_commands();
      return await statusCommand(plan!, {
        json: o.flag("json"),
        set: o.list("set"),
        db: o.string("db"),
      });
    },
  },
  {
    name: "schema",
    description: "print the JSON Schema of the plan format (for editors)",
    args: [],
    options: [],
    async action() {
      const { schemaCommand } = await commandModules.plan_commands();
      return await schemaCommand();
    },
  },
];

/**
 * Runs the CLI with the given arguments.
 *
 * @param args command-line arguments (without the program name)
 * @param version the version to report
 * @returns the process exit code
 */
export async function main(args: string[], version: string): Promise<number> {
  const debug = args.includes("--debug");
  try {
    if (args.includes("--version") || args.includes("-V")) {
      console.log(`maestro ${version}`);
      return EXIT.ok;
    }
    const invocation = parseCommandLine(args, "maestro", DESCRIPTION, COMMANDS);
    if (invocation.kind === "help") {
      console.log(invocation.text);
      return EXIT.ok;
    }
    return await invocation.command.action(invocation.args, invocation.options);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`maestro: ${error.message}`);
      console.error("  hint: run `maestro --help` for usage");
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

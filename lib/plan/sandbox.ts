/**
 * The TypeScript front end's sandbox: a plan module is evaluated in a child Deno process that
 * may read only the plan's own folder, with no network, no subprocesses, no environment, no
 * writes, no prompts and a time limit. The child prints the authored plan as JSON (the same
 * snake_case data a YAML file holds) plus where each task was written; validation and lowering
 * then happen here, in the parent, through the normal pipeline.
 *
 * `@maestro/core` (and `jsr:@maestro/core`) resolve to this Maestro's own builder through a
 * generated import map, so a plan always builds against the version that runs it, offline.
 * The map also carries Maestro's npm imports from deno.json (served from the local cache).
 *
 * @module
 */
import { isFile } from "../fs.ts";
import { dirname, fromFileUrl, resolve, toFileUrl } from "../path.ts";
import denoJson from "../../deno.json" with { type: "json" };
import type { PlanIssue } from "../errors.ts";
import type { CallSite, PlanSites } from "./builder.ts";
import type { PlanSource } from "./load.ts";
import { type ChildResult, RESULT_MARKER } from "./sandbox_child.ts";
import type { SourceMap } from "./yaml.ts";

/** How long a plan module's code may run, in milliseconds. */
export const SANDBOX_TIMEOUT_MS = 10_000;
/** How long type checking may take (the first check of a module starts tsc: about 2 s). */
export const CHECK_TIMEOUT_MS = 60_000;

/** Options for {@linkcode evaluatePlanModule}. */
export interface SandboxOptions {
  /** Time limit for running the module, in milliseconds. @default {SANDBOX_TIMEOUT_MS} */
  timeoutMs?: number;
  /** Type-check the module before running it (Deno caches the result). @default {true} */
  check?: boolean;
}

/** What {@linkcode evaluatePlanModule} returns: a plan source plus how long it took. */
export interface SandboxResult extends PlanSource {
  /** Wall-clock time of the type check, in milliseconds (0 when skipped). */
  checkMs: number;
  /** Wall-clock time of the evaluation child, in milliseconds. */
  runMs: number;
}

const BUILDER_URL = new URL("./builder.ts", import.meta.url).href;
const CHILD_URL = new URL("./sandbox_child.ts", import.meta.url).href;
/** Environment the child keeps: only what Deno needs to find its caches (and PATH, so a
 * forbidden subprocess fails with a permission error rather than "not found"). */
const CHILD_ENV = ["DENO_DIR", "HOME", "XDG_CACHE_HOME", "USERPROFILE", "LOCALAPPDATA", "PATH"];

/** The import map given to the child, as a data: URL (nothing is written to disk). */
export function sandboxImportMap(): string {
  const imports: Record<string, string> = { ...denoJson.imports };
  for (
    const name of [
      "@maestro/core",
      "jsr:@maestro/core",
      `jsr:@maestro/core@${denoJson.version}`,
      `jsr:@maestro/core@^${denoJson.version}`,
    ]
  ) imports[name] = BUILDER_URL;
  return `data:application/json,${encodeURIComponent(JSON.stringify({ imports }))}`;
}

function childEnv(): Record<string, string> {
  const env: Record<string, string> = { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" };
  for (const name of CHILD_ENV) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return env;
}

/** Flags shared by both children: no config or lock file of the plan's folder, no downloads. */
const RESOLUTION_FLAGS = ["--no-config", "--no-lock", "--no-remote", "--cached-only"];

/** The `deno check` arguments for a plan module. Type checking runs no plan code. */
export function checkArgs(file: string): string[] {
  return ["check", "--quiet", ...RESOLUTION_FLAGS, `--import-map=${sandboxImportMap()}`, file];
}

/** The `deno run` arguments that evaluate a plan module: the sandbox itself. */
export function sandboxArgs(file: string): string[] {
  // The plan is imported statically from a data: main module: Deno loads the module graph
  // without read permission, so the child needs no access to Maestro's folder or the cache.
  const main = `import { report } from ${JSON.stringify(CHILD_URL)};\n` +
    `import * as plan from ${JSON.stringify(toFileUrl(file).href)};\nreport(plan);\n`;
  return [
    "run",
    ...RESOLUTION_FLAGS,
    "--no-check",
    "--no-prompt",
    `--import-map=${sandboxImportMap()}`,
    `--allow-read=${dirname(file)}`,
    "--v8-flags=--max-old-space-size=512",
    `data:application/typescript;base64,${btoa(main)}`,
  ];
}

interface ChildRun {
  output?: Deno.CommandOutput;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs Deno with a cleared environment; `output` is undefined when the time ran out. */
async function runDeno(args: string[], timeoutMs: number): Promise<ChildRun> {
  const started = performance.now();
  const signal = AbortSignal.timeout(timeoutMs);
  let output: Deno.CommandOutput | undefined;
  try {
    output = await new Deno.Command(Deno.execPath(), {
      args,
      clearEnv: true,
      env: childEnv(),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal,
    }).output();
  } catch (error) {
    if (!signal.aborted) throw error;
  }
  const ms = performance.now() - started;
  if (signal.aborted || !output) return { stdout: "", stderr: "", ms };
  const decoder = new TextDecoder();
  return {
    output,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
    ms,
  };
}

/**
 * Evaluates a TypeScript plan module in the sandbox: first `deno check` (no plan code runs),
 * then `deno run` with read access to the plan's folder only.
 *
 * @param file path of the plan module
 * @param options time limit and type checking
 * @returns the authored plan data, a source map pointing at each `.task(` call, and errors:
 *   E081 (file missing), E082 (syntax, type or runtime error, no default export), E083 (the
 *   module tried something the sandbox forbids, or ran out of time)
 */
export async function evaluatePlanModule(
  file: string,
  options: SandboxOptions = {},
): Promise<SandboxResult> {
  const path = resolve(file);
  let checkMs = 0;
  let runMs = 0;
  const failed = (errors: PlanIssue[]): SandboxResult => ({
    data: undefined,
    sourceMap: unknownPositions(path),
    errors,
    checkMs,
    runMs,
  });
  const issue = (code: string, message: string, hint: string): PlanIssue => ({
    code,
    message,
    file: path,
    line: 0,
    column: 0,
    hint,
  });
  if (!isFile(path)) {
    return failed([issue("E081", `plan file not found: ${path}`, "check the path")]);
  }

  if (options.check !== false) {
    const check = await runDeno(checkArgs(path), CHECK_TIMEOUT_MS);
    checkMs = check.ms;
    if (!check.output) {
      return failed([
        issue(
          "E082",
          `type checking the plan module took longer than ${CHECK_TIMEOUT_MS / 1000} s`,
          "run `deno check` on it to see why",
        ),
      ]);
    }
    if (!check.output.success) return failed(childErrors(path, check.stderr, check.output.code));
  }

  const timeoutMs = options.timeoutMs ?? SANDBOX_TIMEOUT_MS;
  const run = await runDeno(sandboxArgs(path), timeoutMs);
  runMs = run.ms;
  if (!run.output) {
    return failed([
      issue(
        "E083",
        `plan module did not finish within ${timeoutMs / 1000} s`,
        "a plan module should only build the plan; look for a loop that never ends",
      ),
    ]);
  }
  const resultLine = run.stdout.split("\n").findLast((line) => line.startsWith(RESULT_MARKER));
  if (!run.output.success || !resultLine) {
    return failed(childErrors(path, run.stderr, run.output.code));
  }
  const result = JSON.parse(resultLine.slice(RESULT_MARKER.length)) as ChildResult;
  if (!result.ok) {
    return failed([{
      ...issue("E082", result.detail, "end the module with `export default plan({...}).task(...)`"),
      line: 1,
      column: 1,
    }]);
  }
  return {
    data: result.plan,
    sourceMap: sitesMap(path, result.sites),
    errors: [],
    checkMs,
    runMs,
  };
}

function unknownPositions(file: string): SourceMap {
  return { file, locate: () => ({ line: 0, column: 0 }) };
}

/** A source map for a TS plan: tasks point at their `.task(` call, the rest at `plan(`. */
function sitesMap(file: string, sites: PlanSites): SourceMap {
  const url = toFileUrl(file).href;
  const inPlan = (stack: readonly CallSite[] | undefined) => stack?.find((s) => s.url === url);
  const planSite = inPlan(sites.plan);
  return {
    file,
    locate(path) {
      const taskSite = path[0] === "tasks" && typeof path[1] === "number"
        ? inPlan(sites.tasks[path[1]])
        : undefined;
      const site = taskSite ?? planSite;
      return site ? { line: site.line, column: site.column } : { line: 0, column: 0 };
    },
  };
}

// Deno colours some lines even with NO_COLOR; the escapes would end up in messages.
// deno-lint-ignore no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;
const TS_DIAGNOSTIC = /^(TS\d+) \[ERROR\]: (.*)$/;
const AT_FRAME = /^\s+at .*?((?:file|data):[^\s()]+):(\d+):(\d+)\)?\s*$/;
const NOT_CAPABLE = /Requires (\w+) access to (.+?), run again with the --allow-\w+ flag/;

/** What a denied permission means, in the author's terms. */
function attempted(kind: string, target: string): string {
  switch (kind) {
    case "read":
      return `read ${target} (outside the plan's folder)`;
    case "write":
      return `write ${target}`;
    case "net":
      return `use the network (${target})`;
    case "env":
      return `read the environment variable ${target}`;
    case "run":
      return `run the program ${target}`;
    case "sys":
      return `read system information (${target})`;
    case "ffi":
      return `load the native library ${target}`;
    case "import":
      return `import ${target}`;
    default:
      return `use ${kind} access to ${target}`;
  }
}

/** Parses the child's stderr into issues, positioned in the plan's folder where possible. */
export function childErrors(file: string, stderr: string, exitCode: number): PlanIssue[] {
  const lines = stderr.replace(ANSI, "").split("\n");
  const folderUrl = toFileUrl(dirname(file)).href;
  const folder = folderUrl.endsWith("/") ? folderUrl : `${folderUrl}/`;
  const where = (from: number) => {
    for (let i = from; i < lines.length; i++) {
      const match = AT_FRAME.exec(lines[i]!);
      if (match && match[1]!.startsWith(folder)) {
        return { file: fromFileUrl(match[1]!), line: Number(match[2]), column: Number(match[3]) };
      }
    }
    return { file, line: 0, column: 0 };
  };

  const typeErrors: PlanIssue[] = [];
  lines.forEach((line, i) => {
    const match = TS_DIAGNOSTIC.exec(line);
    if (match) {
      typeErrors.push({
        code: "E082",
        message: `type error ${match[1]}: ${match[2]}`,
        ...where(i + 1),
        hint: "fix the plan module's types (`deno check` shows the same errors)",
      });
    }
  });
  if (typeErrors.length > 0) return typeErrors;

  const errorIndex = lines.findIndex((line) => line.startsWith("error: "));
  const text = errorIndex >= 0 ? lines[errorIndex]!.slice("error: ".length) : "";
  const denied = NOT_CAPABLE.exec(text);
  if (denied) {
    const target = denied[2]!;
    return [{
      code: "E083",
      message: `plan module tried to ${
        attempted(denied[1]!, target)
      }, which plan modules may not do`,
      ...where(errorIndex + 1),
      hint: `a plan module may only read files in its own folder (${dirname(file)}); ` +
        "no network, environment, subprocesses or writes: let a task do that at run time",
    }];
  }
  if (errorIndex < 0) {
    const tail = lines.filter((line) => line.trim() !== "").slice(-3).join(" | ");
    return [{
      code: "E082",
      message: `plan module failed (exit code ${exitCode})${tail ? `: ${tail}` : ""}`,
      file,
      line: 0,
      column: 0,
    }];
  }
  const uncaught = /^Uncaught (?:\(in promise\) )?(.*)$/.exec(text);
  const message = uncaught
    ? `plan module threw ${uncaught[1]}`
    : text.startsWith("SyntaxError")
    ? `syntax error in plan module: ${text.replace(/^SyntaxError: /, "")}`
    : `cannot load plan module: ${text}`;
  return [{ code: "E082", message, ...where(errorIndex + 1) }];
}

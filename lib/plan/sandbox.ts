/**
 * The TypeScript front end's sandbox: a plan module is evaluated in a child Deno process that
 * may read only the plan's own folder, with no network, no subprocesses, no environment, no
 * writes, no prompts and a time limit. The child prints the authored plan as JSON (the same
 * snake_case data a YAML file holds) plus where each task was written; validation and lowering
 * then happen here, in the parent, through the normal pipeline.
 *
 * Neither `deno check` nor the loading of static imports asks for read permission, so before
 * either runs, the module graph (`deno info`) is checked: a plan module may import files of its
 * own folder, `@maestro/core` and npm packages, nothing else. Messages about files outside the
 * folder are never shown: a type or syntax error quotes the file it is in.
 *
 * `@maestro/core` (and `jsr:@maestro/core`) resolve to this Maestro's own builder through a
 * generated import map, so a plan always builds against the version that runs it, offline.
 * The map also carries Maestro's npm imports from deno.json (served from the local cache).
 *
 * @module
 */
import { isFile } from "../fs.ts";
import { escapeRegExp } from "../regexp.ts";
import { dirname, fromFileUrl, isAbsolute, relative, resolve, toFileUrl } from "../path.ts";
import denoJson from "../../deno.json" with { type: "json" };
import type { PlanIssue } from "../errors.ts";
import type { CallSite, PlanSites } from "./builder.ts";
import { dotted } from "./describe.ts";
import type { PlanSource } from "./load.ts";
import { type ChildResult, type NonFiniteNumber, RESULT_MARKER } from "./sandbox_child.ts";
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
  /** Wall-clock time of listing the imports and type checking, in milliseconds. */
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

/**
 * The `deno info` arguments that list a plan module's imports (types-only ones too). Runs no
 * plan code; `--no-npm` because npm packages are allowed anyway, and resolving one that is not
 * cached would download it.
 */
export function graphArgs(file: string): string[] {
  return [
    "info",
    "--json",
    "--no-config",
    "--no-lock",
    "--no-remote",
    "--no-npm",
    `--import-map=${sandboxImportMap()}`,
    file,
  ];
}

/**
 * The `deno check` arguments for a plan module. Type checking runs no plan code, but reads
 * every module of the graph and quotes them in its messages: run it only on a graph that
 * {@linkcode foreignImports} accepted.
 */
export function checkArgs(file: string): string[] {
  return ["check", "--quiet", ...RESOLUTION_FLAGS, `--import-map=${sandboxImportMap()}`, file];
}

/**
 * The `deno run` arguments that evaluate a plan module: the sandbox itself. Run them with the
 * plan's folder as the working directory: Deno splits `--allow-read` on commas and has no
 * escape for them, so the folder is given as `.`, which works for any folder name.
 */
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
    "--allow-read=.",
    "--v8-flags=--max-old-space-size=512",
    `data:application/typescript;base64,${btoa(main)}`,
  ];
}

/** A position in `deno info --json` output (0-based). */
interface GraphSpan {
  start: { line: number; character: number };
}

/** One resolution of an import in `deno info --json` output. */
interface GraphResolution {
  specifier?: string;
  span?: GraphSpan;
}

/** One import of a module in `deno info --json` output: its code and its types. */
interface GraphDependency {
  specifier: string;
  code?: GraphResolution;
  type?: GraphResolution;
}

/** The part of `deno info --json` output that {@linkcode foreignImports} reads. */
export interface ModuleGraph {
  /** URLs of the modules the graph starts from. */
  roots: string[];
  /** Every module reached, with what it imports. */
  modules: Array<{
    specifier: string;
    dependencies?: GraphDependency[];
    typesDependency?: { specifier: string; dependency?: GraphResolution };
  }>;
}

interface Position {
  file: string;
  line: number;
  column: number;
}

/** The real path of a file when it exists (symlinks resolved), else the path itself. */
function realPathOrSelf(path: string): string {
  try {
    return Deno.realPathSync(path);
  } catch {
    return path;
  }
}

/** True when `path` is `folder` or below it. */
function isWithin(path: string, folder: string): boolean {
  const rel = relative(folder, path);
  return rel !== ".." && !rel.startsWith("../") && !isAbsolute(rel);
}

/** Every import of a graph module, its `X-TypeScript-Types`-style types import included. */
function importsOf(module: ModuleGraph["modules"][number] | undefined): GraphDependency[] {
  const imports = [...(module?.dependencies ?? [])];
  if (module?.typesDependency) {
    const { specifier, dependency } = module.typesDependency;
    imports.push({ specifier, type: dependency });
  }
  return imports;
}

/** E083 for an import of `url`, outside `folder`; `written` is the specifier as written. */
function foreignImportIssue(
  url: string,
  written: string | undefined,
  at: Position,
  folder: string,
  realPath: (path: string) => string,
): PlanIssue {
  const path = fromFileUrl(url);
  const linked = realPath(path);
  const shown = path === linked ? path : `${path} (a link to ${linked})`;
  const as = written !== undefined && written !== path ? ` (${JSON.stringify(written)})` : "";
  return {
    code: "E083",
    message: `plan module imports ${shown}${as}, outside the plan's folder, ` +
      "which plan modules may not do",
    ...at,
    hint: `a plan module may import only modules in its own folder (${folder}), ` +
      "`@maestro/core` and npm packages: copy what it needs into the folder",
  };
}

/**
 * The imports of a plan module's graph that reach files outside its folder, as E083 issues at
 * the import. Allowed: files in the folder (after resolving symlinks), `@maestro/core` (whose
 * own imports are Maestro's business), `npm:` and `node:` modules. Other modules (`data:`, or
 * remote ones, which fail later) are followed, since they may import files in turn.
 *
 * @param graph `deno info --json` output for the plan module
 * @param folder the plan's folder
 * @param realPath resolves symlinks (injectable for tests)
 */
export function foreignImports(
  graph: ModuleGraph,
  folder: string,
  realPath: (path: string) => string = realPathOrSelf,
): PlanIssue[] {
  const home = realPath(folder);
  const root = graph.roots[0];
  const unknown = {
    file: root?.startsWith("file:") ? fromFileUrl(root) : folder,
    line: 0,
    column: 0,
  };
  const modules = new Map(graph.modules.map((m) => [m.specifier, m]));
  const inFolder = (url: string) => isWithin(realPath(fromFileUrl(url)), home);
  const issues = new Map<string, PlanIssue>();
  const seen = new Set<string>(graph.roots);
  const queue: Array<{ url: string; via?: Position }> = graph.roots.map((url) => ({ url }));
  for (let item = queue.shift(); item; item = queue.shift()) {
    const own = item.url.startsWith("file:") ? fromFileUrl(item.url) : undefined;
    for (const dependency of importsOf(modules.get(item.url))) {
      for (const target of [dependency.code, dependency.type]) {
        const to = target?.specifier;
        if (!to || to === BUILDER_URL || /^(npm|node):/.test(to)) continue;
        // positions are the import's in a module of the folder, else where that module came in
        const at = own && target.span
          ? { file: own, line: target.span.start.line + 1, column: target.span.start.character + 1 }
          : item.via;
        if (!to.startsWith("file:") || inFolder(to)) {
          if (!seen.has(to)) queue.push({ url: to, via: at });
          seen.add(to);
          continue;
        }
        // the written specifier is the code's; a `@ts-types` file is only known by its URL
        const written = target === dependency.code ? dependency.specifier : undefined;
        const issue = foreignImportIssue(to, written, at ?? unknown, folder, realPath);
        issues.set(`${to} ${issue.file}:${issue.line}:${issue.column}`, issue);
      }
    }
  }
  return [...issues.values()];
}

interface ChildRun {
  output?: Deno.CommandOutput;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs Deno with a cleared environment; `output` is undefined when the time ran out. */
async function runDeno(args: string[], timeoutMs: number, cwd?: string): Promise<ChildRun> {
  const started = performance.now();
  const signal = AbortSignal.timeout(timeoutMs);
  let output: Deno.CommandOutput | undefined;
  try {
    output = await new Deno.Command(Deno.execPath(), {
      args,
      cwd,
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
    // the module as a whole (a time limit, a refused import): its first line
    line: 1,
    column: 1,
    hint,
  });
  if (!isFile(path)) {
    return failed([{
      ...issue("E081", `plan file not found: ${path}`, "check the path"),
      line: 0,
      column: 0,
    }]);
  }

  const graph = await runDeno(graphArgs(path), CHECK_TIMEOUT_MS);
  checkMs = graph.ms;
  const refused = graphIssues(path, graph);
  if (refused.length > 0) return failed(refused);

  if (options.check !== false) {
    const check = await runDeno(checkArgs(path), CHECK_TIMEOUT_MS);
    checkMs += check.ms;
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
  const run = await runDeno(sandboxArgs(path), timeoutMs, dirname(path));
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
  if (!result.ok && result.problem === "not_finite") {
    return failed(nonFiniteIssues(sitesMap(path, result.sites), result.numbers));
  }
  if (!result.ok) {
    return failed([{
      ...issue("E082", result.detail, "end the module with `export default plan({...}).task(...)`"),
      line: 1,
      column: 1,
    }]);
  }
  return {
    data: result.plan,
    sourceMap: sitesMap(path, result.sites, result.plan),
    errors: [],
    checkMs,
    runMs,
  };
}

/**
 * The import check's verdict: E083 for each import of a file outside the plan's folder, or an
 * error when the imports could not be listed (then nothing of the plan may run or be checked).
 */
function graphIssues(file: string, graph: ChildRun): PlanIssue[] {
  const fail = (message: string): PlanIssue[] => [{
    code: "E082",
    message,
    file,
    line: 0,
    column: 0,
    hint: "run `deno info` on it to see why",
  }];
  if (!graph.output) {
    return fail(`listing the plan module's imports took longer than ${CHECK_TIMEOUT_MS / 1000} s`);
  }
  if (!graph.output.success) return childErrors(file, graph.stderr, graph.output.code);
  let parsed: ModuleGraph;
  try {
    parsed = JSON.parse(graph.stdout) as ModuleGraph;
  } catch {
    return fail("cannot list the plan module's imports: `deno info` printed no module graph");
  }
  return foreignImports(parsed, dirname(file));
}

/** E018 for each NaN or Infinity: JSON, and so the plan format, has no such numbers. */
export function nonFiniteIssues(
  sourceMap: SourceMap,
  numbers: readonly NonFiniteNumber[],
): PlanIssue[] {
  return numbers.map(({ path, value }) => ({
    code: "E018",
    message: `${
      dotted(path)
    } is ${value}: a plan may only hold finite numbers, not NaN or Infinity`,
    file: sourceMap.file,
    ...sourceMap.locate(path),
    hint: value === "NaN"
      ? 'NaN comes from a failed computation, e.g. Number("12,50"): check how the value is made'
      : "write a finite number, or leave the key out for no limit",
  }));
}

function unknownPositions(file: string): SourceMap {
  return { file, locate: () => ({ line: 0, column: 0 }) };
}

/**
 * A source map for a TS plan: tasks point at their `.task(` call, the rest at `plan(`. A plan
 * written as a plain object has no calls: a task then points at where its id is written (the
 * first `id: "<id>"` in the file), the rest at the first line.
 */
function sitesMap(file: string, sites: PlanSites, plan?: unknown): SourceMap {
  const url = toFileUrl(file).href;
  const inPlan = (stack: readonly CallSite[] | undefined) => stack?.find((s) => s.url === url);
  const planSite = inPlan(sites.plan);
  let text: string | undefined;
  const written = (index: number): { line: number; column: number } | undefined => {
    const tasks = (plan as { tasks?: Array<{ id?: unknown }> } | undefined)?.tasks;
    const id = tasks?.[index]?.id;
    if (typeof id !== "string") return undefined;
    try {
      text ??= Deno.readTextFileSync(file);
    } catch {
      return undefined;
    }
    const match = new RegExp(`\\bid\\s*:\\s*["'\`]${escapeRegExp(id)}["'\`]`).exec(text);
    if (!match) return undefined;
    const before = text.slice(0, match.index).split("\n");
    return { line: before.length, column: before.at(-1)!.length + 1 };
  };
  return {
    file,
    locate(path) {
      const task = path[0] === "tasks" && typeof path[1] === "number" ? path[1] : undefined;
      const site = (task === undefined ? undefined : inPlan(sites.tasks[task])) ?? planSite;
      if (site) return { line: site.line, column: site.column };
      return (task === undefined ? undefined : written(task)) ?? { line: 1, column: 1 };
    },
  };
}

// Deno colours some lines even with NO_COLOR; the escapes would end up in messages.
// deno-lint-ignore no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;
const TS_DIAGNOSTIC = /^(TS\d+) \[ERROR\]: (.*)$/;
const AT_FRAME = /^\s+at .*?((?:file|data):[^\s()]+):(\d+):(\d+)\)?\s*$/;
const FILE_URL = /file:\/\/[^\s()'"`]+/g;
/** A denied permission, in any of Deno's wordings ("Requires env access" has no target). */
const REQUIRES = /Requires (\w+) access(?: to (.+?))?(?:, run again with the --allow-\w+ flag)?$/;
/** An uncaught NotCapable error, or one that caused the error that was thrown. */
const NOT_CAPABLE = /^(?:Uncaught (?:\(in promise\) )?|Caused by: )NotCapable: (.*)$/;
const CHILD_PROCESS_FRAME = /^\s+at .*\bchild_process\b/;

/** What a denied permission means, in the author's terms: with its target, and without. */
const DENIED: Record<string, [(target: string) => string, string]> = {
  read: [(t) => `read ${t} (outside the plan's folder)`, "read files outside the plan's folder"],
  write: [(t) => `write ${t}`, "write files"],
  net: [(t) => `use the network (${t})`, "use the network"],
  env: [(t) => `read the environment variable ${t}`, "read environment variables"],
  run: [(t) => `run the program ${t}`, "run a program"],
  sys: [(t) => `read system information (${t})`, "read system information"],
  ffi: [(t) => `load the native library ${t}`, "load a native library"],
  import: [(t) => `import ${t}`, "import a module"],
};

/** What a denied permission means, in the author's terms. */
function attempted(kind: string, target: string | undefined): string {
  const words = DENIED[kind];
  if (!words) return target ? `use ${kind} access to ${target}` : `use ${kind} access`;
  return target ? words[0](target) : words[1];
}

/**
 * What the plan module tried, when `text` (the error line, or a "Caused by:" line of its stack)
 * is a denied permission. `stack` tells a subprocess from the permission it asked for first:
 * node:child_process reads the environment before it starts anything.
 */
function deniedAction(text: string, stack: readonly string[]): string | undefined {
  const notCapable = NOT_CAPABLE.exec(text);
  const requires = REQUIRES.exec(notCapable ? notCapable[1]! : text);
  if (!notCapable && !requires) return undefined;
  if (stack.some((line) => CHILD_PROCESS_FRAME.test(line))) {
    return "start a subprocess (node:child_process)";
  }
  if (requires) return attempted(requires[1]!, requires[2]);
  return `do something the sandbox forbids (${notCapable![1]})`;
}

/** The `file:` URL of a folder, with the trailing slash that makes it a prefix. */
function folderUrl(file: string): string {
  const url = toFileUrl(dirname(file)).href;
  return url.endsWith("/") ? url : `${url}/`;
}

/** The first stack frame among `lines`, as a position. */
function firstFrame(
  lines: readonly string[],
): { url: string; line: number; column: number } | undefined {
  for (const text of lines) {
    const match = AT_FRAME.exec(text);
    if (match) return { url: match[1]!, line: Number(match[2]), column: Number(match[3]) };
  }
  return undefined;
}

/**
 * Type errors of `deno check` output, at their positions. A diagnostic located outside the
 * plan's folder is reported without its text: TypeScript quotes the code it is about, and
 * that code may be a file the plan has no business reading.
 */
function typeErrors(file: string, lines: readonly string[]): PlanIssue[] {
  const folder = folderUrl(file);
  const issues: PlanIssue[] = [];
  lines.forEach((line, i) => {
    const match = TS_DIAGNOSTIC.exec(line);
    if (!match) return;
    let end = i + 1;
    while (
      end < lines.length && !TS_DIAGNOSTIC.test(lines[end]!) && !lines[end]!.startsWith("error: ")
    ) {
      end++;
    }
    const frame = firstFrame(lines.slice(i + 1, end));
    const hint = "fix the plan module's types (`deno check` shows the same errors)";
    if (!frame || frame.url.startsWith(folder)) {
      const at = frame
        ? { file: fromFileUrl(frame.url), line: frame.line, column: frame.column }
        : { file, line: 0, column: 0 };
      issues.push({ code: "E082", message: `type error ${match[1]}: ${match[2]}`, ...at, hint });
      return;
    }
    issues.push({
      code: "E082",
      message: `type error ${match[1]} in ${where(frame)}, outside the plan's folder ` +
        "(its text is not shown: it may quote that file)",
      file,
      line: 0,
      column: 0,
      hint: "the error is in a module the plan imports: check the plan's imports",
    });
  });
  return issues;
}

/** What V8 prints when the heap limit is reached (with a C stack trace not worth showing). */
const OUT_OF_MEMORY = /heap out of memory|Fatal JavaScript out of memory|Reached heap limit/i;

/** `path:line:column` of a frame, or its URL when it is not a file. */
function where(frame: { url: string; line: number; column: number }): string {
  const name = frame.url.startsWith("file:") ? fromFileUrl(frame.url) : frame.url;
  return `${name}:${frame.line}:${frame.column}`;
}

/** The first `file:` URL of `text` outside the plan's folder, as a path. */
function foreignFile(text: string, folder: string): string | undefined {
  const url = text.match(FILE_URL)?.find((u) => !u.startsWith(folder))?.replace(/(:\d+)+$/, "");
  if (url === undefined) return undefined;
  try {
    return fromFileUrl(url);
  } catch {
    return url; // a host or an encoded "/": still outside, still a name worth showing
  }
}

/**
 * Parses the child's stderr into issues, positioned in the plan's folder where possible.
 * Nothing quoted from a file outside the plan's folder is passed on.
 */
export function childErrors(file: string, stderr: string, exitCode: number): PlanIssue[] {
  const lines = stderr.replace(ANSI, "").split("\n");
  const folder = folderUrl(file);
  const at = (from: number) => {
    for (let i = from; i < lines.length; i++) {
      const match = AT_FRAME.exec(lines[i]!);
      if (match && match[1]!.startsWith(folder)) {
        return { file: fromFileUrl(match[1]!), line: Number(match[2]), column: Number(match[3]) };
      }
    }
    return { file, line: 0, column: 0 };
  };

  const types = typeErrors(file, lines);
  if (types.length > 0) return types;

  const errorIndex = lines.findIndex((line) => line.startsWith("error: "));
  const text = errorIndex >= 0 ? lines[errorIndex]!.slice("error: ".length) : "";
  const stack = lines.slice(errorIndex + 1);
  const causes = stack.filter((line) => line.startsWith("Caused by: "));
  const denied = [text, ...causes].map((t) => deniedAction(t, stack)).find((d) => d);
  if (errorIndex >= 0 && denied) {
    return [{
      code: "E083",
      message: `plan module tried to ${denied}, which plan modules may not do`,
      ...at(errorIndex + 1),
      hint: `a plan module may only read files in its own folder (${dirname(file)}); ` +
        "no network, environment, subprocesses or writes: let a task do that at run time",
    }];
  }
  if (errorIndex < 0 && lines.some((line) => OUT_OF_MEMORY.test(line))) {
    return [{
      code: "E082",
      message: "plan module ran out of memory (plan modules get a 512 MB heap)",
      file,
      line: 1,
      column: 1,
      hint: "look for a loop that builds ever more data; a plan is a list of tasks, not their work",
    }];
  }
  if (errorIndex < 0) {
    const hidden = lines.some((line) => foreignFile(line, folder));
    const tail = hidden ? "" : lines.filter((line) => line.trim() !== "").slice(-3).join(" | ");
    return [{
      code: "E082",
      message: `plan module failed (exit code ${exitCode})${tail ? `: ${tail}` : ""}`,
      file,
      line: 0,
      column: 0,
      hint: hidden
        ? "the output named a file outside the plan's folder, so it is not shown"
        : "run the plan module with `deno run` to see more",
    }];
  }
  const foreign = foreignFile(text, folder);
  if (foreign) {
    return [{
      code: "E082",
      message: `cannot load plan module: an error in ${foreign}, outside the plan's folder ` +
        "(its text is not shown: it may quote that file)",
      file,
      line: 0,
      column: 0,
      hint: "a plan module may import only modules in its own folder and `@maestro/core`",
    }];
  }
  const uncaught = /^Uncaught (?:\(in promise\) )?(.*)$/.exec(text);
  const message = uncaught
    ? `plan module threw ${uncaught[1]}`
    : text.startsWith("SyntaxError")
    ? `syntax error in plan module: ${text.replace(/^SyntaxError: /, "")}`
    : `cannot load plan module: ${text}`;
  return [{
    code: "E082",
    message,
    ...at(errorIndex + 1),
    hint: text.includes("Maximum call stack size exceeded")
      ? "TypeScript cannot check a `.task()` chain of many hundreds of calls: build the plan " +
        "in parts (`const part1 = plan({...}).task(...); export default part1.task(...)`)"
      : uncaught
      ? "fix the code at this position"
      : "fix the plan module",
  }];
}

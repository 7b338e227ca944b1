/**
 * `assert:` workspace assertions (seed-behaviour §8 step 5): checks on files in the task's
 * working directory after an attempt, in the reference tool's vocabulary. Paths and globs are
 * relative to the task's workdir. Each entry is `{type, ...fields, message?, severity?, rule?}`.
 *
 * | type | passes when | fields |
 * | --- | --- | --- |
 * | glob_exists | at least one file matches the glob (`**`, `*`, `?`, `{a,b}`, `[..]`) | glob |
 * | file_contains | the file contains the text | path, pattern |
 * | file_not_contains | it does not (a missing file passes) | path, pattern |
 * | file_contains_count | the text occurs `count` times (or between `min` and `max`) | path, pattern, count \| min/max |
 * | file_regex | the regex matches the file's content; for a folder, one of its entry names | path, pattern |
 * | file_regex_absent | it matches nothing (a missing file passes) | path, pattern |
 * | json_path_exists | the JSON file has a value at `json_path` (`$.a.b[0]` or `a.b.0`) | path, json_path |
 * | npm_package_present | package.json lists the package in any dependency block | package, [path] |
 * | composer_package_present | composer.json lists it in require or require-dev | package, [path] |
 *
 * A failed assertion fails the attempt when its `severity` is `error` (the default); with
 * `warning` or `info` it is a warning: recorded and shown, the task still passes. Any other
 * severity is a validation error, and a key the type does not read is reported as unknown
 * ({@linkcode workspaceAssertionIssues}).
 *
 * A glob's literal leading folders are resolved against the workdir first, so `../x/*.ts` and
 * absolute globs work; a path without glob characters is checked directly (a file or a folder,
 * `node_modules` included).
 *
 * @module
 */
import { didYouMean } from "../errors.ts";
import { isAbsolute, join, relative, resolve } from "../path.ts";
import { pathExists } from "../fs.ts";
import { splitGlob } from "../glob_split.ts";
import { clip } from "./clip.ts";
import type { CheckResult } from "./types.ts";

/** The assertion types, in the reference's order. */
export const WORKSPACE_ASSERTION_TYPES: readonly string[] = [
  "glob_exists",
  "file_contains",
  "file_contains_count",
  "file_not_contains",
  "file_regex",
  "file_regex_absent",
  "json_path_exists",
  "composer_package_present",
  "npm_package_present",
];

/** What a failed assertion does: `error` fails the attempt, the others only warn. */
export type AssertionSeverity = "error" | "warning" | "info";

/** The severities, most severe first (docs/gates.md). */
export const ASSERTION_SEVERITIES: readonly AssertionSeverity[] = ["error", "warning", "info"];

/** Keys every assertion may carry, whatever its type. */
const COMMON_KEYS: readonly string[] = ["type", "message", "severity", "rule"];

/** The keys each type reads (aliases included: they are what `str()` below looks at). */
const TYPE_KEYS: Readonly<Record<string, readonly string[]>> = {
  glob_exists: ["glob", "path", "pattern"],
  file_contains: ["path", "pattern", "value"],
  file_not_contains: ["path", "pattern", "value"],
  file_contains_count: ["path", "pattern", "value", "count", "min", "max"],
  file_regex: ["path", "pattern", "value"],
  file_regex_absent: ["path", "pattern", "value"],
  json_path_exists: ["path", "json_path", "key", "json_pointer"],
  composer_package_present: ["package", "name", "path"],
  npm_package_present: ["package", "name", "path"],
};

/** Folders never walked by glob_exists. */
const SKIPPED_DIRS = new Set([".git", "node_modules", ".maestro-runs"]);
/** At most this many files are looked at by one glob. */
const MAX_WALK = 100_000;

function str(spec: Record<string, unknown>, ...keys: string[]): string | undefined {
  for (const key of keys) {
    const value = spec[key];
    if (typeof value === "string" && value !== "") return value;
    if (typeof value === "number") return String(value);
  }
  return undefined;
}

/**
 * The severity an assertion asks for: `error` when it names none, null when it names
 * something that is not a severity (so a typo never passes for one).
 *
 * @param value the entry's `severity` as written
 */
export function assertionSeverity(value: unknown): AssertionSeverity | null {
  if (value === undefined || value === null) return "error";
  return ASSERTION_SEVERITIES.find((s) => s === value) ?? null;
}

/** The severity someone who wrote `value` probably meant (`warn` → `warning`, `Info` → `info`). */
function suggestSeverity(value: string): AssertionSeverity | undefined {
  const lower = value.trim().toLowerCase();
  if (lower === "") return undefined;
  // prefixes catch the usual abbreviations (`warn`, `err`, `inf`) and plurals (`warnings`),
  // which are too far from the full word for an edit distance
  return ASSERTION_SEVERITIES.find((s) => s.startsWith(lower) || lower.startsWith(s)) ??
    didYouMean(lower, ASSERTION_SEVERITIES) as AssertionSeverity | undefined;
}

/** Why `severity` is invalid and how to fix it, or undefined when it is valid. */
function severityProblem(value: unknown): { message: string; hint: string } | undefined {
  if (assertionSeverity(value) !== null) return undefined;
  const shown = typeof value === "string" ? `"${value}"` : JSON.stringify(value) ?? String(value);
  const suggestion = typeof value === "string" ? suggestSeverity(value) : undefined;
  return {
    message: `severity ${shown} is not one of ${ASSERTION_SEVERITIES.join(", ")}`,
    hint: suggestion
      ? `did you mean "${suggestion}"?`
      : `use ${ASSERTION_SEVERITIES.join(", ")} (error fails the task, the others warn)`,
  };
}

/**
 * The keys an assertion of `type` reads, or undefined for an unknown type.
 *
 * @param type the assertion's `type`
 */
export function workspaceAssertionKeys(type: string): readonly string[] | undefined {
  const own = TYPE_KEYS[type];
  return own ? [...COMMON_KEYS, ...own] : undefined;
}

/** A problem of one `assert:` entry, for validation. */
export interface WorkspaceAssertionIssue {
  /** `E018`: the entry cannot be evaluated; `W01`: a key its type does not read (ignored). */
  code: "E018" | "W01";
  /** The key it is about (for the position), or undefined for the entry as a whole. */
  key?: string;
  /** What is wrong; a W01 message ends in " is ignored", like other unknown keys. */
  message: string;
  /** How to fix it (a did-you-mean when there is a likely intent). */
  hint: string;
}

/**
 * Every problem of one `assert:` entry: the one that keeps it from being evaluated (E018),
 * and each unknown key (W01; the plan loader makes those E031 under `--strict`).
 *
 * @param spec the entry as written
 */
export function workspaceAssertionIssues(
  spec: Record<string, unknown>,
): WorkspaceAssertionIssue[] {
  const issues: WorkspaceAssertionIssue[] = [];
  const type = String(spec.type ?? "");
  const fieldProblem = fieldsProblem(spec);
  if (fieldProblem !== undefined) {
    const unknownType = !WORKSPACE_ASSERTION_TYPES.includes(type);
    const suggestion = unknownType ? didYouMean(type, WORKSPACE_ASSERTION_TYPES) : undefined;
    issues.push({
      code: "E018",
      key: "type",
      message: fieldProblem,
      hint: suggestion
        ? `did you mean "${suggestion}"?`
        : unknownType
        ? `use one of ${WORKSPACE_ASSERTION_TYPES.join(", ")}`
        : "see docs/gates.md for each assertion's fields",
    });
  }
  const severity = severityProblem(spec.severity);
  if (severity) issues.push({ code: "E018", key: "severity", ...severity });
  const known = workspaceAssertionKeys(type);
  for (const key of known ? Object.keys(spec) : []) {
    if (known!.includes(key)) continue;
    const suggestion = didYouMean(key, known!);
    issues.push({
      code: "W01",
      key,
      message: `unknown key "${key}" in a ${type} assertion is ignored`,
      hint: suggestion ? `did you mean "${suggestion}"?` : `${type} reads ${known!.join(", ")}`,
    });
  }
  return issues;
}

/**
 * Why a workspace assertion cannot be evaluated (for validation), or undefined. Unknown keys
 * are not a reason (they are warnings: {@linkcode workspaceAssertionIssues}).
 *
 * @param spec the entry as written
 */
export function workspaceAssertionProblem(spec: Record<string, unknown>): string | undefined {
  const fields = fieldsProblem(spec);
  if (fields !== undefined) return fields;
  const severity = severityProblem(spec.severity);
  // callers that only take a message get the suggestion in it
  return severity && `${severity.message} (${severity.hint})`;
}

/** Why the type and its fields cannot be evaluated, or undefined. */
function fieldsProblem(spec: Record<string, unknown>): string | undefined {
  const type = String(spec.type ?? "");
  if (!WORKSPACE_ASSERTION_TYPES.includes(type)) {
    return `unknown assertion type '${type}'`;
  }
  const need = (what: string, ...keys: string[]) =>
    str(spec, ...keys) === undefined ? `${type} needs ${what}` : undefined;
  switch (type) {
    case "glob_exists":
      return need("a glob", "glob", "path", "pattern");
    case "file_contains":
    case "file_not_contains":
      return need("a path", "path") ?? need("a pattern", "pattern", "value");
    case "file_contains_count":
      return need("a path", "path") ?? need("a pattern", "pattern", "value") ??
        (typeof spec.count === "number" || typeof spec.min === "number" ||
            typeof spec.max === "number"
          ? undefined
          : "file_contains_count needs count, min or max");
    case "file_regex":
    case "file_regex_absent": {
      const missing = need("a path", "path") ?? need("a pattern", "pattern", "value");
      if (missing) return missing;
      try {
        new RegExp(str(spec, "pattern", "value")!, "m");
      } catch (error) {
        return `invalid regex: ${(error as Error).message}`;
      }
      return undefined;
    }
    case "json_path_exists":
      return need("a path", "path") ?? need("a json_path", "json_path", "key", "json_pointer");
    default:
      return need("a package", "package", "name");
  }
}

/** A glob as a regular expression over `/`-separated relative paths. */
export function globToRegExp(glob: string): RegExp {
  let re = "";
  let inClass = false;
  let braces = 0;
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i]!;
    if (inClass) {
      if (ch === "]") inClass = false;
      re += ch === "\\" ? "\\\\" : ch;
      continue;
    }
    if (ch === "*") {
      if (glob[i + 1] === "*") {
        const slash = glob[i + 2] === "/";
        re += slash ? "(?:.*/)?" : ".*";
        i += slash ? 2 : 1;
      } else re += "[^/]*";
    } else if (ch === "?") re += "[^/]";
    else if (ch === "[") {
      inClass = true;
      re += "[";
      if (glob[i + 1] === "!") {
        re += "^";
        i++;
      }
    } else if (ch === "{") {
      braces++;
      re += "(?:";
    } else if (ch === "}" && braces > 0) {
      braces--;
      re += ")";
    } else if (ch === "," && braces > 0) re += "|";
    else re += ch.replace(/[.+^$()|\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

/** Relative paths of the files under `root` (skipping .git, node_modules), at most MAX_WALK. */
function* walk(root: string, prefix = ""): Generator<string> {
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(join(root, prefix))];
  } catch {
    return;
  }
  entries.sort((a, b) => a.name < b.name ? -1 : 1);
  for (const entry of entries) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory) {
      if (!SKIPPED_DIRS.has(entry.name)) yield* walk(root, rel);
    } else if (!entry.isSymlink || linksToFile(join(root, rel))) yield rel;
  }
}

/** Whether a symlink leads to a file: a dangling one names nothing that exists. */
function linksToFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** Up to 5 matches of a glob, spelt the way the glob is (relative, `../` or absolute). */
function globMatches(workdir: string, glob: string): string[] {
  const { base, literal, rest } = splitGlob(workdir, glob);
  // no glob character: a stat, so folders and paths the walk skips (node_modules) count too
  if (rest === "") return pathExists(base) ? [literal || "."] : [];
  const pattern = globToRegExp(rest);
  const prefix = literal === "" ? "" : literal.endsWith("/") ? literal : `${literal}/`;
  const hits: string[] = [];
  let seen = 0;
  for (const rel of walk(base)) {
    if (++seen > MAX_WALK) break;
    if (pattern.test(rel)) {
      hits.push(prefix + rel);
      if (hits.length >= 5) break;
    }
  }
  return hits;
}

function readText(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return undefined;
  }
}

function isDir(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

function countOccurrences(text: string, needle: string): number {
  if (needle === "") return 0;
  let n = 0;
  for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + needle.length)) n++;
  return n;
}

/** The steps of a JSON path: `$.a.b[0]`, `a.b.0`, `/a/b/0` (JSON Pointer), `$['a b']`. */
export function jsonPathSteps(path: string): string[] {
  if (path.startsWith("/")) {
    return path.slice(1).split("/").map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
  }
  const steps: string[] = [];
  const body = path.replace(/^\$\.?/, "");
  const re = /\[\s*'([^']*)'\s*\]|\[\s*"([^"]*)"\s*\]|\[(\d+)\]|([^.[\]]+)/g;
  for (const m of body.matchAll(re)) steps.push(m[1] ?? m[2] ?? m[3] ?? m[4]!);
  return steps;
}

function hasJsonPath(value: unknown, path: string): boolean {
  let node = value;
  for (const step of jsonPathSteps(path)) {
    if (Array.isArray(node) && /^\d+$/.test(step)) {
      const index = Number(step);
      if (index >= node.length) return false;
      node = node[index];
    } else if (node !== null && typeof node === "object" && Object.hasOwn(node, step)) {
      node = (node as Record<string, unknown>)[step];
    } else return false;
  }
  return true;
}

type Evaluation = { passed: boolean; reason: string };

function evaluate(
  spec: Record<string, unknown>,
  workdir: string,
  q: (text: string) => string,
): Evaluation {
  const type = String(spec.type);
  const rawPath = str(spec, "path") ?? "";
  const path = isAbsolute(rawPath) ? rawPath : resolve(workdir, rawPath);
  const shown = rawPath || ".";
  const pattern = str(spec, "pattern", "value") ?? "";
  switch (type) {
    case "glob_exists": {
      const glob = str(spec, "glob", "path", "pattern")!;
      const hits = globMatches(workdir, glob);
      return hits.length > 0
        ? { passed: true, reason: `${glob} matches ${hits[0]}` }
        : { passed: false, reason: `no file matches ${glob}` };
    }
    case "file_contains":
    case "file_not_contains":
    case "file_contains_count": {
      if (isDir(path)) return { passed: false, reason: `${shown} is a folder, not a file` };
      const text = readText(path);
      if (text === undefined) {
        return type === "file_not_contains"
          ? { passed: true, reason: `${shown} does not exist` }
          : { passed: false, reason: `${shown} not found or unreadable` };
      }
      const n = countOccurrences(text, pattern);
      if (type === "file_contains") {
        return { passed: n > 0, reason: `${shown} ${n > 0 ? "contains" : "lacks"} ${q(pattern)}` };
      }
      if (type === "file_not_contains") {
        return {
          passed: n === 0,
          reason: n === 0 ? `${shown} lacks ${q(pattern)}` : `${shown} contains ${q(pattern)}`,
        };
      }
      const min = typeof spec.count === "number" ? spec.count : spec.min as number | undefined;
      const max = typeof spec.count === "number" ? spec.count : spec.max as number | undefined;
      const passed = (min === undefined || n >= min) && (max === undefined || n <= max);
      const want = spec.count !== undefined ? `${spec.count}` : `${min ?? 0}..${max ?? "∞"}`;
      return { passed, reason: `${shown} contains ${q(pattern)} ${n} times (want ${want})` };
    }
    case "file_regex":
    case "file_regex_absent": {
      const re = new RegExp(pattern, "m");
      let hit: string | undefined;
      let exists = true;
      if (isDir(path)) {
        hit = [...Deno.readDirSync(path)].map((e) => e.name).sort().find((name) => re.test(name));
      } else {
        const text = readText(path);
        if (text === undefined) exists = false;
        else hit = re.exec(text)?.[0];
      }
      if (type === "file_regex") {
        if (!exists) return { passed: false, reason: `${shown} not found or unreadable` };
        return hit !== undefined
          ? { passed: true, reason: `${shown} matches /${pattern}/ (${q(hit)})` }
          : { passed: false, reason: `${shown} does not match /${pattern}/` };
      }
      return hit === undefined
        ? { passed: true, reason: `${shown} has no match for /${pattern}/` }
        : { passed: false, reason: `${shown} matches /${pattern}/: ${q(hit)}` };
    }
    case "json_path_exists": {
      const jsonPath = str(spec, "json_path", "key", "json_pointer")!;
      const text = readText(path);
      if (text === undefined) return { passed: false, reason: `${shown} not found or unreadable` };
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        return { passed: false, reason: `${shown} is not valid JSON` };
      }
      const passed = hasJsonPath(value, jsonPath);
      return { passed, reason: `${shown} ${passed ? "has" : "has no"} ${jsonPath}` };
    }
    case "npm_package_present":
    case "composer_package_present": {
      const npm = type === "npm_package_present";
      const manifest = rawPath ? path : join(workdir, npm ? "package.json" : "composer.json");
      const name = str(spec, "package", "name")!;
      const text = readText(manifest);
      const file = relative(workdir, manifest) || manifest;
      if (text === undefined) return { passed: false, reason: `${file} not found` };
      let data: Record<string, unknown>;
      try {
        data = JSON.parse(text);
      } catch {
        return { passed: false, reason: `${file} is not valid JSON` };
      }
      const blocks = npm
        ? ["dependencies", "devDependencies", "peerDependencies", "optionalDependencies"]
        : ["require", "require-dev"];
      const block = blocks.find((b) => {
        const deps = data?.[b];
        return deps !== null && typeof deps === "object" && Object.hasOwn(deps, name);
      });
      return block
        ? { passed: true, reason: `${file} lists ${name} in ${block}` }
        : { passed: false, reason: `${file} does not list ${name}` };
    }
  }
  return { passed: false, reason: `unknown assertion type '${type}'` };
}

/** A pattern or a match, quoted and shortened for a reason (masked first: see clip). */
function quoted(text: string, mask: (text: string) => string): string {
  return JSON.stringify(clip(mask(text), 60));
}

/**
 * Evaluates one workspace assertion against the files under `workdir`.
 *
 * @param spec the assertion as written
 * @param workdir the task's absolute working directory
 * @param mask the run's secret masker, applied to quoted text before it is shortened
 */
export function evaluateWorkspaceAssertion(
  spec: Record<string, unknown>,
  workdir: string,
  mask: (text: string) => string = (text) => text,
): CheckResult {
  const type = String(spec.type ?? "");
  // an invalid severity is reported as the problem below; the check then fails as an error,
  // since a misspelt `warning` must not quietly decide whether the task fails
  const severity = assertionSeverity(spec.severity) ?? "error";
  const name = typeof spec.rule === "string"
    ? `${spec.rule} ${type}`
    : `${type} ${str(spec, "glob", "path", "package") ?? ""}`.trim();
  const problem = workspaceAssertionProblem(spec);
  if (problem) {
    return { type, name, passed: false, score: 0, reason: problem, severity, error: true };
  }
  let result: Evaluation;
  try {
    result = evaluate(spec, workdir, (text) => quoted(text, mask));
  } catch (error) {
    result = { passed: false, reason: `could not check: ${(error as Error).message}` };
  }
  const message = typeof spec.message === "string" && !result.passed ? `${spec.message}: ` : "";
  return {
    type,
    name,
    passed: result.passed,
    score: result.passed ? 1 : 0,
    reason: message + result.reason,
    severity,
  };
}

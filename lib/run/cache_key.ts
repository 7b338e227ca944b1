/**
 * The content-addressed cache key of a task, and what it is made of.
 *
 * A key is the SHA-256 of the RFC 8785 canonical JSON of the task's {@linkcode CacheComponents}:
 * its resolved definition (IR fields that can change the result; provenance and display-only
 * fields left out), its rendered command or prompt, its engine, model and engine CLI version,
 * the values of the env vars it declares, its upstream tasks' keys and outputs (a Merkle tree:
 * a change anywhere upstream changes every key below it), and the content of the files its
 * `inputs:` globs match. The components are stored with each cache entry (hashes shortened),
 * so `maestro explain` can say exactly which of them changed since ({@linkcode diffComponents}).
 *
 * @module
 */
import { isAbsolute, relative } from "../path.ts";
import { sha256Hex } from "../sha256.ts";
import type { TaskIR } from "../plan/ir.ts";
import { canonicalJson } from "./canonical_json.ts";
import type { TaskResult } from "./result.ts";

/** Layout version of {@linkcode CacheComponents}: bumped when what goes into a key changes. */
export const CACHE_COMPONENTS_VERSION = 1;

/**
 * IR fields that do not change what a task produces: provenance, display, scheduling gates and
 * the cache policy itself. `depends_on` and `env` are keyed separately (upstream, env).
 */
const NOT_KEYED: ReadonlySet<string> = new Set([
  "origin",
  "description",
  "tags",
  "depends_on",
  "env",
  "cache",
  "negative_cache_ttl_sec",
  "requires_approval",
  "approval_message",
  "when",
  "group",
]);

/** An upstream task as its dependents' keys see it. */
export interface UpstreamValue {
  /** Its cache key, or null when it is not cached (it runs every time). */
  key: string | null;
  /** {@linkcode outcomeHash} of its result. */
  out: string;
}

/** The engine of an engine task, as keyed. */
export interface EngineComponent {
  /** Engine name. */
  name: string;
  /** Model of the first attempt as the plan names it (null: the CLI's default). */
  model: string | null;
  /** First line of the engine CLI's `--version` (null: unknown). */
  version: string | null;
  /** Custom engines: SHA-256 of the adapter module's source. */
  module?: string;
}

/** Everything a task's key is computed from. */
export interface CacheComponents {
  /** {@linkcode CACHE_COMPONENTS_VERSION}. */
  v: number;
  /** Definition: field → its canonical JSON when short, else `sha256:<hex>` of it. */
  task: Record<string, string>;
  /** Shell tasks: SHA-256 of the rendered command (templates filled in). */
  command?: string;
  /** Engine tasks: SHA-256 of the rendered prompt (with its `Goal:` line). */
  prompt?: string;
  /** Engine tasks: engine, model, CLI version. */
  engine?: EngineComponent;
  /** Declared env vars (`env:` and `defaults.env`): name → SHA-256 of the value. */
  env: Record<string, string>;
  /** Direct (and enclosing groups') dependencies: id → key and output. */
  upstream: Record<string, UpstreamValue>;
  /**
   * Files matched by `inputs:` (path relative to the workdir → SHA-256 of the content), or
   * `glob:<pattern>` → digest of its files when a task matches very many; null without `inputs:`.
   */
  inputs: Record<string, string> | null;
}

/** What {@linkcode cacheComponents} needs besides the task. */
export interface ComponentSources {
  /** The rendered command (shell) or prompt (engine). */
  rendered: string;
  /** Engine tasks: engine, model, version. */
  engine?: EngineComponent;
  /** Upstream values by id. */
  upstream: Record<string, UpstreamValue>;
  /** Hashed `inputs:` files, or null when the task declares none. */
  inputs: Record<string, string> | null;
  /**
   * The plan's folder: paths in the definition (workdir, prompt file, engine module) are keyed
   * relative to it, so a checkout elsewhere (another machine sharing a store) hits too.
   */
  baseDir?: string;
}

/** SHA-256 hex of a string's UTF-8 bytes (or of bytes). */
export function sha256(text: string | Uint8Array): string {
  return sha256Hex(text);
}

/** A field's keyed form: its canonical JSON when short (readable in explain), else its hash. */
function fieldValue(value: unknown): string {
  const json = canonicalJson(value);
  return json.length <= 80 ? json : `sha256:${sha256(json)}`;
}

/**
 * The components of a task's key.
 *
 * @param task the task (IR, flattened id)
 * @param sources rendered text, engine, upstream values and input hashes
 */
export function cacheComponents(task: TaskIR, sources: ComponentSources): CacheComponents {
  const base = sources.baseDir;
  const local = (path: string) =>
    base && isAbsolute(path) ? relative(base, path).replaceAll("\\", "/") || "." : path;
  const fields: Record<string, string> = {};
  for (const [name, value] of Object.entries(task)) {
    if (value === undefined || NOT_KEYED.has(name)) continue;
    let keyed = value;
    if ((name === "workdir" || name === "engine_module") && typeof value === "string") {
      keyed = local(value);
    } else if (name === "prompt" && task.prompt && task.prompt.kind !== "inline") {
      keyed = { ...task.prompt, path: local(task.prompt.path) };
    }
    fields[name] = fieldValue(keyed);
  }
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(task.env)) env[name] = sha256(value);
  const components: CacheComponents = {
    v: CACHE_COMPONENTS_VERSION,
    task: fields,
    env,
    upstream: sources.upstream,
    inputs: sources.inputs,
  };
  if (task.kind === "engine") {
    components.prompt = sha256(sources.rendered);
    if (sources.engine) components.engine = sources.engine;
  } else {
    components.command = sha256(sources.rendered);
  }
  return components;
}

/**
 * The cache key: SHA-256 hex of the canonical JSON of the components.
 *
 * @param components what the key is made of
 */
export function cacheKey(components: CacheComponents): string {
  return sha256(canonicalJson(components));
}

const FULL_HASH = /^(sha256:)?([0-9a-f]{64})$/;

/** Shortens every 64-hex hash inside the components to 16 hex digits (what is stored). */
export function storedComponents(components: CacheComponents): CacheComponents {
  const short = (value: unknown): unknown => {
    if (typeof value === "string") {
      const match = FULL_HASH.exec(value);
      return match ? `${match[1] ?? ""}${match[2]!.slice(0, 16)}` : value;
    }
    if (Array.isArray(value)) return value.map(short);
    if (value && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, short(v)]));
    }
    return value;
  };
  return short(components) as CacheComponents;
}

/**
 * Masks secrets in the readable definition values of stored components (in place), so the
 * store never holds a secret the plan spells out; explain masks the same way before comparing.
 *
 * @param stored components from {@linkcode storedComponents}
 * @param mask the run's masker
 */
export function maskComponents(
  stored: CacheComponents,
  mask: (text: string) => string,
): CacheComponents {
  for (const [name, value] of Object.entries(stored.task)) stored.task[name] = mask(value);
  return stored;
}

/**
 * What a result passes downstream, hashed: status, exit code, output tail and structured
 * context. Timings, paths and messages are left out, so a cache hit (restored with a new
 * time, log path and message) has the same outcome as the run it restores.
 *
 * @param result a final result
 */
export function outcomeHash(result: TaskResult): string {
  const sc = result.structured_context;
  const record = result as unknown as Record<string, unknown>;
  return sha256(canonicalJson({
    status: result.status,
    exit_code: result.exit_code,
    stdout_tail: result.stdout_tail,
    structured: sc
      ? {
        files_changed: sc.files_changed,
        decisions: sc.decisions,
        errors: sc.errors,
        warnings: sc.warnings,
        result_text: sc.result_text,
        summary: sc.summary,
      }
      : null,
    produced_contract: result.produced_contract ?? null,
    output: record["output"] ?? null,
    structured_output: record["structured_output"] ?? null,
  }));
}

/** Which part of the key changed. */
export type ChangeKind =
  | "format"
  | "field"
  | "command"
  | "prompt"
  | "engine"
  | "env"
  | "upstream"
  | "input";

/** One difference between a stored entry's components and the current ones. */
export interface ComponentChange {
  /** Which part. */
  kind: ChangeKind;
  /** Field, env var, engine attribute, upstream id or input path ("" for command/prompt). */
  name: string;
  /** changed, added (now there, not before) or removed. */
  change: "changed" | "added" | "removed";
  /** The earlier value when it is readable (fields, engine attributes). */
  old?: string;
  /** The current value when it is readable. */
  new?: string;
  /** Upstream: whether its definition (`key`) or only its output changed. */
  detail?: string;
}

function isHashLike(value: string): boolean {
  return /^(sha256:)?[0-9a-f]{16}$/.test(value);
}

function diffMaps(
  kind: ChangeKind,
  before: Readonly<Record<string, string>>,
  after: Readonly<Record<string, string>>,
  readable: boolean,
): ComponentChange[] {
  const changes: ComponentChange[] = [];
  const names = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  for (const name of names) {
    const a = before[name];
    const b = after[name];
    if (a === b) continue;
    const change: ComponentChange = {
      kind,
      name,
      change: a === undefined ? "added" : b === undefined ? "removed" : "changed",
    };
    if (readable && a !== undefined && !isHashLike(a)) change.old = a;
    if (readable && b !== undefined && !isHashLike(b)) change.new = b;
    changes.push(change);
  }
  return changes;
}

/**
 * Exactly what differs between two sets of stored components (both shortened with
 * {@linkcode storedComponents}), in a stable order: fields, command or prompt, engine, env,
 * upstream, inputs.
 *
 * @param before the components of the last cached result
 * @param after the current components
 */
export function diffComponents(
  before: CacheComponents,
  after: CacheComponents,
): ComponentChange[] {
  if (before.v !== after.v) {
    return [{
      kind: "format",
      name: "v",
      change: "changed",
      old: String(before.v),
      new: String(after.v),
    }];
  }
  const changes = diffMaps("field", before.task ?? {}, after.task ?? {}, true);
  for (const kind of ["command", "prompt"] as const) {
    if (before[kind] !== after[kind]) {
      changes.push({
        kind,
        name: "",
        change: before[kind] === undefined
          ? "added"
          : after[kind] === undefined
          ? "removed"
          : "changed",
      });
    }
  }
  const engineOf = (c: CacheComponents): Record<string, string> => {
    const e = c.engine;
    if (!e) return {};
    const out: Record<string, string> = {
      name: e.name,
      model: e.model ?? "(default)",
      version: e.version ?? "(unknown)",
    };
    if (e.module) out.module = e.module;
    return out;
  };
  changes.push(...diffMaps("engine", engineOf(before), engineOf(after), true));
  changes.push(...diffMaps("env", before.env ?? {}, after.env ?? {}, false));
  const ups = [
    ...new Set([...Object.keys(before.upstream ?? {}), ...Object.keys(after.upstream ?? {})]),
  ].sort();
  for (const id of ups) {
    const a = before.upstream?.[id];
    const b = after.upstream?.[id];
    if (a && b && a.key === b.key && a.out === b.out) continue;
    const change: ComponentChange = {
      kind: "upstream",
      name: id,
      change: !a ? "added" : !b ? "removed" : "changed",
    };
    if (a && b) change.detail = a.key !== b.key ? "definition or inputs" : "output";
    changes.push(change);
  }
  if (before.inputs === null || after.inputs === null) {
    if (before.inputs !== after.inputs) {
      changes.push({
        kind: "input",
        name: "inputs:",
        change: before.inputs === null ? "added" : "removed",
      });
    }
  } else {
    changes.push(...diffMaps("input", before.inputs ?? {}, after.inputs ?? {}, false));
  }
  return changes;
}

/** One change as a short phrase: `input src/a.c changed`, `field timeout_sec: 30 → 60`. */
export function describeChange(change: ComponentChange): string {
  const values = change.old !== undefined || change.new !== undefined
    ? `: ${change.old ?? "(none)"} → ${change.new ?? "(none)"}`
    : "";
  switch (change.kind) {
    case "format":
      return "cache format changed (maestro upgrade)";
    case "command":
      return `rendered command ${change.change}`;
    case "prompt":
      return `rendered prompt ${change.change}`;
    case "upstream":
      return `upstream ${change.name} ${change.change}` +
        (change.detail ? ` (${change.detail})` : "");
    case "input":
      return change.name === "inputs:"
        ? `inputs: ${change.change === "added" ? "declared" : "no longer declared"}`
        : `input ${change.name} ${change.change}`;
    case "env":
      return `env ${change.name} ${change.change}`;
    case "engine":
      return `engine ${change.name} ${change.change}${values}`;
    case "field":
      return `field ${change.name} ${change.change}${values}`;
  }
}

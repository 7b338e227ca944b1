/**
 * The YAML front end: parses a plan file into plain data and keeps a way back from any path in
 * that data (`["tasks", 3, "depends_on", 1]`) to a line and column in the file.
 *
 * js-yaml does the parsing (about 20 times faster than a full YAML AST here, which matters for
 * 10 000-task plans); its parse listener gives the start offset of every node, from which a
 * light tree of offsets is built. Booleans follow PyYAML (the reference tool's parser): `yes`,
 * `no`, `on`, `off` are booleans, `y`/`n` stay strings; anchors, aliases and merge keys work;
 * timestamps stay strings.
 *
 * @module
 */
// @ts-types="@types/js-yaml"
import jsyaml from "js-yaml";
import type { PlanIssue } from "../errors.ts";

/** A path into the plan data, as zod reports it. */
export type DataPath = readonly PropertyKey[];

/** Maps data paths back to positions in the source text. */
export interface SourceMap {
  /** The file the data came from. */
  readonly file: string;
  /**
   * Line and column (1-based) of the node at `path`, or of its nearest ancestor that exists.
   * With `key: true`, the position of the mapping key rather than its value.
   */
  locate(path: DataPath, options?: { key?: boolean }): { line: number; column: number };
}

/** The result of reading one YAML plan file. */
export interface ParsedYaml {
  /** The document as plain JS data (aliases and merge keys resolved). */
  data: unknown;
  /** Positions of every node. */
  sourceMap: SourceMap;
  /** YAML syntax errors (code E080); `data` is unusable when there are any. */
  errors: PlanIssue[];
  /** Keys written twice in one mapping (W41). */
  warnings?: PlanIssue[];
}

/** A node of the offset tree: where it starts and what it contains. */
interface OffsetNode {
  start: number;
  kind: string | null;
  /** Scalar value (mapping keys are looked up by it). */
  value?: unknown;
  /** Mappings: key, value, key, value, …; sequences: items. Created with the first child. */
  children?: OffsetNode[];
}

const runtimeTypes =
  (jsyaml as unknown as { types: { merge: jsyaml.Type; binary: jsyaml.Type } }).types;

// the same tag replaces the core schema's bool, so this type must know every spelling
const PYYAML_TRUE = /^(?:true|True|TRUE|yes|Yes|YES|on|On|ON)$/;
const PYYAML_FALSE = /^(?:false|False|FALSE|no|No|NO|off|Off|OFF)$/;

const pyyamlBool = new jsyaml.Type("tag:yaml.org,2002:bool", {
  kind: "scalar",
  resolve: (data: string) => PYYAML_TRUE.test(data) || PYYAML_FALSE.test(data),
  construct: (data: string) => PYYAML_TRUE.test(data),
  predicate: (value: object) => typeof value === "boolean",
});

// PyYAML's YAML 1.1 numbers (resolver.py): `010` is octal 8, `1:30` is 90 (base 60), and a
// float needs a dot, so `1e3` and `0o17` stay strings
const PYYAML_INT =
  /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/;
const PYYAML_FLOAT =
  /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;

/** `1:30:05` → 5405: each part a digit of base 60, as PyYAML reads it. */
function sexagesimal(text: string): number {
  return text.split(":").reduce((total, part) => total * 60 + Number(part), 0);
}

const pyyamlInt = new jsyaml.Type("tag:yaml.org,2002:int", {
  kind: "scalar",
  resolve: (data: string) => PYYAML_INT.test(data),
  construct: (data: string) => {
    let text = data.replaceAll("_", "");
    const sign = text.startsWith("-") ? -1 : 1;
    if (text[0] === "-" || text[0] === "+") text = text.slice(1);
    if (text === "0") return 0;
    if (text.startsWith("0b")) return sign * parseInt(text.slice(2), 2);
    if (text.startsWith("0x")) return sign * parseInt(text.slice(2), 16);
    if (text.includes(":")) return sign * sexagesimal(text);
    if (text.startsWith("0")) return sign * parseInt(text, 8);
    return sign * Number(text);
  },
  predicate: (value: object) => Number.isInteger(value),
});

const pyyamlFloat = new jsyaml.Type("tag:yaml.org,2002:float", {
  kind: "scalar",
  resolve: (data: string) => PYYAML_FLOAT.test(data),
  construct: (data: string) => {
    let text = data.replaceAll("_", "").toLowerCase();
    const sign = text.startsWith("-") ? -1 : 1;
    if (text[0] === "-" || text[0] === "+") text = text.slice(1);
    if (text === ".inf") return sign * Infinity;
    if (text === ".nan") return NaN;
    if (text.includes(":")) return sign * sexagesimal(text);
    return sign * Number(text);
  },
  predicate: (value: object) => typeof value === "number" && !Number.isInteger(value),
});

/**
 * YAML 1.1 as PyYAML reads it (the reference tool's parser): the core types with PyYAML's
 * booleans, integers and floats, and merge keys; no timestamps.
 */
const PLAN_SCHEMA = jsyaml.CORE_SCHEMA.extend({
  implicit: [pyyamlBool, pyyamlInt, pyyamlFloat, runtimeTypes.merge],
  explicit: [runtimeTypes.binary],
});

/** A source map for data that has no source text (e.g. a TS plan module's output). */
export function noSourceMap(file: string): SourceMap {
  return { file, locate: () => ({ line: 0, column: 0 }) };
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) starts.push(i + 1);
  return starts;
}

/** Moves an offset past blanks, line breaks, comments and a `- ` item marker to the content. */
function contentStart(text: string, offset: number): number {
  let i = offset;
  while (i < text.length) {
    const ch = text[i];
    if (ch === " " || ch === "\t" || ch === "\n" || ch === "\r") {
      i++;
    } else if (ch === "#") {
      while (i < text.length && text[i] !== "\n") i++;
    } else if (ch === "-" && (text[i + 1] === " " || text[i + 1] === "\n")) {
      i++;
    } else {
      break;
    }
  }
  return i;
}

/**
 * Where a second YAML document starts: the `---` after content, or the second `---` when the
 * file opens with one. Undefined when there is none.
 */
function secondDocument(text: string): number | undefined {
  const markers = [...text.matchAll(/^---(?:\s|$)/gm)].map((m) => m.index!);
  if (markers.length === 0) return undefined;
  const before = text.slice(0, markers[0]).split("\n")
    .some((line) =>
      line.trim() !== "" && !line.trimStart().startsWith("#") &&
      !line.startsWith("%")
    );
  return before ? markers[0] : markers[1];
}

/** Most values a document may hold once its aliases are expanded. */
export const MAX_EXPANDED_VALUES = 2_000_000;

/** Values in `value` counting each alias as a copy (saturates above the limit). */
function expandedSize(value: unknown, memo: Map<object, number>): number {
  if (value === null || typeof value !== "object") return 1;
  const known = memo.get(value);
  if (known !== undefined) return known;
  let size = 1;
  for (const child of Array.isArray(value) ? value : Object.values(value)) {
    size += expandedSize(child, memo);
    if (size > MAX_EXPANDED_VALUES) break;
  }
  memo.set(value, size);
  return size;
}

/**
 * Parses YAML text.
 *
 * @param text the file's content
 * @param file the path reported in issues
 * @returns data, source map and syntax errors
 */
export function parseYaml(text: string, file: string): ParsedYaml {
  const root: OffsetNode = { start: 0, kind: null, children: [] };
  const stack: OffsetNode[] = [root];
  const anchors = new Map<string, OffsetNode>();
  let starts: number[] | undefined;
  const position = (offset: number) => {
    starts ??= lineStarts(text);
    let low = 0;
    let high = starts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (starts[mid]! <= offset) low = mid;
      else high = mid - 1;
    }
    return { line: low + 1, column: offset - starts[low]! + 1 };
  };

  let data: unknown;
  try {
    data = jsyaml.load(text, {
      filename: file,
      schema: PLAN_SCHEMA,
      json: true, // later duplicate keys win, as in PyYAML
      listener(event, state) {
        if (event === "open") {
          stack.push({ start: state.position, kind: null });
          return;
        }
        const node = stack.pop()!;
        node.kind = state.kind;
        if (state.kind === "scalar") node.value = state.result;
        const anchor = (state as unknown as { anchor: string | null }).anchor;
        if (anchor) anchors.set(anchor, node);
        const parent = stack[stack.length - 1]!;
        (parent.children ??= []).push(node);
      },
    });
  } catch (error) {
    if (!(error instanceof jsyaml.YAMLException)) throw error;
    const mark = error.mark;
    const second = mark ? undefined : secondDocument(text);
    return {
      data: undefined,
      sourceMap: noSourceMap(file),
      errors: [{
        code: "E080",
        message: `YAML syntax error: ${error.reason}`,
        file,
        ...(mark
          ? { line: mark.line + 1, column: mark.column + 1 }
          : second !== undefined
          ? position(second)
          : { line: 1, column: 1 }),
        hint: second !== undefined
          ? "a plan file holds one YAML document: remove this `---` and what follows, or " +
            "move it to a file of its own"
          : "fix the YAML syntax at this position (indentation, quotes, brackets)",
      }],
    };
  }

  // aliases share their target: a few lines can expand to billions of values (an alias bomb),
  // which only blow up later, when the plan is copied or serialised
  if (anchors.size > 0 && expandedSize(data, new Map()) > MAX_EXPANDED_VALUES) {
    const alias = /(?:^|[\s,[{:-])(\*[^\s,[\]{}]+)/m.exec(text);
    const at = alias ? alias.index + alias[0].length - alias[1]!.length : 0;
    return {
      data: undefined,
      sourceMap: noSourceMap(file),
      errors: [{
        code: "E080",
        message: `YAML aliases expand the document to more than ${MAX_EXPANDED_VALUES} values`,
        file,
        ...position(at),
        hint: "an alias repeats what its anchor holds; nest fewer aliases (an alias bomb?)",
      }],
    };
  }

  const aliasTarget = (node: OffsetNode): OffsetNode => {
    if (node.kind !== null) return node;
    const at = contentStart(text, node.start);
    if (text[at] !== "*") return node;
    const name = /^\*([^\s,[\]{}]+)/.exec(text.slice(at, at + 256))?.[1];
    return (name && anchors.get(name)) || node;
  };

  const findPair = (
    map: OffsetNode,
    key: PropertyKey,
    depth = 0,
  ): [OffsetNode, OffsetNode?] | undefined => {
    const node = aliasTarget(map);
    if (node.kind !== "mapping" || depth > 10) return undefined;
    const pairs = node.children ?? [];
    for (let i = 0; i + 1 <= pairs.length; i += 2) {
      if (String(pairs[i]!.value) === String(key)) return [pairs[i]!, pairs[i + 1]];
    }
    for (let i = 0; i + 1 < pairs.length; i += 2) {
      if (pairs[i]!.value !== "<<") continue;
      const source = aliasTarget(pairs[i + 1]!);
      const sources = source.kind === "sequence" ? source.children ?? [] : [source];
      for (const candidate of sources) {
        const found = findPair(candidate, key, depth + 1);
        if (found) return found;
      }
    }
    return undefined;
  };

  const sourceMap: SourceMap = {
    file,
    locate(path, options = {}) {
      let node: OffsetNode | undefined = root.children?.[0];
      let best = node?.start ?? 0;
      for (let i = 0; i < path.length && node; i++) {
        const segment = path[i]!;
        const current = aliasTarget(node);
        if (current.kind === "sequence" && typeof segment === "number") {
          node = current.children?.[segment];
        } else if (current.kind === "mapping") {
          const pair = findPair(current, segment);
          if (!pair) break;
          if (i === path.length - 1 && options.key) {
            return position(contentStart(text, pair[0].start));
          }
          node = pair[1] ?? pair[0];
        } else {
          break;
        }
        if (node) best = node.start;
      }
      return position(contentStart(text, best));
    },
  };
  return { data, sourceMap, errors: [], warnings: duplicateKeys(root, file, text, position) };
}

/**
 * W41 for each key written twice in one mapping: PyYAML keeps the last one silently (so does
 * Maestro), which turns a pasted second `command:` into a surprise.
 */
function duplicateKeys(
  root: OffsetNode,
  file: string,
  text: string,
  position: (offset: number) => { line: number; column: number },
): PlanIssue[] {
  const warnings: PlanIssue[] = [];
  const visit = (node: OffsetNode) => {
    const children = node.children ?? [];
    if (node.kind === "mapping") {
      const seen = new Set<string>();
      for (let i = 0; i < children.length; i += 2) {
        const key = children[i]!;
        if (key.kind !== "scalar" || key.value === "<<") continue;
        const name = String(key.value);
        if (seen.has(name)) {
          warnings.push({
            code: "W41",
            message: `key "${name}" is written twice in this mapping; the last one is used`,
            file,
            ...position(contentStart(text, key.start)),
            hint: "remove the one you do not mean (YAML keeps only the last)",
          });
        }
        seen.add(name);
      }
    }
    for (const child of children) visit(child);
  };
  visit(root);
  return warnings;
}

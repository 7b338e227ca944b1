/**
 * The YAML front end: parses a plan file into plain data and keeps a way back from any
 * path in that data (`["tasks", 3, "depends_on", 1]`) to a line and column in the file.
 *
 * YAML 1.1 is used, as PyYAML (the reference tool's parser) reads it: `yes`/`on` are booleans
 * (but not `y`/`n`, which PyYAML keeps as strings) and merge keys (`<<:`) work.
 *
 * @module
 */
import {
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  type ScalarTag,
  type Tags,
} from "yaml";
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
}

/** PyYAML's booleans: YAML 1.1 without `y`/`n` (so `id: y` stays a string, as in the reference). */
const PYYAML_TRUE = /^(?:yes|Yes|YES|true|True|TRUE|on|On|ON)$/;
const PYYAML_FALSE = /^(?:no|No|NO|false|False|FALSE|off|Off|OFF)$/;

function pyyamlBooleans(tags: Tags): Tags {
  return tags.map((tag) => {
    if (typeof tag === "string" || tag.tag !== "tag:yaml.org,2002:bool") return tag;
    const scalar = tag as ScalarTag;
    if (!scalar.test) return tag;
    return { ...scalar, test: scalar.test.test("true") ? PYYAML_TRUE : PYYAML_FALSE };
  });
}

/** A source map for data that has no source text (a TS plan module's output). */
export function noSourceMap(file: string): SourceMap {
  return { file, locate: () => ({ line: 0, column: 0 }) };
}

/**
 * Parses YAML text.
 *
 * @param text the file's content
 * @param file the path reported in issues
 * @returns data, source map and syntax errors
 */
export function parseYaml(text: string, file: string): ParsedYaml {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter,
    version: "1.1",
    merge: true,
    uniqueKeys: false,
    prettyErrors: false,
    customTags: pyyamlBooleans,
  });
  const position = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const errors: PlanIssue[] = doc.errors.map((e) => ({
    code: "E080",
    message: `YAML syntax error: ${e.message.split("\n")[0]}`,
    file,
    ...position(e.pos[0]),
    hint: "fix the YAML syntax at this position (indentation, quotes, brackets)",
  }));
  const sourceMap: SourceMap = {
    file,
    locate(path, options = {}) {
      const offset = findOffset(doc, path, options.key ?? false);
      return offset === undefined ? { line: 1, column: 1 } : position(offset);
    },
  };
  const data = errors.length > 0 ? undefined : doc.toJS({ maxAliasCount: 10_000 });
  return { data, sourceMap, errors };
}

function resolve(doc: Document, node: unknown): unknown {
  return isAlias(node) ? node.resolve(doc) : node;
}

/** Finds the pair for `key` in a map node, looking through merge keys (`<<: *anchor`). */
function findPair(doc: Document, map: unknown, key: PropertyKey, depth = 0): {
  key: Node | null;
  value: unknown;
} | undefined {
  const node = resolve(doc, map);
  if (!isMap(node) || depth > 10) return undefined;
  for (const pair of node.items) {
    if (isScalar(pair.key) && String(pair.key.value) === String(key)) {
      return { key: pair.key, value: pair.value };
    }
  }
  for (const pair of node.items) {
    if (isScalar(pair.key) && pair.key.value === "<<") {
      const sources = resolve(doc, pair.value);
      const list = isSeq(sources) ? sources.items : [sources];
      for (const source of list) {
        const found = findPair(doc, source, key, depth + 1);
        if (found) return found;
      }
    }
  }
  return undefined;
}

function findOffset(doc: Document, path: DataPath, wantKey: boolean): number | undefined {
  let node: unknown = doc.contents;
  let best = (node as Node | null)?.range?.[0];
  for (let i = 0; i < path.length; i++) {
    const segment = path[i]!;
    const current = resolve(doc, node);
    const last = i === path.length - 1;
    if (isSeq(current) && typeof segment === "number") {
      node = current.items[segment];
    } else if (isMap(current)) {
      const pair = findPair(doc, current, segment);
      if (!pair) return best;
      if (last && wantKey && pair.key?.range) return pair.key.range[0];
      node = pair.value ?? pair.key;
    } else {
      return best;
    }
    const range = (node as Node | null)?.range;
    if (!range) return best;
    best = range[0];
  }
  return best;
}

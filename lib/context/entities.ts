/**
 * Entities and relations found in upstream output with regular expressions, for the
 * `knowledge_graph` mode.
 *
 * Entities: file paths, code identifiers (camelCase, PascalCase with two humps, snake_case,
 * dotted names, calls `name()`), `backticked` terms, URLs, versions (`v1.2.3`, `pkg@1.2`),
 * and capitalised multi-word names (`Payment Service`). Relations: two entities on one line with
 * a relation phrase between them (`A depends on B`, `A imports B`, `A -> B`, `A calls B`, ...),
 * or, weaker, two to four entities sharing a line (`related_to`).
 *
 * @module
 */

/** An entity. */
export interface Entity {
  /** The name as first written. */
  name: string;
  /** file, identifier, term, url, version or name. */
  kind: string;
  /** Lines it appears on. */
  mentions: number;
}

/** A relation between two entities. */
export interface Relation {
  from: string;
  relation: string;
  to: string;
  /** How many lines state it. */
  count: number;
  /** A relation phrase was found (not only co-occurrence). */
  explicit: boolean;
}

const PATTERNS: ReadonlyArray<[RegExp, string]> = [
  [/\bhttps?:\/\/[^\s)'"\]>]+/g, "url"],
  [
    /(?:\.{0,2}\/)?(?:[\w@.-]+\/)+[\w@.-]+\.[A-Za-z0-9]{1,10}\b|\b[\w-]+\.(?:ts|tsx|js|py|go|rs|java|md|json|ya?ml|toml|sql|sh|css|html)\b/g,
    "file",
  ],
  [/`([^`\n]{2,60})`/g, "term"],
  [/\b(?:v\d+\.\d+(?:\.\d+)?(?:-[\w.]+)?|[\w-]+@\d+\.\d+(?:\.\d+)?)\b/g, "version"],
  [/\b[a-z][a-z0-9]*(?:[A-Z][a-z0-9]*)+\b(?:\(\))?/g, "identifier"],
  [/\b[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)+\b/g, "identifier"],
  [/\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b/g, "identifier"],
  [/\b[a-zA-Z_]\w*(?:\.[a-zA-Z_]\w*)+\(\)/g, "identifier"],
  [/\b[a-zA-Z_]\w{2,}\(\)/g, "identifier"],
  [/\b[A-Z][a-z]+(?: [A-Z][a-z]+){1,3}\b/g, "name"],
];

const RELATIONS: ReadonlyArray<[RegExp, string]> = [
  [/\bdepends\s+on\b|\brequires\b|\bneeds\b/i, "depends_on"],
  [/\bimports?\b|\bimported\s+(?:by|from)\b/i, "imports"],
  [/\bcalls?\b|\binvokes?\b/i, "calls"],
  [/\buses?\b|\bused\s+by\b/i, "uses"],
  [/\bextends\b|\binherits\s+from\b/i, "extends"],
  [/\bimplements\b/i, "implements"],
  [/\bcontains\b|\bincludes\b/i, "contains"],
  [/\breturns\b/i, "returns"],
  [/\bthrows\b|\bfails?\s+with\b|\braises\b/i, "fails_with"],
  [/\breplaces\b|\bsupersedes\b/i, "replaces"],
  [/\bcreates\b|\bwrites\b|\bgenerates\b/i, "creates"],
  [/\breads\b|\bloads\b/i, "reads"],
  [/\bfix(?:es|ed)\b/i, "fixes"],
  [/\bbreaks\b|\bbroke\b/i, "breaks"],
  [/->|→|=>/, "leads_to"],
  [/\bis\s+an?\b/i, "is_a"],
];

const COMMON_NAMES = new Set([
  "The",
  "This",
  "That",
  "These",
  "Task",
  "Error",
  "Warning",
  "Note",
]);

interface Found {
  name: string;
  kind: string;
  start: number;
  end: number;
}

function entitiesOfLine(line: string): Found[] {
  const found: Found[] = [];
  for (const [re, kind] of PATTERNS) {
    re.lastIndex = 0;
    for (const m of line.matchAll(re)) {
      const name = (m[1] ?? m[0]).replace(/[.,;:]+$/, "");
      const start = m.index!;
      const end = start + m[0].length;
      if (found.some((f) => start < f.end && end > f.start)) continue;
      if (kind === "name" && COMMON_NAMES.has(name.split(" ")[0]!)) continue;
      found.push({ name, kind, start, end });
    }
  }
  return found.sort((a, b) => a.start - b.start);
}

/**
 * Extracts the entities and relations of a text.
 *
 * @param text upstream output
 * @returns entities (by first appearance) and relations (explicit ones first)
 *
 * @example Usage
 * ```ts
 * import { extractGraph } from "./entities.ts";
 * import assert from "node:assert/strict";
 * const g = extractGraph("PaymentService depends on `ledger_client`");
 * assert.deepEqual(g.relations.map((r) => [r.from, r.relation, r.to]), [
 *   ["PaymentService", "depends_on", "ledger_client"],
 * ]);
 * ```
 */
export function extractGraph(text: string): { entities: Entity[]; relations: Relation[] } {
  const entities = new Map<string, Entity>();
  const relations = new Map<string, Relation>();
  for (const line of text.split("\n")) {
    // diff headers name one file twice (a/x, b/x): no entities from them
    if (/^(?:diff --git |index [0-9a-f]|--- a\/|\+\+\+ b\/)/.test(line)) continue;
    const found = entitiesOfLine(line);
    const onLine = new Set<string>();
    for (const f of found) {
      const key = f.name.toLowerCase();
      const entity = entities.get(key) ?? { name: f.name, kind: f.kind, mentions: 0 };
      if (!onLine.has(key)) entity.mentions++;
      onLine.add(key);
      entities.set(key, entity);
    }
    for (let i = 0; i + 1 < found.length; i++) {
      const a = found[i]!;
      for (let j = i + 1; j < found.length && j <= i + 3; j++) {
        const b = found[j]!;
        if (a.name.toLowerCase() === b.name.toLowerCase()) continue;
        const between = line.slice(a.end, b.start);
        const rel = j === i + 1 ? RELATIONS.find(([re]) => re.test(between)) : undefined;
        if (!rel && (found.length > 4 || between.length > 80)) continue;
        const relation = rel?.[1] ?? "related_to";
        const key = `${a.name.toLowerCase()}\0${relation}\0${b.name.toLowerCase()}`;
        const r = relations.get(key) ??
          { from: a.name, relation, to: b.name, count: 0, explicit: rel !== undefined };
        r.count++;
        relations.set(key, r);
      }
    }
  }
  const sorted = [...relations.values()].sort((x, y) => Number(y.explicit) - Number(x.explicit));
  return { entities: [...entities.values()], relations: sorted };
}

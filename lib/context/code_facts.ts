/**
 * Code facts found in upstream output with regular expressions (no parser: output is diffs,
 * logs and prose as often as code): files changed or mentioned, symbol definitions
 * (TypeScript/JavaScript, Python, Go, Rust, Java/Kotlin/C#), and imports, each with the line it
 * was read from and the file it belongs to when a diff header or file heading says so.
 *
 * Files count as changed only on evidence: `diff --git`/`+++ b/` headers, git-status lines
 * (`M path`, `?? path`, with a path that has a `/` or an extension: the reference's heuristic
 * took `A done` for a file), and "modified:/created/wrote/updated <path>" phrases.
 *
 * @module
 */

/** One fact. */
export interface CodeFact {
  kind: "file" | "symbol" | "import";
  /** File path, symbol name or imported module. */
  name: string;
  /** Files: `changed` or `mentioned`; symbols: function, class, ...; imports: `import`. */
  detail: string;
  /** The file it belongs to, when known. */
  file: string | null;
  /** The line it was read from (trimmed, at most 160 characters). */
  line: string;
  /** 1-based line number in the upstream's text. */
  lineNumber: number;
}

const EXT =
  "ts|tsx|mts|cts|js|jsx|mjs|cjs|py|go|rs|java|kt|kts|cs|rb|php|swift|c|h|cc|cpp|hpp|m|scala|sh|bash|zsh|sql|md|json|jsonc|yaml|yml|toml|ini|cfg|css|scss|html|vue|svelte|lock|txt|proto|graphql|tf|xml|gradle|dockerfile";
const PATH_RE = new RegExp(
  String
    .raw`(?:^|[\s'"\x60(\[:=])((?:\.{0,2}/)?(?:[\w@.-]+/)*[\w@-][\w@.-]*\.(?:${EXT}))(?::\d+(?::\d+)?)?(?=$|[\s'"\x60)\],;:])`,
  "gi",
);
const DIFF_GIT = /^diff --git a\/(\S+) b\/(\S+)/;
const DIFF_PLUS = /^\+\+\+ (?:b\/)?(\S+)/;
const DIFF_MINUS = /^--- (?:a\/)?(\S+)/;
const GIT_STATUS = /^\s*(?:[MADRCU?!]{1,2})\s+(\S+)$/;
const CHANGE_PHRASE =
  /\b(?:modified|created|wrote|updated|edited|added|deleted|renamed|new file):?\s+[`'"]?((?:[\w@.-]+\/)*[\w@.-]+\.[A-Za-z0-9]{1,10})/i;
const FILE_HEADING =
  /^(?:==> (\S+) <==|#{1,4}\s+`?([\w@./-]+\.[A-Za-z0-9]{1,10})`?\s*$|File:\s+(\S+))/;

const SYMBOLS: ReadonlyArray<[RegExp, string]> = [
  [/\b(?:export\s+)?(?:default\s+)?(?:async\s+)?function\s*\*?\s*([A-Za-z_$][\w$]*)/, "function"],
  [/\b(?:export\s+)?(?:abstract\s+)?class\s+([A-Za-z_$][\w$]*)/, "class"],
  [/\b(?:export\s+)?interface\s+([A-Za-z_$][\w$]*)/, "interface"],
  [/\b(?:export\s+)?type\s+([A-Z][\w$]*)\s*(?:<[^=]*>)?\s*=/, "type"],
  [/\b(?:export\s+)?(?:const\s+)?enum\s+([A-Za-z_$][\w$]*)/, "enum"],
  [/\bexport\s+(?:const|let|var)\s+([A-Za-z_$][\w$]*)/, "const"],
  [/^\s*(?:async\s+)?def\s+([A-Za-z_]\w*)\s*\(/, "function"],
  [/\bfunc\s+(?:\([^)]*\)\s*)?([A-Za-z_]\w*)\s*\(/, "function"],
  [/\b(?:pub(?:\([^)]*\))?\s+)?(?:async\s+)?fn\s+([A-Za-z_]\w*)/, "function"],
  [/\b(?:pub\s+)?(?:struct|trait)\s+([A-Za-z_]\w*)/, "type"],
  [/\bimpl(?:<[^>]*>)?\s+([A-Za-z_]\w*)/, "impl"],
  [
    /^\s*(?:public|private|protected|internal)\s+(?:static\s+)?(?:final\s+)?[\w<>[\],\s]+?\s+([a-zA-Z_]\w*)\s*\(/,
    "method",
  ],
  // a TypeScript/JavaScript method: `name(args): type {` on its own line
  [
    /^\s*(?:(?:public|private|protected|static|async|override|readonly|get|set)\s+)*#?([a-zA-Z_$][\w$]*)\s*\([^)]*\)\s*(?::\s*[^={;]+)?\{\s*$/,
    "method",
  ],
];
const IMPORTS: readonly RegExp[] = [
  /\bimport\s+(?:[^"';]+?\s+from\s+)?["']([^"']+)["']/,
  /\brequire\(\s*["']([^"']+)["']\s*\)/,
  /^\s*from\s+([\w.]+)\s+import\b/,
  /^\s*import\s+([\w.]+)(?:\s+as\s+\w+)?\s*$/,
  /^\s*use\s+([\w:]+)/,
];

function clean(line: string): string {
  const trimmed = line.trim();
  return trimmed.length > 160 ? `${trimmed.slice(0, 157)}...` : trimmed;
}

function plausiblePath(path: string): boolean {
  return (path.includes("/") || /\.[A-Za-z0-9]{1,10}$/.test(path)) && !/^\d+(\.\d+)+$/.test(path);
}

/**
 * Finds files, symbols and imports in a text.
 *
 * @param text upstream output
 * @returns the facts, in order of appearance (a name is reported once per kind and file)
 *
 * @example Usage
 * ```ts
 * import { codeFacts } from "./code_facts.ts";
 * import assert from "node:assert/strict";
 * const facts = codeFacts("+++ b/src/config.ts\n+export function parseConfig(text: string) {");
 * assert.deepEqual(facts.map((f) => [f.kind, f.name, f.file]), [
 *   ["file", "src/config.ts", "src/config.ts"],
 *   ["symbol", "parseConfig", "src/config.ts"],
 * ]);
 * ```
 */
export function codeFacts(text: string): CodeFact[] {
  const facts: CodeFact[] = [];
  const seen = new Set<string>();
  const add = (fact: CodeFact) => {
    const key = `${fact.kind}\0${fact.name}\0${fact.kind === "file" ? "" : fact.file ?? ""}`;
    const existing = facts.find((f) => f.kind === "file" && f.name === fact.name);
    if (fact.kind === "file" && existing) {
      if (fact.detail === "changed") existing.detail = "changed";
      return;
    }
    if (seen.has(key)) return;
    seen.add(key);
    facts.push(fact);
  };
  let current: string | null = null;
  text.split("\n").forEach((raw, i) => {
    const lineNumber = i + 1;
    const line = raw.replace(/\s+$/, "");
    const diff = DIFF_GIT.exec(line) ?? DIFF_PLUS.exec(line);
    if (diff) {
      const path = diff[2] ?? diff[1]!;
      if (path !== "/dev/null") {
        current = path;
        add({
          kind: "file",
          name: path,
          detail: "changed",
          file: path,
          line: clean(line),
          lineNumber,
        });
      }
      return;
    }
    if (DIFF_MINUS.test(line)) return;
    const status = GIT_STATUS.exec(line);
    if (status && plausiblePath(status[1]!)) {
      add({
        kind: "file",
        name: status[1]!,
        detail: "changed",
        file: status[1]!,
        line: clean(line),
        lineNumber,
      });
      return;
    }
    const heading = FILE_HEADING.exec(line);
    if (heading) current = heading[1] ?? heading[2] ?? heading[3] ?? current;
    const phrase = CHANGE_PHRASE.exec(line);
    if (phrase && plausiblePath(phrase[1]!)) {
      add({
        kind: "file",
        name: phrase[1]!,
        detail: "changed",
        file: phrase[1]!,
        line: clean(line),
        lineNumber,
      });
    }
    for (const match of line.matchAll(PATH_RE)) {
      const path = match[1]!;
      if (plausiblePath(path)) {
        add({
          kind: "file",
          name: path,
          detail: "mentioned",
          file: path,
          line: clean(line),
          lineNumber,
        });
      }
    }
    const code = line.replace(/^[+-](?![+-])/, "");
    for (const [re, kind] of SYMBOLS) {
      const m = re.exec(code);
      if (m && !/^(if|for|while|switch|return|new|function|catch|else|do|try)$/.test(m[1]!)) {
        add({
          kind: "symbol",
          name: m[1]!,
          detail: kind,
          file: current,
          line: clean(code),
          lineNumber,
        });
        break;
      }
    }
    for (const re of IMPORTS) {
      const m = re.exec(code);
      if (m) {
        add({
          kind: "import",
          name: m[1]!,
          detail: "import",
          file: current,
          line: clean(code),
          lineNumber,
        });
        break;
      }
    }
  });
  return facts;
}

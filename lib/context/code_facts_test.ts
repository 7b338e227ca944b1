import assert from "node:assert/strict";
import { codeFacts } from "./code_facts.ts";

Deno.test("codeFacts() reads changed files from diffs and git status, symbols and imports", () => {
  const text = [
    "diff --git a/src/config.ts b/src/config.ts",
    "--- a/src/config.ts",
    "+++ b/src/config.ts",
    '+import { readFile } from "node:fs/promises";',
    "+export async function parseConfig(path: string) {",
    "+export interface Config { port: number }",
    " M lib/server.py",
    "?? docs/new.md",
    "def handle_request(req):",
    "Updated README.md with the new flag",
  ].join("\n");
  const facts = codeFacts(text).map((f) => [f.kind, f.name, f.detail, f.file]);
  assert.deepEqual(facts, [
    ["file", "src/config.ts", "changed", "src/config.ts"],
    ["import", "node:fs/promises", "import", "src/config.ts"],
    ["symbol", "parseConfig", "function", "src/config.ts"],
    ["symbol", "Config", "interface", "src/config.ts"],
    ["file", "lib/server.py", "changed", "lib/server.py"],
    ["file", "docs/new.md", "changed", "docs/new.md"],
    ["symbol", "handle_request", "function", "src/config.ts"],
    ["file", "README.md", "changed", "README.md"],
  ]);
});

Deno.test("codeFacts() does not take ordinary output for changed files (the reference's A done)", () => {
  assert.deepEqual(codeFacts("A done\nM ok\nversion 1.2.3 released"), []);
});

/** `maestro convert` on the command line: exit codes, stdout, and atomic `-o` writes. */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { writeFileAtomic } from "../lib/cli/convert_command.ts";

const CLI = resolve(import.meta.dirname!, "../cli.ts");

async function maestro(cwd: string, ...args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-prompt", CLI, ...args],
    cwd,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "maestro-convert-cli-"));
}

Deno.test("convert exits 2 on an invalid plan, prints its issues and writes nothing", async () => {
  const dir = tempDir();
  try {
    writeFileSync(join(dir, "bad.yaml"), "name: bad\ntasks:\n  - id: a\n    depends_on: [biuld]\n");
    const result = await maestro(dir, "convert", "bad.yaml", "--to", "ts", "-o", "bad.ts");
    assert.equal(result.code, 2);
    assert.match(result.stderr, /bad\.yaml:4:\d+ E005 /);
    assert.deepEqual(readdirSync(dir), ["bad.yaml"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

Deno.test("convert -o writes the TS plan and leaves no temp file behind", async () => {
  const dir = tempDir();
  try {
    writeFileSync(
      join(dir, "p.yaml"),
      "name: p\ntasks:\n  - id: a\n    timeout_sec: 3\n    command: echo a\n",
    );
    const result = await maestro(dir, "convert", "p.yaml", "--to", "ts", "-o", "p.ts");
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(readdirSync(dir).sort(), ["p.ts", "p.yaml"]);
    assert.match(
      readFileSync(join(dir, "p.ts"), "utf8"),
      /\.task\("a", \{ timeoutSec: 3, command: "echo a" \}\);/,
    );
    const back = await maestro(dir, "convert", "p.ts", "--to", "yaml");
    assert.equal(back.code, 0, back.stderr);
    assert.match(back.stdout, /- id: a\n\s+timeout_sec: 3\n\s+command: echo a/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

Deno.test("an atomic write that fails keeps the old file and removes its temp file", async () => {
  const dir = tempDir();
  try {
    const target = join(dir, "plan.ts");
    mkdirSync(target); // a folder in the way makes the rename fail
    writeFileSync(join(target, "keep"), "old");
    await assert.rejects(writeFileAtomic(target, "new text"));
    assert.deepEqual(readdirSync(dir), ["plan.ts"]);
    assert.equal(readFileSync(join(target, "keep"), "utf8"), "old");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

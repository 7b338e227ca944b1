import assert from "node:assert/strict";
import { existsSync, readdirSync, statSync } from "node:fs";
import { readdir } from "node:fs/promises";
import {
  compareCodePoints,
  isDirectory,
  isFile,
  pathExists,
  readDirNames,
  readDirNamesSync,
} from "./fs.ts";

Deno.test("pathExists, isFile and isDirectory answer as node:fs did, never throwing", () => {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.writeTextFileSync(`${dir}/file`, "x");
    Deno.symlinkSync(`${dir}/file`, `${dir}/link`);
    Deno.symlinkSync(`${dir}/gone`, `${dir}/dangling`);
    for (const name of ["file", "link", "dangling", "gone", "", "a\0b"]) {
      const path = name === "" ? dir : `${dir}/${name}`;
      assert.equal(pathExists(path), existsSync(path), name);
      const node = existsSync(path) ? statSync(path) : undefined;
      assert.equal(isFile(path), node?.isFile() ?? false, name);
      assert.equal(isDirectory(path), node?.isDirectory() ?? false, name);
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("readDirNames(Sync) list names in node:fs's order (by code point)", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    const names = [
      "zeta",
      "alpha",
      "Beta",
      "10",
      "9",
      "_x",
      ".hid",
      "émile",
      "\u{1F600}",
      "\uFF01",
    ];
    for (const name of names) Deno.writeTextFileSync(`${dir}/${name}`, "");
    assert.deepEqual(readDirNamesSync(dir), readdirSync(dir));
    assert.deepEqual(await readDirNames(dir), await readdir(dir));
    assert.deepEqual(readDirNamesSync(dir).slice(-2), ["\uFF01", "\u{1F600}"]);
    assert.throws(() => readDirNamesSync(`${dir}/none`), Deno.errors.NotFound);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("compareCodePoints orders as UTF-8 bytes do", () => {
  const words = ["b", "a", "\u{10000}", "\uE000", "\uFFFF", "ab", "", "\u00E9"];
  const bytes = (s: string) => Array.from(new TextEncoder().encode(s));
  const byBytes = [...words].sort((x, y) => {
    const [a, b] = [bytes(x), bytes(y)];
    for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
    return a.length - b.length;
  });
  assert.deepEqual([...words].sort(compareCodePoints), byBytes);
});

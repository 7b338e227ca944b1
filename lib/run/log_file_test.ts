import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "../path.ts";
import { LogFile, NATIVE_HASH_AFTER } from "./log_file.ts";
import { fileHashSync } from "./artifacts.ts";
import { withTempDir } from "../store/_test_support.ts";

const nodeHash = (path: string) =>
  createHash("sha256").update(Deno.readFileSync(path)).digest("hex");
const line = (i: number) => `line ${i} ${"x".repeat(90)} ü\n`;

Deno.test("a small log is hashed as written and the hash is remembered", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "t.log");
    const log = LogFile.createSync(path);
    for (let i = 0; i < 100; i++) log.write(line(i));
    assert.equal(log.hashedNatively, false);
    await log.close();
    assert.equal(fileHashSync(path), nodeHash(path));
  });
});

Deno.test("a large log switches to the native hash mid-way and still hashes every byte", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "big.log");
    const log = LogFile.createSync(path);
    let i = 0;
    let size = 0;
    // written in bursts with pauses, as a task's output arrives: node:crypto loads meanwhile
    while (size < NATIVE_HASH_AFTER * 3) {
      for (let k = 0; k < 2000; k++, i++) {
        const text = line(i);
        log.write(text);
        size += new TextEncoder().encode(text).length;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(log.hashedNatively, true);
    await log.close();
    assert.equal(fileHashSync(path), nodeHash(path));
  });
});

Deno.test("a large log written in one burst (no pause for the native hash to load) is hashed correctly", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "burst.log");
    const log = LogFile.createSync(path);
    for (let i = 0; i < 30_000; i++) log.write(line(i));
    await log.close();
    assert.equal(fileHashSync(path), nodeHash(path));
  });
});

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "../path.ts";
import { LogFile, NATIVE_HASH_AFTER } from "./log_file.ts";
import { dropPreopened, fileHashSync, preopenAtomic, writeTextAtomic } from "./artifacts.ts";
import { pathExists } from "../fs.ts";
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

Deno.test("a log made with createLater exists only once opened, with the lines written before", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "t.log");
    const log = LogFile.createLater(path);
    log.line("task=t");
    assert.equal(pathExists(path), false, "created before it was opened");
    log.open();
    log.open(); // idempotent: the file is not truncated again
    assert.equal(pathExists(path), true);
    log.line("more");
    await log.close();
    assert.equal(Deno.readTextFileSync(path), "task=t\nmore\n");
    assert.equal(fileHashSync(path), nodeHash(path));

    // a log never opened is created by close
    const late = join(dir, "late.log");
    const never = LogFile.createLater(late);
    never.line("status=failed");
    await never.close();
    assert.equal(Deno.readTextFileSync(late), "status=failed\n");
  });
});

Deno.test("a result file created ahead is the one the atomic write fills and renames", async () => {
  await withTempDir((dir) => {
    const path = join(dir, "t.result.json");
    preopenAtomic(path);
    preopenAtomic(path); // one temp file, not two
    const temps = () =>
      [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.includes(".tmp-"));
    assert.equal(temps().length, 1);
    writeTextAtomic(path, '{"a":1}\n');
    assert.deepEqual(temps(), []);
    assert.equal(Deno.readTextFileSync(path), '{"a":1}\n');
    // without one made ahead, the write makes its own
    writeTextAtomic(path, '{"a":2}\n');
    assert.equal(Deno.readTextFileSync(path), '{"a":2}\n');
    // made ahead and never used: the run's end removes it
    preopenAtomic(join(dir, "u.result.json"));
    assert.equal(temps().length, 1);
    dropPreopened(dir);
    assert.deepEqual(temps(), []);
    return Promise.resolve();
  });
});

Deno.test("a log that cannot be written (disk full) records why and never throws", async () => {
  // writes to /dev/full fail with ENOSPC, as on a full disk
  const log = LogFile.createSync("/dev/full");
  log.write("x".repeat(200_000));
  log.line("more");
  await log.close();
  assert.match(log.writeError ?? "", /No space left/);
});

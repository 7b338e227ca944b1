import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { canonicalJson } from "./canonical_json.ts";
import { EventBus, EventLog, GENESIS_HASH } from "./events.ts";
import { verifyRun } from "./verify.ts";

async function withDir(fn: (dir: string) => Promise<void> | void) {
  const dir = await mkdtemp(join(tmpdir(), "maestro-events-"));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function emitSome(dir: string, mask?: (t: string) => string): EventBus {
  const bus = new EventBus("p", { log: new EventLog(join(dir, "events.jsonl")), mask });
  bus.emit("task_retry", { task_id: "a", attempt: 2, max_attempts: 3, delay_sec: 0, reason: "x" });
  bus.emit("task_output", { task_id: "a", stream: "stdout", lines: ["noise"] });
  bus.emit("task_retry", {
    task_id: "a",
    attempt: 3,
    max_attempts: 3,
    delay_sec: 1.5,
    reason: "y",
  });
  bus.close();
  return bus;
}

Deno.test("each line hashes its canonical JSON plus the previous hash, from 64 zeros", async () => {
  await withDir(async (dir) => {
    emitSome(dir);
    const lines = (await readFile(join(dir, "events.jsonl"), "utf8")).trim().split("\n");
    assert.equal(lines.length, 2, "task_output must stay out of the log");
    let prev = GENESIS_HASH;
    for (const [i, line] of lines.entries()) {
      const { seq, prev_hash, hash, ...body } = JSON.parse(line);
      assert.equal(seq, i);
      assert.equal(prev_hash, prev);
      const expected = createHash("sha256").update(canonicalJson(body) + prev).digest("hex");
      assert.equal(hash, expected);
      prev = hash;
    }
  });
});

Deno.test("subscribers see masked events, including unlogged task_output", async () => {
  await withDir((dir) => {
    const bus = new EventBus("p", {
      log: new EventLog(join(dir, "events.jsonl")),
      mask: (t) => t.replaceAll("secret", "***"),
    });
    const seen: string[] = [];
    bus.subscribe(({ event }) => seen.push(JSON.stringify(event)));
    bus.emit("task_output", { task_id: "a", stream: "stderr", lines: ["the secret"] });
    bus.close();
    assert.equal(seen.length, 1);
    assert.match(seen[0]!, /the \*\*\*/);
  });
});

Deno.test("verify accepts a half-written last line but flags an edited one", async () => {
  await withDir(async (dir) => {
    emitSome(dir);
    const file = join(dir, "events.jsonl");
    const text = await readFile(file, "utf8");
    await writeFile(file, text + '{"ts":"2026-');
    const partial = await verifyRun(dir);
    assert.equal(partial.status, "valid");
    assert.equal(partial.partial_last_line, true);
    await writeFile(file, text.replace('"reason":"y"', '"reason":"z"'));
    const tampered = await verifyRun(dir);
    assert.equal(tampered.status, "tampered");
    assert.equal(tampered.problems[0]!.line, 2);
  });
});

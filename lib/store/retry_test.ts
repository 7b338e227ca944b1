import assert from "node:assert/strict";
import { isBusyError, retryBusy } from "./retry.ts";

function busy(): Error {
  return Object.assign(new Error("database is locked"), { code: "SQLITE_BUSY" });
}

Deno.test("isBusyError() recognises SQLITE_BUSY / SQLITE_LOCKED, locally or from a server", () => {
  assert.ok(isBusyError(busy()));
  assert.ok(isBusyError(Object.assign(new Error("x"), { code: "SQLITE_BUSY_SNAPSHOT" })));
  assert.ok(isBusyError(Object.assign(new Error("x"), { code: "SQLITE_LOCKED" })));
  assert.ok(isBusyError(new Error("SERVER_ERROR: database is locked")));
  assert.ok(!isBusyError(new Error("no such table: runs")));
  assert.ok(!isBusyError(Object.assign(new Error("disk I/O error"), { code: "SQLITE_IOERR" })));
  assert.ok(!isBusyError("database is locked"));
});

Deno.test("retryBusy() retries busy errors with growing waits until the operation succeeds", async () => {
  let calls = 0;
  const waits: number[] = [];
  let resets = 0;
  const result = await retryBusy(() => {
    calls++;
    return calls < 4 ? Promise.reject(busy()) : Promise.resolve("done");
  }, { initialDelayMs: 4, onRetry: (_n, ms) => waits.push(ms), onBusy: () => void resets++ });
  assert.equal(result, "done");
  assert.equal(calls, 4);
  assert.equal(waits.length, 3);
  assert.equal(resets, 3);
  for (const [i, ms] of waits.entries()) assert.ok(ms >= 1 && ms <= 4 * 2 ** i, `wait ${ms}`);
});

Deno.test("retryBusy() rethrows other errors at once", async () => {
  let calls = 0;
  await assert.rejects(
    () =>
      retryBusy(() => {
        calls++;
        return Promise.reject(new Error("no such table: runs"));
      }),
    /no such table/,
  );
  assert.equal(calls, 1);
});

Deno.test("retryBusy() gives up with the busy error after the deadline", async () => {
  const started = performance.now();
  await assert.rejects(() => retryBusy(() => Promise.reject(busy()), { deadlineMs: 60 }), /locked/);
  const elapsed = performance.now() - started;
  assert.ok(elapsed >= 60 && elapsed < 2000, `elapsed ${elapsed}`);
});

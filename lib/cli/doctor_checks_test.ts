import assert from "node:assert/strict";
import { chmodSync } from "node:fs";
import { join } from "node:path";
import { processesWith, tempPlanDir } from "../../tests/helpers.ts";
import { probeVersion } from "./doctor_checks.ts";

Deno.test("probeVersion() kills a --version that hangs, children included", async () => {
  const marker = `doctor-hang-${crypto.randomUUID()}`;
  // the marker is in the environment of the shell's child `sleep`
  const dir = tempPlanDir({ hang: `#!/bin/sh\nexport MARK=${marker}\nsleep 30\n` });
  chmodSync(join(dir, "hang"), 0o755);
  const started = performance.now();
  const pending = probeVersion(join(dir, "hang"), { timeoutMs: 1500 });
  while (processesWith(marker).length === 0 && performance.now() - started < 1500) {
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(processesWith(marker).length, 1, "the child of --version is running");
  assert.deepEqual(await pending, { version: null, error: "--version took longer than 1.5s" });
  assert.ok(performance.now() - started < 5000);
  for (let i = 0; i < 50 && processesWith(marker).length > 0; i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.deepEqual(processesWith(marker), []);
});

Deno.test("probeVersion() prefers the line that names a version", async () => {
  const dir = tempPlanDir({
    noisy:
      '#!/bin/sh\necho "Warning: could not connect to a running server"\necho "client version is 0.5.1"\n',
  });
  chmodSync(join(dir, "noisy"), 0o755);
  assert.deepEqual(await probeVersion(join(dir, "noisy")), {
    version: "client version is 0.5.1",
    error: null,
  });
});

import assert from "node:assert/strict";
import { environOf, otherProcessIds } from "./proc.ts";

Deno.test("otherProcessIds lists a child and never this process", async () => {
  const child = new Deno.Command("sleep", { args: ["5"], stdout: "null", stderr: "null" }).spawn();
  try {
    const ids = otherProcessIds();
    assert.ok(ids !== undefined, "/proc is readable on Linux");
    assert.ok(ids.includes(child.pid));
    assert.ok(!ids.includes(Deno.pid));
  } finally {
    child.kill("SIGKILL");
    await child.status;
  }
});

Deno.test("environOf reads a child's environment, and undefined for a pid that is gone", async () => {
  const child = new Deno.Command("sleep", {
    args: ["5"],
    env: { MAESTRO_PROC_TEST: "yes" },
    stdout: "null",
    stderr: "null",
  }).spawn();
  const pid = child.pid;
  try {
    // until the child has exec'd, /proc shows the environment of the process that forked it
    const deadline = Date.now() + 5_000;
    while (!environOf(pid)?.includes("MAESTRO_PROC_TEST=yes") && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    assert.ok(environOf(pid)?.includes("MAESTRO_PROC_TEST=yes"));
  } finally {
    child.kill("SIGKILL");
    await child.status;
  }
  assert.equal(environOf(pid), undefined);
});

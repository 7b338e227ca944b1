import assert from "node:assert/strict";
import { SYSTEM_ENV, taskEnvironment, withoutParentProviders } from "./env.ts";

const parent = {
  PATH: "/usr/bin",
  HOME: "/home/me",
  GH_TOKEN: "gh-parent",
  GEMINI_API_KEY: "gemini-parent",
  ANTHROPIC_API_KEY: "ant-parent",
};
const identity = { runId: "r", taskId: "t", planName: "p" };

Deno.test("taskEnvironment() gives a shell task the provider variables, an engine task none", () => {
  const shell = taskEnvironment(parent, {}, identity);
  assert.equal(shell.GH_TOKEN, "gh-parent");
  assert.equal(shell.GEMINI_API_KEY, "gemini-parent");
  // never on any list: an engine's own adapter copies it
  assert.equal(shell.ANTHROPIC_API_KEY, undefined);
  const engine = taskEnvironment(parent, { EXTRA: "1" }, identity, SYSTEM_ENV);
  assert.deepEqual(Object.keys(engine).sort(), [
    "EXTRA",
    "HOME",
    "MAESTRO_PLAN",
    "MAESTRO_RUN_ID",
    "MAESTRO_TASK_ID",
    "PATH",
  ]);
});

Deno.test("taskEnvironment() keeps what the task's env sets, also for an engine task", () => {
  const engine = taskEnvironment(parent, { GH_TOKEN: "for-gh" }, identity, SYSTEM_ENV);
  assert.equal(engine.GH_TOKEN, "for-gh");
});

Deno.test("withoutParentProviders() drops provider variables holding maestro's own values", () => {
  const env = { PATH: "/usr/bin", GH_TOKEN: "gh-parent", GEMINI_API_KEY: "set-by-task" };
  assert.deepEqual(withoutParentProviders(env, parent), {
    PATH: "/usr/bin",
    GEMINI_API_KEY: "set-by-task",
  });
});

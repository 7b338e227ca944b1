import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MaestroError } from "../errors.ts";
import { storeForRead, storeForReindex, storeForRun } from "./resolve.ts";

function withTree(fn: (root: string) => void): void {
  const root = mkdtempSync(join(tmpdir(), "maestro-resolve-"));
  try {
    fn(root);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

const NO_ENV = {};

Deno.test("storeForRun() picks --db, then MAESTRO_DB_URL, then .maestro/ beside the plan", () => {
  const env = { MAESTRO_DB_URL: "/env/m.db" };
  assert.deepEqual(storeForRun("p/plan.yaml", { db: "flag.db", env, cwd: "/c" }), {
    kind: "file",
    path: "/c/flag.db",
  });
  assert.deepEqual(storeForRun("p/plan.yaml", { env, cwd: "/c" }), {
    kind: "file",
    path: "/env/m.db",
  });
  assert.deepEqual(storeForRun("p/plan.yaml", { env: NO_ENV, cwd: "/c" }), {
    kind: "file",
    path: "/c/p/.maestro/maestro.db",
  });
  // an empty variable is unset
  assert.deepEqual(storeForRun("/x/plan.yaml", { env: { MAESTRO_DB_URL: "" }, cwd: "/c" }), {
    kind: "file",
    path: "/x/.maestro/maestro.db",
  });
});

Deno.test("storeForRun() passes MAESTRO_DB_AUTH_TOKEN to a server URL", () => {
  const location = storeForRun("plan.yaml", {
    env: { MAESTRO_DB_URL: "https://db.example.com", MAESTRO_DB_AUTH_TOKEN: "t0k" },
  });
  assert.deepEqual(location, { kind: "remote", url: "https://db.example.com", authToken: "t0k" });
});

Deno.test("storeForRead() finds the nearest .maestro/maestro.db upwards, like git", () => {
  withTree((root) => {
    mkdirSync(join(root, ".maestro"));
    writeFileSync(join(root, ".maestro", "maestro.db"), "");
    mkdirSync(join(root, "a", "b", ".maestro"), { recursive: true });
    writeFileSync(join(root, "a", "b", ".maestro", "maestro.db"), "");
    mkdirSync(join(root, "a", "b", "c"));
    assert.deepEqual(storeForRead({ env: NO_ENV, cwd: join(root, "a") }), {
      kind: "file",
      path: join(root, ".maestro", "maestro.db"),
    });
    assert.deepEqual(storeForRead({ env: NO_ENV, cwd: join(root, "a", "b", "c") }), {
      kind: "file",
      path: join(root, "a", "b", ".maestro", "maestro.db"),
    });
  });
});

Deno.test("storeForRead() fails with E120 and a hint when no store is found", () => {
  withTree((root) => {
    assert.throws(() => storeForRead({ env: NO_ENV, cwd: root }), (error: unknown) => {
      assert.ok(error instanceof MaestroError);
      assert.equal(error.code, "E120");
      assert.equal(error.exitCode, 2);
      assert.match(error.hint ?? "", /--db/);
      return true;
    });
  });
});

Deno.test("storeForReindex() creates the store in the current folder when none is found", () => {
  withTree((root) => {
    assert.deepEqual(storeForReindex({ env: NO_ENV, cwd: root }), {
      kind: "file",
      path: join(root, ".maestro", "maestro.db"),
    });
  });
});

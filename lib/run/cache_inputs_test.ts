import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempPlanDir } from "../../tests/helpers.ts";
import { InputHasher, MAX_LISTED_INPUTS } from "./cache_inputs.ts";
import { inputPatternProblem } from "../plan/inputs.ts";

function sha(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

function withTree(fn: (dir: string) => Promise<void> | void) {
  return async () => {
    const dir = tempPlanDir({
      "work/src/main.c": "int main;",
      "work/src/lib/util.c": "util",
      "work/src/lib/util_test.c": "test",
      "work/src/.hidden.c": "dot",
      "work/README.md": "readme",
      "work/.env": "A=1",
      "shared/common.h": "common",
    });
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

Deno.test(
  "InputHasher.files() expands globs relative to the workdir, without dot files unless named",
  withTree((dir) => {
    const work = join(dir, "work");
    const hasher = new InputHasher();
    assert.deepEqual(hasher.files(work, ["src/**/*.c"]), [
      "src/lib/util.c",
      "src/lib/util_test.c",
      "src/main.c",
    ]);
    assert.deepEqual(hasher.files(work, ["*.md", ".env"]), [".env", "README.md"]);
    assert.deepEqual(hasher.files(work, ["nothing/**"]), []);
  }),
);

Deno.test(
  "InputHasher.files() takes a folder as all its files, !exclusions, ../ and absolute paths",
  withTree((dir) => {
    const work = join(dir, "work");
    const hasher = new InputHasher();
    assert.deepEqual(hasher.files(work, ["src"]), [
      "src/.hidden.c",
      "src/lib/util.c",
      "src/lib/util_test.c",
      "src/main.c",
    ]);
    assert.deepEqual(hasher.files(work, ["src/**/*.c", "!**/*_test.c"]), [
      "src/lib/util.c",
      "src/main.c",
    ]);
    assert.deepEqual(hasher.files(work, ["../shared/*.h"]), ["../shared/common.h"]);
    assert.deepEqual(hasher.files(work, [join(dir, "shared", "*.h")]), ["../shared/common.h"]);
  }),
);

Deno.test(
  "InputHasher.hashInputs() hashes content and sees edits and new files after invalidate()",
  withTree(async (dir) => {
    const work = join(dir, "work");
    const hasher = new InputHasher();
    const first = await hasher.hashInputs(work, ["src/*.c"]);
    assert.deepEqual(first, { "src/main.c": sha("int main;") });
    writeFileSync(join(work, "src/main.c"), "int main(void);");
    writeFileSync(join(work, "src/extra.c"), "extra");
    // until a task runs (invalidate), what was seen is trusted: no stat per task
    assert.deepEqual(await hasher.hashInputs(work, ["src/*.c"]), first);
    hasher.invalidate();
    assert.deepEqual(await hasher.hashInputs(work, ["src/*.c"]), {
      "src/extra.c": sha("extra"),
      "src/main.c": sha("int main(void);"),
    });
    // a fresh hasher (the next run) reads the content again
    writeFileSync(join(work, "src/extra.c"), "extra2");
    assert.equal(
      (await new InputHasher().hashInputs(work, ["src/*.c"]))["src/extra.c"],
      sha("extra2"),
    );
  }),
);

Deno.test("InputHasher.hashInputs() keys very many files per pattern", async () => {
  const dir = tempPlanDir({});
  try {
    mkdirSync(join(dir, "many"));
    for (let i = 0; i <= MAX_LISTED_INPUTS; i++) writeFileSync(join(dir, "many", `f${i}`), `${i}`);
    const hasher = new InputHasher();
    const keyed = await hasher.hashInputs(dir, ["many/*"]);
    assert.deepEqual(Object.keys(keyed), ["glob:many/*"]);
    writeFileSync(join(dir, "many", "f7"), "changed");
    hasher.invalidate();
    assert.notEqual(
      (await hasher.hashInputs(dir, ["many/*"]))["glob:many/*"],
      keyed["glob:many/*"],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

Deno.test("inputPatternProblem() finds empty and unbalanced patterns", () => {
  assert.equal(inputPatternProblem("src/**/*.ts"), undefined);
  assert.equal(inputPatternProblem("!src/{a,b}/[ab].ts"), undefined);
  assert.equal(inputPatternProblem(""), "is empty");
  assert.equal(inputPatternProblem("!"), "is empty");
  assert.equal(inputPatternProblem("src/[ab"), "has a '[' without its ']'");
  assert.equal(inputPatternProblem("src/{a,b"), "has a '{' without its '}'");
  assert.equal(inputPatternProblem("src/a}"), "has a '}' without its '{'");
});

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempPlanDir } from "../../tests/helpers.ts";
import { exclusionMatcher, InputHasher, MAX_LISTED_INPUTS } from "./cache_inputs.ts";
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
  "InputHasher.files() takes a folder as every file under it, in dot folders too, not .git",
  async () => {
    const dir = tempPlanDir({
      "conf/main": "top",
      "conf/.github/settings": "v1",
      "conf/.github/.deep/x/y": "deep",
      "conf/sub/.cache/z": "z",
      "conf/.git/HEAD": "ref",
      "conf/sub/.maestro/maestro.db": "db",
      "conf/.maestro-runs/r1/build.log": "log",
    });
    try {
      const hasher = new InputHasher();
      assert.deepEqual(hasher.files(dir, ["conf"]), [
        "conf/.github/.deep/x/y",
        "conf/.github/settings",
        "conf/main",
        "conf/sub/.cache/z",
      ]);
      // explicit globs keep the dot rule; naming a skipped folder walks it
      assert.deepEqual(hasher.files(dir, ["conf/**/*"]), ["conf/main"]);
      assert.deepEqual(hasher.files(dir, ["conf/.git"]), ["conf/.git/HEAD"]);
      // the bug: an edit inside a dot folder must change the key
      const before = await hasher.hashInputs(dir, ["conf"]);
      writeFileSync(join(dir, "conf/.github/settings"), "v2");
      hasher.invalidate();
      const after = await hasher.hashInputs(dir, ["conf"]);
      assert.equal(before["conf/.github/settings"], sha("v1"));
      assert.equal(after["conf/.github/settings"], sha("v2"));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

Deno.test("InputHasher.files() keys a symlinked folder's own files without looping", () => {
  const dir = tempPlanDir({ "real/r": "r", "real/deeper/d": "d", "work/f": "f" });
  try {
    symlinkSync("../real", join(dir, "work/linked"));
    symlinkSync("../real/r", join(dir, "work/.linkfile"));
    symlinkSync("..", join(dir, "work/loop"));
    symlinkSync("nowhere", join(dir, "work/broken"));
    assert.deepEqual(new InputHasher().files(dir, ["work"]), [
      "work/.linkfile",
      "work/f",
      "work/linked/r",
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

Deno.test(
  "InputHasher.files() reads !exclusions like inclusions: ./, trailing /, folders",
  withTree((dir) => {
    const work = join(dir, "work");
    const hasher = new InputHasher();
    assert.deepEqual(hasher.files(work, ["src", "!src/lib", "!./src/main.c"]), [
      "src/.hidden.c",
    ]);
    assert.deepEqual(hasher.files(work, ["src/**/*.c", "!./src/lib/"]), ["src/main.c"]);
    assert.deepEqual(hasher.files(work, ["src", "!./src/**/*_test.c", "!src/.hidden.c"]), [
      "src/lib/util.c",
      "src/main.c",
    ]);
    assert.deepEqual(hasher.files(work, ["../shared", "src/main.c", `!${join(dir, "shared")}`]), [
      "src/main.c",
    ]);
  }),
);

Deno.test("exclusionMatcher() names a folder's files, not its namesakes", () => {
  const excluded = exclusionMatcher("/w", "./src/gen/");
  assert.equal(excluded("src/gen"), true);
  assert.equal(excluded("src/gen/a/b.c"), true);
  assert.equal(excluded("src/generated.c"), false);
  assert.equal(exclusionMatcher("/w", "../x/*.h")("../x/a.h"), true);
  assert.equal(exclusionMatcher("/w", "/w/src/*.c")("src/a.c"), true);
  assert.equal(exclusionMatcher("/w", ".")("a/b"), true);
  assert.equal(exclusionMatcher("/w", ".")("../a"), false);
});

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

import assert from "node:assert/strict";
import { splitGlob } from "./glob_split.ts";

Deno.test("splitGlob() resolves the literal leading folders of a glob", () => {
  assert.deepEqual(splitGlob("/w/gw/src", "../src/*.ts"), {
    base: "/w/gw/src",
    literal: "../src",
    rest: "*.ts",
  });
  assert.deepEqual(splitGlob("/w", "/abs/dir/**/*.ts"), {
    base: "/abs/dir",
    literal: "/abs/dir",
    rest: "**/*.ts",
  });
  assert.deepEqual(splitGlob("/w", "/*.ts"), { base: "/", literal: "/", rest: "*.ts" });
  assert.deepEqual(splitGlob("/w", "./src/{a,b}/x"), {
    base: "/w/src",
    literal: "src",
    rest: "{a,b}/x",
  });
  assert.deepEqual(splitGlob("/w", "a/b.txt"), {
    base: "/w/a/b.txt",
    literal: "a/b.txt",
    rest: "",
  });
});

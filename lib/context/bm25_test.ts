import assert from "node:assert/strict";
import { bm25Scores } from "./bm25.ts";
import { terms } from "./terms.ts";

Deno.test("bm25Scores() ranks the document that shares the rare query term first", () => {
  const docs = [
    "the build finished and the tests ran",
    "the database migration failed on the users table",
    "the build uploaded artifacts",
  ].map(terms);
  const scores = bm25Scores(docs, terms("why did the migration fail"));
  assert.ok(scores[1]! > scores[0]! && scores[1]! > scores[2]!, String(scores));
  assert.equal(scores[0], 0);
});

Deno.test("bm25Scores() gives a rare term more weight than a common one", () => {
  const docs = [["build", "ok"], ["build", "ok"], ["build", "crash"]];
  const common = bm25Scores(docs, ["build"]);
  const rare = bm25Scores(docs, ["crash"]);
  assert.ok(rare[2]! > common[2]!);
});

Deno.test("bm25Scores() normalises by length: the same match counts more in a short document", () => {
  const short = ["timeout"];
  const long = ["timeout", ...Array.from({ length: 40 }, (_, i) => `word${i}`)];
  const [a, b] = bm25Scores([short, long], ["timeout"]);
  assert.ok(a! > b!);
});

Deno.test("bm25Scores() is empty for no documents and zero for an empty query", () => {
  assert.deepEqual(bm25Scores([], ["x"]), []);
  assert.deepEqual(bm25Scores([["a"]], []), [0]);
});

Deno.test("terms() splits identifiers, drops stop words and stems", () => {
  assert.deepEqual(terms("The parseConfig tests"), ["parseconfig", "parse", "config", "test"]);
  assert.deepEqual(terms("retry_delay_sec"), ["retrydelaysec", "retry", "delay", "sec"]);
  assert.deepEqual(terms("failed failing fails"), ["fail", "fail", "fail"]);
});

import assert from "node:assert/strict";
import { classifyCriterion } from "./judge_config.ts";

Deno.test("a rubric's min_score is kept as written: a level, as in the reference tool", () => {
  const rubric = classifyCriterion({
    type: "rubric",
    name: "tone",
    min_score: 3,
    levels: [{ score: 1, description: "bad" }, { score: 5, description: "great" }],
  });
  assert.ok(!("problem" in rubric) && rubric.kind === "rubric");
  assert.equal(rubric.minScore, 3);
});

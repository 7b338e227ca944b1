import assert from "node:assert/strict";
import { classifyCriterion } from "./judge_config.ts";

Deno.test("a rubric's min_score is a score between 0 and 1, not a level", () => {
  const rubric = (min_score: number) => ({
    type: "rubric",
    name: "tone",
    min_score,
    levels: [{ score: 1, description: "bad" }, { score: 5, description: "great" }],
  });
  assert.equal("problem" in classifyCriterion(rubric(0.6)), false);
  assert.equal("problem" in classifyCriterion(rubric(1)), false);
  const level = classifyCriterion(rubric(3));
  assert.ok("problem" in level);
  assert.match(level.problem, /min_score 3 is not between 0 and 1/);
});

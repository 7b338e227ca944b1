/**
 * Validation of a task's gates (lib/gates/): the `judge:` block's criteria, preset and quorum
 * (E020, E054-E056, W22) and the `assert:` list (E018), each pointing at the offending node.
 *
 * @module
 */
import type { PlanIssue } from "../errors.ts";
import { judgeConfig, judgeProblems } from "../gates/judge_config.ts";
import { workspaceAssertionIssues } from "../gates/workspace_assertions.ts";
import type { WorkingTask } from "./lower.ts";
import { issue } from "./validate_common.ts";

/** LLM calls per attempt above which a judge is reported as expensive (W22). */
const EXPENSIVE_CALLS = 4;

/** Checks `judge:` and `assert:` of one task. */
export function checkGateFields(
  working: WorkingTask,
  errors: PlanIssue[],
  warnings: PlanIssue[],
): void {
  const { task } = working;
  const judge = task.judge as Record<string, unknown> | null | undefined;
  if (judge != null && typeof judge === "object") {
    for (const problem of judgeProblems(judge)) {
      errors.push(
        issue(working, ["judge", ...problem.field], problem.code, problem.message, problem.hint),
      );
    }
    const config = judgeConfig(judge);
    for (const rubric of config.criteria) {
      if (rubric.kind !== "rubric" || rubric.minScore === null) continue;
      const lowest = Math.min(...rubric.levels.map((l) => l.score));
      // a fraction written as min_score (0.8) passes every answer: it is a level
      if (rubric.minScore <= lowest) {
        warnings.push(issue(
          working,
          ["judge", "criteria"],
          "W37",
          `min_score ${rubric.minScore} of rubric "${rubric.name}" is at or below its lowest ` +
            `level (${lowest}): every answer passes`,
          "min_score is a level, as in the reference tool (e.g. 4 for levels 1 to 5)",
        ));
      }
    }
    const llm = config.criteria.filter((c) => c.kind === "llm").length > 0 ? 1 : 0;
    const rubrics = config.criteria.filter((c) => c.kind === "rubric").length;
    const perVoter =
      (config.method === "debate" ? 2 * config.debateRounds : config.method === "direct" ? 1 : 2) *
        llm + rubrics;
    const calls = perVoter * config.quorum;
    if (calls > EXPENSIVE_CALLS) {
      warnings.push(issue(
        working,
        ["judge"],
        "W22",
        `judge of task "${task.id}" makes about ${calls} LLM calls per attempt`,
        "a cheaper method (direct), fewer rubrics or a smaller quorum cost less",
      ));
    }
  }
  const asserts = task.assert;
  if (Array.isArray(asserts)) {
    asserts.forEach((spec, i) => {
      if (spec === null || typeof spec !== "object") return; // the shape check reported it
      for (const found of workspaceAssertionIssues(spec as Record<string, unknown>)) {
        const at = found.key !== undefined && found.key in spec ? [found.key] : [];
        const list = found.code === "W01" ? warnings : errors;
        const message = found.code === "W01" ? found.message : `assert: ${found.message}`;
        list.push(issue(working, ["assert", i, ...at], found.code, message, found.hint));
      }
    });
  }
}

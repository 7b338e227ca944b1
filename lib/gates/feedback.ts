/**
 * What a failed gate tells the next attempt: the guard's output, the failed assertions, or the
 * judge's verdict and reasons, as a block the §8 retry feedback carries as its "Error output".
 * Secret values are masked, each piece before it is cut (a cut secret would not be recognised),
 * and the text is cut to a budget (each reason to a line budget, the
 * whole block to {@linkcode FEEDBACK_BUDGET} characters, keeping its beginning: the most
 * important lines come first).
 *
 * @module
 */
import type { Masker } from "../security/mask.ts";
import type { GateOutcome } from "./types.ts";

/** Characters of one gate's feedback block (the retry feedback keeps 2000 of output). */
export const FEEDBACK_BUDGET = 1800;
/** Characters of one reason line. */
const LINE_BUDGET = 400;

function cut(text: string, n: number): string {
  return text.length > n ? `${text.slice(0, n - 1)}…` : text;
}

/**
 * The feedback block of a failed gate.
 *
 * @param outcome the gate that failed the attempt
 * @param mask the run's secret masker
 * @param budget characters of the block
 */
export function gateFeedback(
  outcome: GateOutcome,
  mask: Masker,
  budget: number = FEEDBACK_BUDGET,
): string {
  let text: string;
  if (outcome.gate === "guard") {
    text = `[GUARD FEEDBACK] guard_command rejected the output ` +
      `(exit code ${outcome.exitCode ?? "?"}). Its output:\n` +
      // the guard's own output is the feedback: keep its end, where errors usually are
      mask(outcome.reasons[0] ?? "").slice(-(budget - 120));
  } else if (outcome.gate === "assert") {
    text = "[ASSERTION FEEDBACK] These workspace assertions failed:\n" +
      outcome.reasons.map((r) => `- ${cut(mask(r), LINE_BUDGET)}`).join("\n");
  } else {
    const score = outcome.score === null ? "" : `, score ${outcome.score.toFixed(2)}`;
    const threshold = outcome.threshold === null
      ? ""
      : ` (pass threshold ${outcome.threshold.toFixed(2)})`;
    text = `[JUDGE FEEDBACK] The judge's verdict was ${outcome.verdict}${score}${threshold}.\n` +
      "What to improve:\n" +
      outcome.reasons.map((r) => `- ${cut(mask(r), LINE_BUDGET)}`).join("\n");
  }
  return cut(mask(text), budget);
}

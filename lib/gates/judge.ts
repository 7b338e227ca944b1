/**
 * The judge (seed-behaviour §8): deterministic assertions, rubrics and LLM criteria scored in
 * [0, 1], aggregated (`mean`, `min`, `weighted_mean`) and compared with `pass_threshold`:
 * score ≥ threshold → pass; ≥ half the threshold → warn (recorded and shown, the task still
 * passes); below → fail. A `required` criterion that fails, or a rubric below its `min_score`,
 * makes the verdict fail whatever the score (`min_score` is on the score's 0-1 scale, like
 * the threshold). An LLM call that fails or answers nothing readable makes the verdict
 * `error`, with no score (null).
 *
 * LLM criteria are graded by `method`: `direct` (one call), `g_eval` (steps, then grading
 * along them: 2 calls), `reflection` (grading, then a critique of it: 2 calls), or `debate`
 * (an advocate and a critic per round, each ending with a score; the scores are averaged).
 * Each rubric is one more call. With `quorum: N`, N independent judges (`quorum_diversity`:
 * rotating models) vote: the score is the mean of the valid voters', and `majority`,
 * `unanimous` or `any` voters must pass.
 *
 * What the verdict does (`effect`): pass → none; warn → warn; fail or error → `on_fail`
 * (`fail`: the task fails without further retries; `retry`: the attempt fails and the next
 * one gets the judge's reasons; `warn`: recorded as a warning only).
 *
 * Every LLM call goes through the injected {@linkcode JudgeCall} (the runner's side call with
 * the judge's engine and model), so tokens and cost are counted by the caller.
 *
 * @module
 */
import { PRICING } from "../../engines/pricing.ts";
import type { SideCallResult } from "../run/side_call.ts";
import { callTimeoutSec, type Criterion, type JudgeConfig, needsLlm } from "./judge_config.ts";
import { type GradedCriterion, parseGrade, parseLevel, parseSteps } from "./judge_parse.ts";
import {
  debatePrompt,
  gEvalPrompt,
  gradePrompt,
  reflectionPrompt,
  rubricPrompt,
  stepsPrompt,
} from "./judge_prompts.ts";
import { evaluateOutputAssertion } from "./output_assertions.ts";
import {
  type CheckResult,
  type GateEffect,
  type GateOutcome,
  type GateSubject,
  roundScore,
  type Verdict,
} from "./types.ts";
import { clip } from "./clip.ts";

/** One LLM call of the judge. */
export interface JudgeCallRequest {
  prompt: string;
  /** The model (null: the caller's default for the judge). */
  model: string | null;
  /** `judge`, `judge:g_eval_steps`, `judge:debate`, ... */
  purpose: string;
  /** Seconds the call may take. */
  timeoutSec: number;
}

/** Makes one LLM call (the runner binds it to the judge's engine through side_call.ts). */
export type JudgeCall = (request: JudgeCallRequest) => Promise<SideCallResult>;

type LlmCriterion = Extract<Criterion, { kind: "llm" }>;
type RubricCriterion = Extract<Criterion, { kind: "rubric" }>;

/** What one voter's LLM grading produced. */
interface Vote {
  checks: CheckResult[];
  reasoning: string;
  error?: string;
  model: string | null;
}

/** Models a diverse quorum rotates through: claude haiku/sonnet/opus, else by price. */
export function diverseModels(engine: string): string[] {
  if (engine === "claude") return ["haiku", "sonnet", "opus"];
  const table = PRICING[engine] ?? {};
  return Object.entries(table).filter(([model]) => model !== "default")
    .sort((a, b) =>
      (a[1].input_per_million + a[1].output_per_million) -
      (b[1].input_per_million + b[1].output_per_million)
    )
    .map(([model]) => model);
}

function llmCheck(c: LlmCriterion, score: number, reasoning: string, threshold: number) {
  const check: CheckResult = {
    type: "llm-rubric",
    name: c.name,
    passed: score >= threshold,
    score: roundScore(score),
    reason: reasoning,
    weight: c.weight,
  };
  if (c.required) check.required = true;
  return check;
}

function errorChecks(criteria: readonly Criterion[], reason: string): CheckResult[] {
  return criteria.map((c) => ({
    type: c.kind === "rubric" ? "rubric" : "llm-rubric",
    name: c.kind === "assertion" ? String(c.spec.type) : c.name,
    passed: false,
    score: 0,
    reason,
    error: true,
  }));
}

/** Matches the model's per-criterion grades to the criteria (by position, else by text). */
function gradeFor(graded: readonly GradedCriterion[], c: LlmCriterion, index: number) {
  const byText = graded.find((g) => g.criterion && c.text.startsWith(g.criterion.slice(0, 30)));
  return byText ?? (graded.length > index ? graded[index] : undefined);
}

async function gradeLlm(
  config: JudgeConfig,
  subject: GateSubject,
  criteria: LlmCriterion[],
  call: JudgeCall,
  model: string | null,
): Promise<{ checks: CheckResult[]; reasoning: string; error?: string }> {
  const timeoutSec = callTimeoutSec(config);
  const ask = async (prompt: string, purpose: string) => {
    const answer = await call({ prompt, model, purpose, timeoutSec });
    if (answer.is_error) {
      throw new Error(
        `${purpose} call failed (${answer.failure?.category ?? "unknown"}): ` +
          clip(answer.failure?.message ?? "", 300),
      );
    }
    return answer.text;
  };
  try {
    let answer: string;
    if (config.method === "g_eval") {
      const steps = parseSteps(await ask(stepsPrompt(criteria), "judge:g_eval_steps"));
      if (steps.length === 0) throw new Error("E107 G-Eval produced no evaluation steps");
      answer = await ask(gEvalPrompt(subject, criteria, steps), "judge:g_eval");
    } else if (config.method === "reflection") {
      const first = await ask(gradePrompt(subject, criteria), "judge");
      answer = await ask(reflectionPrompt(subject, criteria, first), "judge:reflection");
    } else if (config.method === "debate") {
      const transcript: string[] = [];
      const scores: number[] = [];
      for (let round = 1; round <= config.debateRounds; round++) {
        for (const side of ["advocate", "critic"] as const) {
          const text = await ask(
            debatePrompt(subject, criteria, side, round, transcript),
            "judge:debate",
          );
          transcript.push(`${side.toUpperCase()} (round ${round}): ${text}`);
          const score = parseGrade(text).overall;
          if (score !== null) scores.push(score);
        }
      }
      if (scores.length === 0) throw new Error("no debate turn gave a score");
      const mean = scores.reduce((a, b) => a + b, 0) / scores.length;
      const last = clip(transcript.slice(-2).join(" | "), 600);
      return {
        checks: criteria.map((c) => llmCheck(c, mean, last, config.passThreshold)),
        reasoning: `debate scores ${scores.map((s) => roundScore(s)).join(", ")}: ${last}`,
      };
    } else {
      answer = await ask(gradePrompt(subject, criteria), "judge");
    }
    const parsed = parseGrade(answer);
    if (parsed.overall === null && parsed.criteria.every((c) => c.score === null)) {
      throw new Error(`unreadable judge answer: ${clip(answer, 200)}`);
    }
    const checks = criteria.map((c, i) => {
      const grade = gradeFor(parsed.criteria, c, i);
      const score = grade?.score ?? parsed.overall ?? 0;
      const check = llmCheck(c, score, grade?.reasoning || parsed.reasoning, config.passThreshold);
      if (grade?.passed === false) check.passed = false;
      return check;
    });
    return { checks, reasoning: parsed.reasoning };
  } catch (error) {
    const reason = (error as Error).message;
    return { checks: errorChecks(criteria, reason), reasoning: reason, error: reason };
  }
}

/**
 * Whether a rubric answer passes: with `min_score`, the level picked must reach it (a level, as
 * in the reference tool: `min_score: 3` of levels 1-5); without, the score (level / highest
 * level) must reach the judge's pass threshold.
 *
 * @param level the level picked (one of the rubric's levels)
 * @param score level / highest level
 * @param minScore the rubric's `min_score`, or null
 * @param threshold the judge's pass_threshold
 */
export function rubricPassed(
  level: number,
  score: number,
  minScore: number | null,
  threshold: number,
): boolean {
  return minScore !== null ? level >= minScore : roundScore(score) >= threshold;
}

async function gradeRubric(
  config: JudgeConfig,
  subject: GateSubject,
  rubric: RubricCriterion,
  call: JudgeCall,
  model: string | null,
): Promise<CheckResult> {
  const base = { type: "rubric", name: rubric.name, weight: rubric.weight };
  const answer = await call({
    prompt: rubricPrompt(subject, rubric),
    model,
    purpose: "judge:rubric",
    timeoutSec: callTimeoutSec(config),
  });
  if (answer.is_error) {
    const reason = `rubric call failed (${answer.failure?.category ?? "unknown"})`;
    return { ...base, passed: false, score: 0, reason, error: true };
  }
  const { level, reasoning } = parseLevel(answer.text);
  const scores = rubric.levels.map((l) => l.score);
  const max = Math.max(...scores);
  if (level === null || max <= 0) {
    const reason = `unreadable rubric answer: ${clip(answer.text, 200)}`;
    return { ...base, passed: false, score: 0, reason, error: true };
  }
  if (!scores.includes(level)) {
    const reason = `the judge picked level ${level}, not one of the rubric's ` +
      `(${scores.join(", ")})`;
    return { ...base, passed: false, score: 0, reason, error: true };
  }
  const score = level / max;
  const passed = rubricPassed(level, score, rubric.minScore, config.passThreshold);
  const check: CheckResult = {
    ...base,
    passed,
    score: roundScore(score),
    reason: `level ${level}/${max}` +
      (rubric.minScore !== null ? ` (min ${rubric.minScore})` : "") +
      (reasoning ? `: ${reasoning}` : ""),
  };
  // a rubric's min_score is a hard floor
  if (rubric.minScore !== null || rubric.required) check.required = true;
  return check;
}

async function vote(
  config: JudgeConfig,
  subject: GateSubject,
  call: JudgeCall,
  model: string | null,
): Promise<Vote> {
  const llm = config.criteria.filter((c): c is LlmCriterion => c.kind === "llm");
  const rubrics = config.criteria.filter((c): c is RubricCriterion => c.kind === "rubric");
  const [graded, ...rubricChecks] = await Promise.all([
    llm.length > 0
      ? gradeLlm(config, subject, llm, call, model)
      : Promise.resolve({ checks: [], reasoning: "" }),
    ...rubrics.map((r) => gradeRubric(config, subject, r, call, model)),
  ]) as [Awaited<ReturnType<typeof gradeLlm>>, ...CheckResult[]];
  const errors = [graded.error, ...rubricChecks.filter((c) => c.error).map((c) => c.reason)]
    .filter((e): e is string => e !== undefined);
  const result: Vote = {
    checks: [...graded.checks, ...rubricChecks],
    reasoning: graded.reasoning,
    model,
  };
  if (errors.length > 0) result.error = errors.join("; ");
  return result;
}

/**
 * Aggregates check scores. No checks aggregate to 1 (nothing failed); a judge that could not
 * decide does not use this as its score ({@linkcode runJudge} reports null then).
 */
export function aggregate(checks: readonly CheckResult[], how: JudgeConfig["aggregation"]): number {
  if (checks.length === 0) return 1;
  if (how === "min") return Math.min(...checks.map((c) => c.score));
  if (how === "weighted_mean") {
    const total = checks.reduce((sum, c) => sum + (c.weight ?? 1), 0);
    if (total <= 0) return 0;
    return checks.reduce((sum, c) => sum + c.score * (c.weight ?? 1), 0) / total;
  }
  return checks.reduce((sum, c) => sum + c.score, 0) / checks.length;
}

function effectOf(verdict: Verdict, onFail: JudgeConfig["onFail"]): GateEffect {
  if (verdict === "pass") return "none";
  if (verdict === "warn") return "warn";
  return onFail;
}

function fmt(n: number): string {
  return n.toFixed(2);
}

/**
 * Runs a judge over an attempt's output.
 *
 * @param config the normalised judge block
 * @param subject the output, its cost and duration
 * @param call makes the LLM calls (unused when every criterion is deterministic)
 * @param options `engine`: for quorum diversity; `defaultModel`: the judge's model when the
 *   block names none (for the record)
 */
export async function runJudge(
  config: JudgeConfig,
  subject: GateSubject,
  call: JudgeCall,
  options: { engine?: string; defaultModel?: string | null } = {},
): Promise<GateOutcome> {
  const threshold = config.passThreshold;
  const deterministic = config.criteria
    .filter((c): c is Extract<Criterion, { kind: "assertion" }> => c.kind === "assertion")
    .map((c) => evaluateOutputAssertion(c.spec, subject));
  let checks = deterministic;
  let score: number;
  let voters: Vote[] = [];
  let passedVote: boolean;
  let llmError: string | undefined;
  const details: Record<string, unknown> = {
    method: config.method,
    aggregation: config.aggregation,
    preset: config.preset,
    on_fail: config.onFail,
  };
  if (needsLlm(config)) {
    const models = config.quorumDiversity ? diverseModels(options.engine ?? "") : [];
    voters = await Promise.all(
      Array.from({ length: config.quorum }, (_, i) =>
        vote(
          config,
          subject,
          call,
          models.length > 0 ? models[i % models.length]! : config.model,
        )),
    );
    const valid = voters.filter((v) => v.error === undefined);
    const scored = valid.map((v) => {
      const all = [...deterministic, ...v.checks];
      const s = aggregate(all, config.aggregation);
      return {
        vote: v,
        score: s,
        pass: s >= threshold && !all.some((c) => c.required && !c.passed),
      };
    });
    if (valid.length === 0) {
      // voters failing alike (a missing key) would repeat one reason quorum times
      llmError = [...new Set(voters.map((v) => v.error))].join("; ");
      score = aggregate(deterministic, config.aggregation);
      passedVote = false;
    } else {
      score = scored.reduce((sum, s) => sum + s.score, 0) / scored.length;
      const passes = scored.filter((s) => s.pass).length;
      passedVote = config.quorum === 1
        ? passes === 1
        : config.quorumStrategy === "unanimous"
        ? passes === scored.length
        : config.quorumStrategy === "any"
        ? passes >= 1
        : passes > scored.length / 2;
      // the LLM checks reported: each criterion's mean over the valid voters
      const first = valid[0]!.checks;
      checks = [
        ...deterministic,
        ...first.map((c, i) => {
          const mean = valid.reduce((sum, v) => sum + (v.checks[i]?.score ?? 0), 0) / valid.length;
          return valid.length === 1 ? c : { ...c, score: roundScore(mean) };
        }),
      ];
    }
    if (config.quorum > 1) {
      details.quorum = config.quorum;
      details.quorum_strategy = config.quorumStrategy;
      details.voters = voters.map((v, i) => ({
        model: v.model,
        score: scored.find((s) => s.vote === v)?.score ?? null,
        passed: scored.find((s) => s.vote === v)?.pass ?? false,
        error: v.error ?? null,
        index: i,
      }));
    }
    details.reasoning = valid[0]?.reasoning ?? llmError ?? "";
    details.model = config.model ?? options.defaultModel ?? null;
  } else {
    score = aggregate(deterministic, config.aggregation);
    passedVote = score >= threshold && !deterministic.some((c) => c.required && !c.passed);
  }
  const requiredFailed = checks.some((c) => c.required && !c.passed && !c.error);
  const verdict: Verdict = llmError !== undefined
    ? "error"
    : passedVote
    ? "pass"
    : !requiredFailed && score >= threshold / 2
    ? "warn"
    : "fail";
  const reasons = checks.filter((c) => !c.passed).map((c) => `${c.name}: ${c.reason}`);
  if (llmError !== undefined) reasons.unshift(`judge error: ${llmError}`);
  // on error the reasoning is the error itself, already the first reason
  if (
    typeof details.reasoning === "string" && details.reasoning && verdict !== "pass" &&
    verdict !== "error"
  ) {
    reasons.push(`judge: ${details.reasoning}`);
  }
  // a judge that could not decide has no score: whatever the deterministic checks (or none:
  // aggregate() of nothing is 1) scored must not read as the judge's
  const rounded = verdict === "error" ? null : roundScore(score);
  const message = verdict === "error"
    ? `E107 judge could not decide: ${llmError}`
    : `judge verdict ${verdict} (score ${fmt(roundScore(score))}, threshold ${fmt(threshold)})` +
      (reasons.length > 0 ? `: ${reasons[0]}` : "");
  return {
    gate: "judge",
    verdict,
    effect: effectOf(verdict, config.onFail),
    score: rounded,
    threshold,
    reasons,
    checks,
    message,
    category: verdict === "error" ? "judge_error" : "judge_failed",
    details,
  };
}

import assert from "node:assert/strict";
import type { SideCallResult } from "../run/side_call.ts";
import { gateFeedback } from "./feedback.ts";
import { aggregate, type JudgeCallRequest, runJudge } from "./judge.ts";
import { callTimeoutSec, judgeConfig, judgeProblems } from "./judge_config.ts";
import { normaliseScore, parseGrade, parseLevel, parseSteps } from "./judge_parse.ts";
import type { GateSubject } from "./types.ts";

const SUBJECT: GateSubject = { output: "The answer is 42.", costUsd: 0.01, durationSec: 2 };

/** A judge call that answers from a script (by purpose, else in order) and records requests. */
function scripted(answers: Array<string | ((r: JudgeCallRequest) => string) | null>) {
  const requests: JudgeCallRequest[] = [];
  let i = 0;
  const call = (request: JudgeCallRequest): Promise<SideCallResult> => {
    requests.push(request);
    const entry = answers[Math.min(i++, answers.length - 1)];
    const text = typeof entry === "function" ? entry(request) : entry;
    return Promise.resolve({
      text: text ?? "",
      tokens: { input: 10, cached: 0, output: 5 },
      cost_usd: 0.001,
      cost_source: "priced",
      model: request.model,
      engine: "fake",
      is_error: text === null,
      ...(text === null ? { failure: { category: "auth" as const, message: "no key" } } : {}),
      duration_sec: 0.1,
      cached: false,
    });
  };
  return { call, requests };
}

Deno.test("normaliseScore() reads fractions, percents, 0-1, 0-10 and 0-100 scales", () => {
  assert.equal(normaliseScore("8/10"), 0.8);
  assert.equal(normaliseScore("80%"), 0.8);
  assert.equal(normaliseScore(0.35), 0.35);
  assert.equal(normaliseScore(7), 0.7);
  assert.equal(normaliseScore(85), 0.85);
  assert.equal(normaliseScore("n/a"), null);
  // on no scale: unreadable, never a full pass
  assert.equal(normaliseScore(150), null);
  assert.equal(normaliseScore(-3), null);
  assert.equal(normaliseScore("12/10"), null);
  assert.equal(normaliseScore("120%"), null);
});

Deno.test("parseGrade() reads JSON, fenced JSON and SCORE lines", () => {
  const json = parseGrade(
    'Sure!\n```json\n{"criteria":[{"criterion":"polite","passed":false,"score":0.4,' +
      '"reasoning":"rude"}],"overall_score":0.5,"reasoning":"meh"}\n```',
  );
  assert.equal(json.overall, 0.5);
  assert.equal(json.criteria[0]!.score, 0.4);
  assert.equal(json.criteria[0]!.passed, false);
  assert.equal(json.reasoning, "meh");
  const line = parseGrade("SCORE: 8/10 the answer is right");
  assert.equal(line.overall, 0.8);
  assert.equal(line.reasoning, "the answer is right");
  assert.equal(parseGrade("score = 6").overall, 0.6);
  assert.equal(parseGrade("I think it is fine").overall, null);
});

Deno.test("parseLevel() and parseSteps() read rubric levels and G-Eval steps", () => {
  assert.deepEqual(parseLevel('{"level": 3, "reasoning": "ok"}'), { level: 3, reasoning: "ok" });
  assert.equal(parseLevel("LEVEL: 4\nbecause").level, 4);
  assert.equal(parseLevel("nothing").level, null);
  assert.deepEqual(parseSteps("Steps:\n1. Read it\n2) Check facts\n- Score"), [
    "Read it",
    "Check facts",
    "Score",
  ]);
});

Deno.test("judgeConfig() applies defaults and presets; the plan's own values win", () => {
  const plain = judgeConfig({ criteria: "Is it correct?" });
  assert.equal(plain.passThreshold, 0.7);
  assert.equal(plain.onFail, "fail");
  assert.equal(plain.method, "direct");
  assert.equal(plain.quorum, 1);
  assert.equal(plain.criteria[0]!.kind, "llm");
  const preset = judgeConfig({
    preset: "code_quality",
    criteria: [{ type: "contains", value: "x" }],
  });
  assert.equal(preset.passThreshold, 0.6);
  assert.equal(preset.aggregation, "weighted_mean");
  assert.deepEqual(preset.criteria.map((c) => c.kind), [
    "rubric",
    "rubric",
    "rubric",
    "rubric",
    "assertion",
  ]);
  const own = judgeConfig({ preset: "security_audit", pass_threshold: 0.9, aggregation: "mean" });
  assert.equal(own.passThreshold, 0.9);
  assert.equal(own.aggregation, "mean");
  assert.equal(callTimeoutSec(judgeConfig({ criteria: ["a", "b", "c", "d", "e", "f"] })), 90);
  assert.equal(callTimeoutSec(judgeConfig({ criteria: "a", method: "g_eval" })), 120);
});

Deno.test("judgeProblems() reports bad criteria, presets and quorum settings with codes", () => {
  const problems = judgeProblems({
    preset: "nope",
    criteria: [{ type: "contains" }, { type: "weird" }, { type: "rubric", levels: [] }, "ok"],
    quorum: 1,
    quorum_diversity: true,
  });
  const codes = problems.map((p) => `${p.code} ${p.field.join(".")}`);
  assert.deepEqual(codes, [
    "E020 preset",
    "E020 criteria.0",
    "E020 criteria.1",
    "E020 criteria.2",
    "E054 quorum",
  ]);
  assert.deepEqual(judgeProblems({ quorum_strategy: "any", criteria: "x" }).map((p) => p.code), [
    "E055",
  ]);
});

Deno.test("aggregate() computes mean, min and weighted_mean", () => {
  const checks = [
    { type: "a", name: "a", passed: true, score: 1, reason: "", weight: 3 },
    { type: "b", name: "b", passed: false, score: 0, reason: "", weight: 1 },
  ];
  assert.equal(aggregate(checks, "mean"), 0.5);
  assert.equal(aggregate(checks, "min"), 0);
  assert.equal(aggregate(checks, "weighted_mean"), 0.75);
});

Deno.test("runJudge() with deterministic criteria gives pass, warn and fail without calls", async () => {
  const { call, requests } = scripted(["unused"]);
  const config = (criteria: unknown[], extra: Record<string, unknown> = {}) =>
    judgeConfig({ criteria, ...extra });
  const pass = await runJudge(config([{ type: "contains", value: "42" }]), SUBJECT, call);
  assert.equal(pass.verdict, "pass");
  assert.equal(pass.effect, "none");
  const warn = await runJudge(
    config([{ type: "contains", value: "42" }, { type: "contains", value: "43" }]),
    SUBJECT,
    call,
  );
  assert.equal(warn.verdict, "warn");
  assert.equal(warn.score, 0.5);
  assert.equal(warn.effect, "warn");
  assert.match(warn.reasons[0]!, /did not find "43"/);
  const fail = await runJudge(
    config([{ type: "regex", value: "^FAIL" }], { on_fail: "retry" }),
    SUBJECT,
    call,
  );
  assert.equal(fail.verdict, "fail");
  assert.equal(fail.effect, "retry");
  assert.match(fail.message, /^judge verdict fail \(score 0\.00, threshold 0\.70\)/);
  const required = await runJudge(
    config([
      { type: "contains", value: "42" },
      { type: "contains", value: "42." },
      { type: "contains", value: "nope", required: true },
    ]),
    SUBJECT,
    call,
  );
  assert.equal(required.verdict, "fail", "a required criterion fails the judge whatever the score");
  const warnOnly = await runJudge(
    config([{ type: "is-json" }], { on_fail: "warn" }),
    SUBJECT,
    call,
  );
  assert.equal(warnOnly.verdict, "fail");
  assert.equal(warnOnly.effect, "warn");
  assert.equal(requests.length, 0);
});

Deno.test("runJudge() direct: the LLM score gates, per-criterion scores are used", async () => {
  const good = scripted(["SCORE: 8/10 looks right"]);
  const pass = await runJudge(
    judgeConfig({ criteria: ["Is the answer correct?"], model: "mini" }),
    { ...SUBJECT, instruction: "What is 6*7?" },
    good.call,
  );
  assert.equal(pass.verdict, "pass");
  assert.equal(pass.score, 0.8);
  assert.equal(good.requests.length, 1);
  assert.equal(good.requests[0]!.model, "mini");
  assert.equal(good.requests[0]!.purpose, "judge");
  assert.match(good.requests[0]!.prompt, /What is 6\*7\?/);
  assert.match(good.requests[0]!.prompt, /<<<OUTPUT\nThe answer is 42\.\nOUTPUT>>>/);
  assert.match(good.requests[0]!.prompt, /1\. Is the answer correct\?/);

  const bad = scripted(["SCORE: 2/10 wrong answer"]);
  const fail = await runJudge(judgeConfig({ criteria: "Is it correct?" }), SUBJECT, bad.call);
  assert.equal(fail.verdict, "fail");
  assert.equal(fail.score, 0.2);
  assert.ok(fail.reasons.some((r) => r.includes("wrong answer")));

  const mixed = scripted([
    JSON.stringify({
      criteria: [
        { criterion: "a", passed: true, score: 1, reasoning: "fine" },
        { criterion: "b", passed: false, score: 0.2, reasoning: "weak" },
      ],
      overall_score: 0.6,
      reasoning: "mixed",
    }),
  ]);
  const out = await runJudge(
    judgeConfig({
      criteria: ["a", { type: "llm-rubric", value: "b", weight: 3 }],
      aggregation: "weighted_mean",
    }),
    SUBJECT,
    mixed.call,
  );
  assert.equal(out.score, 0.4);
  assert.equal(out.verdict, "warn");
  assert.deepEqual(out.checks.map((c) => c.score), [1, 0.2]);
});

Deno.test("runJudge() gives error when the LLM fails or answers nothing readable", async () => {
  const failing = await runJudge(judgeConfig({ criteria: "x" }), SUBJECT, scripted([null]).call);
  assert.equal(failing.verdict, "error");
  assert.equal(failing.effect, "fail");
  assert.match(failing.message, /^E107 judge could not decide: judge call failed \(auth\)/);
  const garbled = await runJudge(
    judgeConfig({ criteria: "x", on_fail: "retry" }),
    SUBJECT,
    scripted(["I like it"]).call,
  );
  assert.equal(garbled.verdict, "error");
  assert.equal(garbled.effect, "retry");
});

Deno.test("runJudge() error: no score, and the error listed once", async () => {
  const failing = await runJudge(judgeConfig({ criteria: "x" }), SUBJECT, scripted([null]).call);
  assert.equal(failing.verdict, "error");
  assert.equal(failing.score, null, "a judge that could not decide must not look perfect");
  assert.equal(failing.reasons.length, 1, failing.reasons.join(" | "));
  assert.match(failing.reasons[0]!, /^judge error: judge call failed \(auth\)/);
  // passing deterministic checks do not lend the error their score either
  const mixed = await runJudge(
    judgeConfig({ criteria: [{ type: "contains", value: "42" }, "is it right?"] }),
    SUBJECT,
    scripted([null]).call,
  );
  assert.equal(mixed.verdict, "error");
  assert.equal(mixed.score, null);
  assert.equal(mixed.reasons.filter((r) => r.includes("judge call failed")).length, 1);
  // voters failing alike give the reason once
  const quorum = await runJudge(
    judgeConfig({ criteria: "x", quorum: 3 }),
    SUBJECT,
    scripted([null]).call,
  );
  assert.equal(quorum.score, null);
  assert.equal(quorum.reasons.length, 1);
  assert.equal(quorum.message.match(/judge call failed/g)?.length, 1, quorum.message);
});

Deno.test("runJudge() rubric: level / max, min_score is a floor", async () => {
  const rubric = {
    type: "rubric",
    name: "completeness",
    min_score: 3,
    levels: [1, 2, 3, 4, 5].map((score) => ({ score, description: `level ${score}` })),
  };
  const high = scripted(['{"level": 4, "reasoning": "almost all"}']);
  const ok = await runJudge(judgeConfig({ criteria: [rubric] }), SUBJECT, high.call);
  assert.equal(ok.score, 0.8);
  assert.equal(ok.verdict, "pass");
  assert.equal(high.requests[0]!.purpose, "judge:rubric");
  assert.match(high.requests[0]!.prompt, /RUBRIC "completeness"/);
  const low = await runJudge(
    judgeConfig({ criteria: [rubric], pass_threshold: 0.3 }),
    SUBJECT,
    scripted(["LEVEL: 2"]).call,
  );
  assert.equal(low.score, 0.4);
  assert.equal(low.verdict, "fail", "below min_score fails even above the threshold");
  // a level the rubric does not have is an unreadable answer, not its best level
  const off = await runJudge(
    judgeConfig({ criteria: [rubric] }),
    SUBJECT,
    scripted(["LEVEL: 9"]).call,
  );
  assert.equal(off.verdict, "error");
  assert.match(off.reasons.join("\n"), /picked level 9, not one of the rubric's \(1, 2, 3, 4, 5\)/);
});

Deno.test("runJudge() rubric: min_score is a level, as in the reference tool", async () => {
  const rubric = (min_score: number) => ({
    type: "rubric",
    name: "depth",
    min_score,
    levels: [1, 2, 3, 4, 5].map((score) => ({ score, description: `level ${score}` })),
  });
  const level4 = () => scripted(['{"level": 4, "reasoning": "good"}']).call;
  const strict = await runJudge(
    judgeConfig({ criteria: [rubric(5)], pass_threshold: 0.5 }),
    SUBJECT,
    level4(),
  );
  assert.equal(strict.score, 0.8);
  assert.equal(strict.verdict, "fail", "level 4 is below min_score 5");
  assert.equal(strict.checks[0]!.passed, false);
  const met = await runJudge(judgeConfig({ criteria: [rubric(4)] }), SUBJECT, level4());
  assert.equal(met.verdict, "pass", "a floor equal to the level is met");
});

Deno.test("runJudge() g_eval asks for steps then grades along them; no steps is an error", async () => {
  const s = scripted(["1. Check the math\n2. Check the format", "SCORE: 9/10"]);
  const out = await runJudge(
    judgeConfig({ criteria: "correct", method: "g_eval" }),
    SUBJECT,
    s.call,
  );
  assert.equal(out.verdict, "pass");
  assert.deepEqual(s.requests.map((r) => r.purpose), ["judge:g_eval_steps", "judge:g_eval"]);
  assert.match(s.requests[1]!.prompt, /EVALUATION STEPS[^]*1\. Check the math/);
  const none = await runJudge(
    judgeConfig({ criteria: "correct", method: "g_eval" }),
    SUBJECT,
    scripted(["no steps here"]).call,
  );
  assert.equal(none.verdict, "error");
  assert.match(none.message, /E107 G-Eval produced no evaluation steps/);
});

Deno.test("runJudge() reflection keeps the second grading; debate averages the turns", async () => {
  const r = scripted(["SCORE: 9/10", "SCORE: 5/10 too lenient before"]);
  const reflected = await runJudge(
    judgeConfig({ criteria: "c", method: "reflection" }),
    SUBJECT,
    r.call,
  );
  assert.equal(reflected.score, 0.5);
  assert.match(r.requests[1]!.prompt, /A FIRST EVALUATION was:\nSCORE: 9\/10/);
  const d = scripted(["SCORE: 9/10", "SCORE: 5/10", "SCORE: 8/10", "SCORE: 6/10"]);
  const debated = await runJudge(
    judgeConfig({ criteria: "c", method: "debate", debate_rounds: 2 }),
    SUBJECT,
    d.call,
  );
  assert.equal(d.requests.length, 4);
  assert.match(d.requests[0]!.prompt, /ADVOCATE/);
  assert.match(d.requests[1]!.prompt, /CRITIC[^]*ADVOCATE \(round 1\): SCORE: 9\/10/);
  assert.equal(debated.score, 0.7);
  assert.equal(debated.verdict, "pass");
});

Deno.test("runJudge() quorum: majority, unanimous and any over voters, diverse models", async () => {
  const answers = ["SCORE: 9/10", "SCORE: 8/10", "SCORE: 2/10"];
  const run = (strategy: string) => {
    const s = scripted(answers);
    return runJudge(
      judgeConfig({ criteria: "c", quorum: 3, quorum_strategy: strategy, quorum_diversity: true }),
      SUBJECT,
      s.call,
      { engine: "claude" },
    ).then((out) => ({ out, models: s.requests.map((r) => r.model) }));
  };
  const majority = await run("majority");
  assert.equal(majority.out.verdict, "pass");
  assert.deepEqual(majority.models, ["haiku", "sonnet", "opus"]);
  assert.equal(majority.out.score, 0.6333);
  assert.equal((await run("any")).out.verdict, "pass");
  const unanimous = await run("unanimous");
  assert.equal(unanimous.out.verdict, "warn", "one voter failed; 0.63 is in the warn band");
  const voters = unanimous.out.details?.voters as { passed: boolean }[];
  assert.deepEqual(voters.map((v) => v.passed), [true, true, false]);
  // an erroring voter is left out
  const s = scripted(["SCORE: 9/10", null, "SCORE: 8/10"]);
  const out = await runJudge(
    judgeConfig({ criteria: "c", quorum: 3, quorum_strategy: "unanimous" }),
    SUBJECT,
    s.call,
  );
  assert.equal(out.verdict, "pass");
  assert.equal(out.score, 0.85);
});

Deno.test("gateFeedback() masks secrets and keeps within the budget", () => {
  const feedback = gateFeedback(
    {
      gate: "judge",
      verdict: "fail",
      effect: "retry",
      score: 0.2,
      threshold: 0.7,
      reasons: ["tone: leaked sk-SECRET-123 in the answer", "x".repeat(5000)],
      checks: [],
      message: "",
      category: "judge_failed",
    },
    (t) => t.replaceAll("sk-SECRET-123", "***"),
    600,
  );
  assert.match(feedback, /^\[JUDGE FEEDBACK\] The judge's verdict was fail, score 0\.20/);
  assert.match(feedback, /leaked \*\*\* in the answer/);
  assert.ok(!feedback.includes("sk-SECRET"));
  assert.ok(feedback.length <= 600);
  const guard = gateFeedback(
    {
      gate: "guard",
      verdict: "fail",
      effect: "fail",
      score: null,
      threshold: null,
      reasons: ["line1\nERROR: missing field"],
      checks: [],
      message: "",
      category: "guard_failed",
      exitCode: 3,
    },
    (t) => t,
  );
  assert.match(guard, /exit code 3\)\. Its output:\nline1\nERROR: missing field$/);
});

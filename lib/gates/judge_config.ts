/**
 * The `judge:` block, normalised: criteria sorted into deterministic assertions, rubrics and
 * LLM criteria; defaults and the preset applied; and the problems validation reports (E020,
 * E054-E056).
 *
 * Criteria may be written as one string, one typed object, or a list of both:
 * - a plain string, or `{type: llm-rubric, value}` (also `g-eval`): graded by the LLM;
 * - `{type: rubric, name, levels: [{score, description}], min_score?, weight?}`: the LLM picks
 *   a level; score = level / highest level; below `min_score` the judge fails;
 * - any deterministic output assertion (output_assertions.ts), `not-` forms included.
 * Every criterion may carry `weight` (weighted_mean), `metric` (its name) and `required: true`
 * (its failure fails the judge whatever the aggregate).
 *
 * @module
 */
import { isOutputAssertion, outputAssertionProblem } from "./output_assertions.ts";
import { JUDGE_PRESETS, PRESET_NAMES } from "./presets.ts";

/** Judge methods. */
export type JudgeMethod = "direct" | "g_eval" | "debate" | "reflection";
/** How criterion scores combine. */
export type Aggregation = "mean" | "min" | "weighted_mean";
/** How quorum votes combine. */
export type QuorumStrategy = "majority" | "unanimous" | "any";

/** One criterion, classified. */
export type Criterion =
  | { kind: "assertion"; spec: Record<string, unknown> }
  | {
    kind: "rubric";
    name: string;
    levels: { score: number; description: string }[];
    minScore: number | null;
    weight: number;
    required: boolean;
  }
  | { kind: "llm"; name: string; text: string; weight: number; required: boolean };

/** A judge block ready to run. */
export interface JudgeConfig {
  criteria: Criterion[];
  passThreshold: number;
  onFail: "fail" | "warn" | "retry";
  /** Engine of the LLM calls (null: decided by the runner from the task). */
  engine: string | null;
  /** Model of the LLM calls (null: the engine's cheapest). */
  model: string | null;
  /** Extra CLI args of the LLM calls. */
  args: string[];
  method: JudgeMethod;
  aggregation: Aggregation;
  preset: string | null;
  /** Seconds per LLM call (null: the method's default). */
  timeoutSec: number | null;
  quorum: number;
  quorumStrategy: QuorumStrategy;
  quorumDiversity: boolean;
  debateRounds: number;
}

/** Default pass threshold (the reference tool's). */
export const DEFAULT_PASS_THRESHOLD = 0.7;

const METHODS: readonly JudgeMethod[] = ["direct", "g_eval", "debate", "reflection"];
const AGGREGATIONS: readonly Aggregation[] = ["mean", "min", "weighted_mean"];
const STRATEGIES: readonly QuorumStrategy[] = ["majority", "unanimous", "any"];
const LLM_TYPES = new Set(["llm-rubric", "g-eval", "llm_rubric"]);

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function criteriaList(raw: unknown): unknown[] {
  if (raw === undefined || raw === null) return [];
  if (Array.isArray(raw)) return raw;
  return [raw];
}

function weightOf(spec: Record<string, unknown>): number {
  return typeof spec.weight === "number" && spec.weight >= 0 ? spec.weight : 1;
}

/** Classifies one criterion, or returns why it is invalid. */
export function classifyCriterion(raw: unknown): Criterion | { problem: string } {
  if (typeof raw === "string") {
    return raw.trim() === ""
      ? { problem: "an empty criterion" }
      : { kind: "llm", name: raw.slice(0, 60), text: raw, weight: 1, required: false };
  }
  if (!isRecord(raw)) return { problem: "a criterion must be a string or a mapping" };
  const type = typeof raw.type === "string" ? raw.type : undefined;
  if (type === undefined) return { problem: "a typed criterion needs a type" };
  const required = raw.required === true;
  if (type === "rubric") {
    const levels = Array.isArray(raw.levels) ? raw.levels : [];
    const parsed = levels.filter(isRecord).map((l) => ({
      score: Number(l.score),
      description: String(l.description ?? ""),
    }));
    if (parsed.length < 2 || parsed.some((l) => !Number.isFinite(l.score))) {
      return { problem: "a rubric needs at least 2 levels, each with a numeric score" };
    }
    const name = typeof raw.name === "string" ? raw.name : "rubric";
    const minScore = typeof raw.min_score === "number" ? raw.min_score : null;
    return { kind: "rubric", name, levels: parsed, minScore, weight: weightOf(raw), required };
  }
  if (LLM_TYPES.has(type)) {
    const text = raw.value ?? raw.criteria ?? raw.description;
    if (typeof text !== "string" || text.trim() === "") {
      return { problem: `${type} needs its criterion as value` };
    }
    const name = typeof raw.metric === "string"
      ? raw.metric
      : typeof raw.name === "string"
      ? raw.name
      : text.slice(0, 60);
    return { kind: "llm", name, text, weight: weightOf(raw), required };
  }
  if (isOutputAssertion(type)) {
    const problem = outputAssertionProblem(raw);
    return problem ? { problem } : { kind: "assertion", spec: raw };
  }
  return {
    problem: `unknown criterion type '${type}' (use a promptfoo assertion such as contains, ` +
      `regex, is-json, cost, latency, or rubric / llm-rubric)`,
  };
}

/** Problems of a judge block with their field and error code, for validation. */
export function judgeProblems(
  judge: Record<string, unknown>,
): { field: (string | number)[]; code: string; message: string; hint?: string }[] {
  const out: { field: (string | number)[]; code: string; message: string; hint?: string }[] = [];
  const preset = judge.preset;
  if (preset != null && (typeof preset !== "string" || !JUDGE_PRESETS[preset])) {
    out.push({
      field: ["preset"],
      code: "E020",
      message: `unknown judge preset '${String(preset)}'`,
      hint: `use one of ${PRESET_NAMES.join(", ")}`,
    });
  }
  const raw = judge.criteria;
  const list = criteriaList(raw);
  list.forEach((item, i) => {
    const result = classifyCriterion(item);
    if ("problem" in result) {
      out.push({
        field: Array.isArray(raw) ? ["criteria", i] : ["criteria"],
        code: "E020",
        message: `judge criterion: ${result.problem}`,
      });
    }
  });
  if (preset == null && list.length === 0 && raw != null) {
    out.push({ field: ["criteria"], code: "E020", message: "judge criteria is empty" });
  }
  const quorum = judge.quorum;
  if (typeof quorum === "number" && quorum < 2) {
    out.push({
      field: ["quorum"],
      code: "E054",
      message: "judge quorum must be at least 2",
      hint: "remove quorum for a single judge",
    });
  }
  if (judge.quorum_strategy != null && judge.quorum == null) {
    out.push({
      field: ["quorum_strategy"],
      code: "E055",
      message: "quorum_strategy needs quorum",
      hint: "set quorum: 3 (or more)",
    });
  }
  if (judge.quorum_diversity === true && judge.quorum == null) {
    out.push({
      field: ["quorum_diversity"],
      code: "E056",
      message: "quorum_diversity needs quorum",
    });
  }
  return out;
}

/**
 * Normalises a task's `judge:` block. Invalid criteria are kept out (validation reports them);
 * the preset's criteria come first.
 *
 * @param judge the block as written
 */
export function judgeConfig(judge: Record<string, unknown>): JudgeConfig {
  const preset = typeof judge.preset === "string" ? JUDGE_PRESETS[judge.preset] : undefined;
  const criteria: Criterion[] = [];
  for (const item of [...(preset?.criteria ?? []), ...criteriaList(judge.criteria)]) {
    const c = classifyCriterion(item);
    if (!("problem" in c)) criteria.push(c);
  }
  const pick = <T>(value: unknown, options: readonly T[], fallback: T): T =>
    options.includes(value as T) ? value as T : fallback;
  return {
    criteria,
    passThreshold: typeof judge.pass_threshold === "number"
      ? judge.pass_threshold
      : preset?.pass_threshold ?? DEFAULT_PASS_THRESHOLD,
    onFail: pick(judge.on_fail, ["fail", "warn", "retry"] as const, "fail"),
    engine: typeof judge.engine === "string" ? judge.engine : null,
    model: typeof judge.model === "string" ? judge.model : null,
    args: Array.isArray(judge.args) ? judge.args.map(String) : [],
    method: pick(judge.method, METHODS, "direct"),
    aggregation: pick(judge.aggregation, AGGREGATIONS, preset?.aggregation ?? "mean"),
    preset: typeof judge.preset === "string" ? judge.preset : null,
    timeoutSec: typeof judge.timeout_sec === "number" ? judge.timeout_sec : null,
    quorum: typeof judge.quorum === "number" && judge.quorum >= 2 ? judge.quorum : 1,
    quorumStrategy: pick(judge.quorum_strategy, STRATEGIES, "majority"),
    quorumDiversity: judge.quorum_diversity === true,
    debateRounds: typeof judge.debate_rounds === "number" && judge.debate_rounds >= 1
      ? judge.debate_rounds
      : 2,
  };
}

/** Whether the judge needs LLM calls (any rubric or LLM criterion). */
export function needsLlm(config: JudgeConfig): boolean {
  return config.criteria.some((c) => c.kind !== "assertion");
}

/**
 * Seconds one LLM call of this judge may take: `timeout_sec`, else 60 s (direct, debate
 * turns) or 120 s (g_eval, reflection), plus 15 s per criterion beyond 4 (seed-behaviour §8).
 */
export function callTimeoutSec(config: JudgeConfig): number {
  if (config.timeoutSec !== null) return config.timeoutSec;
  const base = config.method === "g_eval" || config.method === "reflection" ? 120 : 60;
  const llm = config.criteria.filter((c) => c.kind !== "assertion").length;
  return base + 15 * Math.max(0, llm - 4);
}

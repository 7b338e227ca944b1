/**
 * Reading a judge model's answer. The prompts ask for JSON, but models (and test doubles)
 * also answer `SCORE: 8/10 …` or `LEVEL: 3`; both are understood. Scores are normalised to
 * [0, 1]: a number above 1 is read as out of 10 (≤ 10) or out of 100 (≤ 100); `a/b` is a / b.
 *
 * @module
 */
import { findJsonValues, parseWholeJson } from "./output_assertions.ts";

/** One criterion as the model graded it. */
export interface GradedCriterion {
  criterion: string;
  passed: boolean | null;
  score: number | null;
  reasoning: string;
}

/** A parsed answer: an overall score (null when none was found) and per-criterion grades. */
export interface ParsedAnswer {
  overall: number | null;
  criteria: GradedCriterion[];
  reasoning: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * A score in [0, 1] from a number or a string like `8/10`, `0.8`, `80%`; null otherwise.
 *
 * @example Usage
 * ```ts
 * import { normaliseScore } from "./judge_parse.ts";
 * import assert from "node:assert/strict";
 * assert.equal(normaliseScore("8/10"), 0.8);
 * ```
 */
export function normaliseScore(value: unknown): number | null {
  if (typeof value === "string") {
    const ratio = /^\s*(-?\d+(?:\.\d+)?)\s*\/\s*(\d+(?:\.\d+)?)\s*$/.exec(value);
    if (ratio) return clamp(Number(ratio[1]) / Number(ratio[2]));
    const percent = /^\s*(-?\d+(?:\.\d+)?)\s*%\s*$/.exec(value);
    if (percent) return clamp(Number(percent[1]) / 100);
    const plain = /^\s*(-?\d+(?:\.\d+)?)\s*$/.exec(value);
    return plain ? normaliseScore(Number(plain[1])) : null;
  }
  if (typeof value !== "number" || !Number.isFinite(value)) return null;
  if (value < 0) return null;
  if (value <= 1) return value;
  if (value <= 10) return value / 10;
  if (value <= 100) return value / 100;
  // on no scale we know: a garbled answer is an unreadable one, never a pass
  return null;
}

/** A fraction read from `8/10` or `80%`; outside 0..1 it is no score (`12/10`, `-5%`). */
function clamp(n: number): number | null {
  return Number.isFinite(n) && n >= 0 && n <= 1 ? n : null;
}

/** The last JSON object of the answer that looks like a grade. */
function gradeObject(text: string): Record<string, unknown> | undefined {
  const whole = parseWholeJson(text);
  const values = whole && isRecord(whole.value) ? [whole.value] : findJsonValues(text);
  const objects = values.filter(isRecord);
  return objects.reverse().find((o) =>
    "overall_score" in o || "score" in o || "criteria" in o || "level" in o
  );
}

const SCORE_LINE = /\bSCORE\s*[:=]\s*(-?\d+(?:\.\d+)?)\s*(?:(?:\/|out of)\s*(\d+(?:\.\d+)?))?/i;
const LEVEL_LINE = /\bLEVEL\s*[:=]\s*(-?\d+(?:\.\d+)?)/i;

/** The answer's text without score/level lines, shortened, as reasoning. */
function proseReasoning(text: string): string {
  const prose = text.replace(SCORE_LINE, "").replace(LEVEL_LINE, "").trim();
  return prose.length > 500 ? `${prose.slice(0, 500)}…` : prose;
}

/**
 * Reads a grading answer: JSON `{criteria: [{criterion, passed, score, reasoning}],
 * overall_score, reasoning}` (or `{score}`), else a `SCORE: x[/y]` line.
 *
 * @param text the model's final text
 */
export function parseGrade(text: string): ParsedAnswer {
  const obj = gradeObject(text);
  if (obj) {
    const criteria = Array.isArray(obj.criteria)
      ? obj.criteria.filter(isRecord).map((c) => ({
        criterion: String(c.criterion ?? c.name ?? ""),
        passed: typeof c.passed === "boolean" ? c.passed : null,
        score: normaliseScore(c.score),
        reasoning: String(c.reasoning ?? c.reason ?? ""),
      }))
      : [];
    let overall = normaliseScore(obj.overall_score ?? obj.score);
    const scored = criteria.filter((c) => c.score !== null);
    if (overall === null && scored.length > 0) {
      overall = scored.reduce((sum, c) => sum + c.score!, 0) / scored.length;
    }
    const reasoning = typeof obj.reasoning === "string" ? obj.reasoning : proseReasoning(text);
    if (overall !== null || criteria.length > 0) return { overall, criteria, reasoning };
  }
  const line = SCORE_LINE.exec(text);
  if (line) {
    const overall = line[2] !== undefined
      ? clamp(Number(line[1]) / Number(line[2]))
      : normaliseScore(Number(line[1]));
    return { overall, criteria: [], reasoning: proseReasoning(text) };
  }
  return { overall: null, criteria: [], reasoning: proseReasoning(text) };
}

/**
 * Reads a rubric answer: JSON `{level, reasoning}`, else `LEVEL: n`, else `SCORE: n` (a level
 * number). Returns the level (null when none was found) and the reasoning.
 *
 * @param text the model's final text
 */
export function parseLevel(text: string): { level: number | null; reasoning: string } {
  const obj = gradeObject(text);
  if (obj) {
    const level = Number(obj.level ?? obj.score);
    if (Number.isFinite(level)) {
      return {
        level,
        reasoning: typeof obj.reasoning === "string" ? obj.reasoning : proseReasoning(text),
      };
    }
  }
  const line = LEVEL_LINE.exec(text) ?? SCORE_LINE.exec(text);
  if (line) return { level: Number(line[1]), reasoning: proseReasoning(text) };
  return { level: null, reasoning: proseReasoning(text) };
}

/** The numbered steps of a G-Eval step-generation answer (empty when there are none). */
export function parseSteps(text: string): string[] {
  return text.split(/\r?\n/)
    .map((line) => /^\s*(?:\d+[.)]|[-*])\s+(.+)$/.exec(line)?.[1]?.trim())
    .filter((step): step is string => step !== undefined && step !== "");
}

/**
 * Judge presets (seed-behaviour §8): named sets of rubric criteria with the reference tool's
 * pass thresholds and aggregations. A plan's `judge: {preset: name}` starts from the preset;
 * its own `criteria` are added after the preset's, and its own `pass_threshold` /
 * `aggregation` win over the preset's.
 *
 * @module
 */

/** One preset. */
export interface JudgePreset {
  /** What it checks, for docs and errors. */
  description: string;
  /** Default pass threshold. */
  pass_threshold: number;
  /** Default aggregation. */
  aggregation: "mean" | "min" | "weighted_mean";
  /** Rubric criteria (`type: rubric`). */
  criteria: Record<string, unknown>[];
}

function rubric(
  name: string,
  weight: number,
  levels: [string, string, string, string, string],
): Record<string, unknown> {
  return {
    type: "rubric",
    name,
    weight,
    levels: levels.map((description, i) => ({ score: i + 1, description })),
  };
}

function cwe(name: string, what: string): Record<string, unknown> {
  return rubric(name, 1, [
    `An exploitable ${what} weakness is present`,
    `A likely ${what} weakness, with partial mitigation`,
    `No clear ${what} weakness, but risky patterns remain`,
    `${what} risks are handled, minor hardening possible`,
    `${what} risks are handled thoroughly and defensively`,
  ]);
}

/** The presets by name. */
export const JUDGE_PRESETS: Readonly<Record<string, JudgePreset>> = {
  code_quality: {
    description: "correctness, readability, maintainability and tests of code changes",
    pass_threshold: 0.6,
    aggregation: "weighted_mean",
    criteria: [
      rubric("correctness", 3, [
        "Does not work or does not address the task",
        "Works only partly; clear bugs",
        "Works for the main case; edge cases missing",
        "Correct, with minor issues",
        "Correct and complete, edge cases handled",
      ]),
      rubric("readability", 1, [
        "Very hard to follow",
        "Hard to follow; poor names or structure",
        "Understandable with effort",
        "Clear names and structure",
        "Idiomatic and easy to read",
      ]),
      rubric("maintainability", 1, [
        "Duplicated, tangled, fragile",
        "Hard to change safely",
        "Acceptable structure",
        "Well factored",
        "Well factored, small, documented where it matters",
      ]),
      rubric("testing", 1, [
        "No tests for the change",
        "Token tests only",
        "Main path tested",
        "Main path and important edge cases tested",
        "Thorough tests that would catch regressions",
      ]),
    ],
  },
  security_audit: {
    description: "injection, authentication, secrets and data exposure",
    pass_threshold: 0.7,
    aggregation: "min",
    criteria: [
      cwe("injection", "injection (SQL, command, template)"),
      cwe("authentication", "authentication and authorization"),
      cwe("secrets", "hard-coded secret or credential"),
      cwe("data_exposure", "sensitive data exposure"),
    ],
  },
  ai_slop_detection: {
    description: "filler, hallucinated APIs, needless verbosity in AI output",
    pass_threshold: 0.6,
    aggregation: "weighted_mean",
    criteria: [
      rubric("substance", 2, [
        "Mostly filler or boilerplate",
        "More filler than substance",
        "Some filler",
        "Little filler",
        "Every sentence or line carries weight",
      ]),
      rubric("grounding", 2, [
        "Invents APIs, files or facts",
        "Several unsupported claims",
        "A few unsupported claims",
        "Claims are supported",
        "Everything is verifiable from the context",
      ]),
      rubric("concision", 1, [
        "Very verbose or repetitive",
        "Verbose",
        "Acceptable length",
        "Concise",
        "As short as it can be while complete",
      ]),
    ],
  },
  cwe_injection: {
    description: "CWE injection classes (CWE-77, CWE-78, CWE-89, CWE-94)",
    pass_threshold: 0.8,
    aggregation: "min",
    criteria: [
      cwe("command_injection", "OS command injection"),
      cwe("sql_injection", "SQL injection"),
    ],
  },
  cwe_auth: {
    description: "CWE authentication and authorization classes (CWE-287, CWE-306, CWE-862)",
    pass_threshold: 0.8,
    aggregation: "min",
    criteria: [
      cwe("authentication", "missing or broken authentication"),
      cwe("authorization", "missing authorization"),
    ],
  },
  cwe_data_exposure: {
    description: "CWE data exposure classes (CWE-200, CWE-312, CWE-532)",
    pass_threshold: 0.7,
    aggregation: "min",
    criteria: [
      cwe("data_exposure", "sensitive information exposure"),
      cwe("logging", "secrets in logs"),
    ],
  },
  cwe_top_25: {
    description: "the CWE Top 25 most dangerous software weaknesses",
    pass_threshold: 0.75,
    aggregation: "min",
    criteria: [
      cwe("memory_safety", "out-of-bounds or use-after-free"),
      cwe("injection", "injection (SQL, OS command, code)"),
      cwe("xss", "cross-site scripting"),
      cwe("access_control", "missing authentication or authorization"),
      cwe("input_validation", "improper input validation or path traversal"),
    ],
  },
};

/** The preset names. */
export const PRESET_NAMES: readonly string[] = Object.keys(JUDGE_PRESETS);

/**
 * A scripted engine adapter for the runtime's unit tests: each attempt takes the next outcome
 * of its script (the last one repeats), runs `sh -c printf <one JSON line>`, and the parser
 * turns that line into an EngineResult. Every build is recorded, so tests can check which
 * engine, model, args and retry feedback each attempt had.
 *
 * @module
 */
import { emptyResult } from "../../engines/common.ts";
import type {
  BuildContext,
  Engine,
  EngineResult,
  EngineTaskSpec,
  FailureCategory,
} from "../../engines/types.ts";

/** One attempt's outcome: an answer, or a failure of some category. */
export type Outcome = { text: string } | { fail: FailureCategory; message?: string };

/** What one build saw. */
export interface Build {
  engine: string;
  task: EngineTaskSpec;
  ctx: BuildContext;
}

/**
 * A scripted engine.
 *
 * @param name the engine's name
 * @param script outcomes of its attempts, in order (the last one repeats)
 * @param builds where every build is recorded (shared between engines for ordering)
 */
export function fakeEngine(name: string, script: Outcome[], builds: Build[]): Engine {
  let calls = 0;
  const parser = () => {
    const out: EngineResult = emptyResult();
    return {
      push(line: string) {
        if (!line.startsWith("{")) return;
        const ev = JSON.parse(line) as { text?: string; fail?: FailureCategory; message?: string };
        if (ev.text !== undefined) out.text = ev.text;
        if (ev.fail) out.failure = { category: ev.fail, message: ev.message ?? ev.fail };
        out.tokens = { input: 1, cached: 0, output: 1 };
      },
      finish(exit: { exitCode: number }) {
        out.is_error = out.failure !== undefined || exit.exitCode !== 0;
        return out;
      },
    };
  };
  return {
    name,
    binary: "sh",
    build(task, ctx) {
      builds.push({ engine: name, task: structuredClone(task), ctx });
      const outcome = script[Math.min(calls++, script.length - 1)]!;
      const line = JSON.stringify(
        "text" in outcome
          ? { text: outcome.text }
          : { fail: outcome.fail, message: outcome.message },
      );
      return {
        argv: ["sh", "-c", `printf '%s\\n' "$1"; exit ${"text" in outcome ? 0 : 1}`, "sh", line],
        env: {},
        warnings: [],
      };
    },
    parser,
    parse: () => emptyResult(),
    classify: () => "unknown",
  };
}

/** A registry of scripted engines by name. */
export function fakeRegistry(engines: Engine[]): (name: string) => Engine | undefined {
  return (name) => engines.find((e) => e.name === name);
}

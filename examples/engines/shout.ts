/**
 * A custom engine that needs no API key and no agent CLI: it "answers" a prompt by shouting
 * it back, with nothing but `sh` and `tr`. It has every part a real adapter has (argv from the
 * task, an incremental parser, failure classification), so it is a template to copy.
 *
 * A plan names it under `engines:` (see ../custom-engine.yaml). Maestro imports this module
 * in its own process, with its own permissions: only use engine modules you trust.
 *
 * In your own project, import the types from the package instead:
 *   import type { Engine } from "jsr:@maestro/core";
 *
 * @module
 */
import type { Engine, EngineResult, FailureCategory } from "@maestro/core";

/** `model:` picks the transformation; `upper` when the task gives none. */
const SCRIPTS: Record<string, string> = {
  upper: 'printf "%s\\n" "$1" | tr "[:lower:]" "[:upper:]"',
  lower: 'printf "%s\\n" "$1" | tr "[:upper:]" "[:lower:]"',
};

function words(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}

/** The `shout` engine. */
export const shout: Engine = {
  name: "shout",
  binary: "sh",

  // Pure: argv and env from the task and the context, no spawning, no file or env reads.
  build(task, ctx) {
    const model = task.model ?? "upper";
    const script = SCRIPTS[model];
    // thrown errors fail the task with E105 and this message
    if (!script) throw new Error(`shout: unknown model "${model}" (use upper or lower)`);
    const prompt = [ctx.prompt, ctx.retryFeedback].filter(Boolean).join("\n\n");
    // `sh -c SCRIPT NAME ARG...`: the prompt is $1, never parsed by the shell
    return {
      argv: ["sh", "-c", script, "shout", prompt, ...task.args],
      env: {},
      model,
      warnings: [],
    };
  },

  // One parser per attempt: stdout lines arrive as the program prints them.
  parser() {
    const lines: string[] = [];
    return {
      push(line) {
        lines.push(line);
      },
      finish(exit): EngineResult {
        const text = lines.join("\n").trim();
        const failed = exit.exitCode !== 0 || exit.timedOut === true || exit.notFound === true;
        const result: EngineResult = {
          text,
          // a local program: no tokens to bill, nothing to pay
          tokens: { input: 0, cached: 0, output: words(text) },
          cost_usd: 0,
          cost_source: "priced",
          session_id: null,
          tool_calls: [],
          num_turns: 1,
          is_error: failed,
          warnings: [],
        };
        if (failed) {
          const message = exit.stderrTail?.join("\n") || `sh exited with code ${exit.exitCode}`;
          result.failure = { category: shout.classify({ exit, message }), message };
        }
        return result;
      },
    };
  },

  parse(lines, exit, ctx) {
    const parser = this.parser(ctx);
    for (const line of lines) parser.push(line);
    return parser.finish(exit);
  },

  classify({ exit }): FailureCategory {
    if (exit.timedOut) return "timeout";
    if (exit.notFound) return "cli_missing";
    return "unknown";
  },
};

export default shout;

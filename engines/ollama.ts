/**
 * Ollama (`ollama run`): a local model server's CLI. Not runnable here (no binary, no
 * weights: engine-clis.md §6), so proven on the output shapes of ollama's source and on a fake
 * `ollama` script in tests/e2e/engine_local_run_test.ts.
 *
 * argv: `ollama run <model | llama3> --verbose <args> -- <[System Instructions] wrapper +
 * prompt>`. stdout is the answer (thinking models prefix `Thinking...` … `...done thinking.`);
 * `--verbose` prints `prompt eval count: N token(s)` / `eval count: N token(s)` on stderr, the
 * only token counts ollama gives. Errors are `Error: …` on stderr with rc 1.
 *
 * @module
 */
import { instructedPrompt, pickEnv } from "./common.ts";
import {
  classifyPlainText,
  parsePlainText,
  type PlainTextDialect,
  plainTextParser,
} from "./plain_text.ts";
import type {
  BuildContext,
  Engine,
  EngineInvocation,
  EngineTaskSpec,
  FailureEvidence,
  TokenUsage,
} from "./types.ts";

/** The model the reference runs when the task names none. */
export const OLLAMA_DEFAULT_MODEL = "llama3";

/** Model names pass through as they are (the reference's table maps each to itself). */
function buildOllama(task: EngineTaskSpec, ctx: BuildContext): EngineInvocation {
  const warnings: string[] = [];
  const model = task.model ?? OLLAMA_DEFAULT_MODEL;
  if (task.reasoning_effort) {
    warnings.push(
      `ollama has no reasoning effort setting; '${task.reasoning_effort}' ignored (pass ` +
        `--think in args for models that support it)`,
    );
  }
  if (task.allowed_tools && task.allowed_tools.length > 0) {
    warnings.push("ollama runs a bare model without tools: allowed_tools has nothing to restrict");
  }
  // Deviations from the reference, on purpose: task args are passed (it dropped them), system
  // text and retry feedback travel in the prompt wrapper (it dropped them), --verbose gives
  // token counts, and `--` keeps a prompt starting with "-" from reading as a flag.
  const argv = ["ollama", "run", model, "--verbose", ...task.args, "--", instructedPrompt(ctx)];
  return { argv, env: pickEnv(ctx.parentEnv, ["OLLAMA_"]), model, warnings };
}

/** The answer without a thinking model's `Thinking...`/`...done thinking.` block. */
function ollamaText(stdout: string): string {
  return stdout.replace(/^\s*Thinking\.\.\.\n[\s\S]*?\n\.\.\.done thinking\.\n*/, "").trim();
}

function ollamaTokens(stderr: string[]): TokenUsage | null {
  let input: number | undefined;
  let output: number | undefined;
  for (const line of stderr) {
    const prompt = line.match(/prompt eval count:\s*(\d+)/);
    const evals = line.match(/(?<!prompt )eval count:\s*(\d+)/);
    if (prompt) input = Number(prompt[1]);
    else if (evals) output = Number(evals[1]);
  }
  if (input === undefined && output === undefined) return null;
  return { input: input ?? 0, cached: 0, output: output ?? 0 };
}

const OLLAMA: PlainTextDialect = {
  engine: "ollama",
  text: ollamaText,
  tokens: ollamaTokens,
  knownFailure(message, ctx) {
    const host = ctx.env?.OLLAMA_HOST ?? "127.0.0.1:11434";
    if (
      /could not connect to (a running )?ollama|ollama server not responding|connection refused/i
        .test(message) && !/registry/i.test(message)
    ) {
      return {
        category: "model_unavailable",
        message: `${message}\nHint: no ollama server answers at ${host}: start one with ` +
          "`ollama serve` or point OLLAMA_HOST at a running server",
      };
    }
    if (
      /pull model manifest|try pulling it first|model ["'].*["'] not found|file does not exist/i
        .test(message)
    ) {
      const model = ctx.model ?? "<model>";
      return {
        category: "model_unavailable",
        message: `${message}\nHint: the model is not available locally: run ` +
          `\`ollama pull ${model}\` (with network access) or check the model name`,
      };
    }
    return undefined;
  },
};

/** The ollama adapter. */
export const ollama: Engine = {
  name: "ollama",
  binary: "ollama",
  build: buildOllama,
  parser: (ctx) => plainTextParser(OLLAMA, ctx),
  parse: (lines, exit, ctx) => parsePlainText(OLLAMA, lines, exit, ctx),
  classify: (f: FailureEvidence) => classifyPlainText(OLLAMA, f),
};

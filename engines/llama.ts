/**
 * llama.cpp (`llama-cli`): runs a local GGUF model file. Not runnable here (no binary, no
 * weights: engine-clis.md §6), so proven on llama.cpp's printed shapes and a fake `llama-cli`.
 *
 * argv: `llama-cli [-m <model file>] -p <[System Instructions] wrapper + prompt>
 * --no-display-prompt -st <args>`. stdout is the answer (older builds end it with
 * `[end of text]`, newer ones print `Exiting...`); the perf lines on stderr
 * (`prompt eval time = … / N tokens`, `eval time = … / M runs`) give tokens when printed.
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

/** llama model aliases (seed-behaviour §3): file names under LLAMA_MODEL_DIR. */
export const LLAMA_MODELS: Readonly<Record<string, string>> = {
  llama3: "llama-3-8b",
  "llama3.1": "llama-3.1-8b",
  "llama3.2": "llama-3.2-3b",
  codellama: "codellama-13b",
  phi3: "phi-3-mini",
  mistral: "mistral-7b",
  "qwen2.5-coder": "qwen2.5-coder-7b",
  "llama4-scout": "llama-4-scout-17b-16e",
  "llama4-maverick": "llama-4-maverick-17b-128e",
};

/** Flags that turn conversation mode off, which makes `-st` pointless (and old builds lack it). */
const NO_CONVERSATION = ["-no-cnv", "--no-conversation"];

/** The model file: the alias resolved, joined with LLAMA_MODEL_DIR when relative (reference). */
export function llamaModelPath(
  model: string,
  env: Readonly<Record<string, string>>,
): string {
  const name = LLAMA_MODELS[model] ?? model;
  const dir = env.LLAMA_MODEL_DIR;
  return dir && !name.startsWith("/") ? `${dir.replace(/\/+$/, "")}/${name}` : name;
}

function buildLlama(task: EngineTaskSpec, ctx: BuildContext): EngineInvocation {
  const warnings: string[] = [];
  const env = pickEnv(ctx.parentEnv, ["LLAMA_"]);
  const argv = ["llama-cli"];
  const path = task.model ? llamaModelPath(task.model, env) : undefined;
  if (path) argv.push("-m", path);
  else if (!env.LLAMA_ARG_MODEL) {
    warnings.push(
      "llama-cli needs a model file: set model: to a .gguf path or name (joined with " +
        "LLAMA_MODEL_DIR), or LLAMA_ARG_MODEL",
    );
  }
  if (task.reasoning_effort) {
    warnings.push(
      `llama has no portable reasoning effort flag; '${task.reasoning_effort}' ignored ` +
        `(newer llama-cli builds take --reasoning-effort in args)`,
    );
  }
  if (task.allowed_tools && task.allowed_tools.length > 0) {
    warnings.push(
      "llama-cli runs a bare model without tools: allowed_tools has nothing to restrict",
    );
  }
  // -p takes the next word whatever it starts with. The wrapper carries system text and retry
  // feedback (the reference dropped them). -st ends the run after one answer: in conversation
  // mode (the default with a chat template) llama-cli would otherwise wait on stdin, which is
  // /dev/null here and makes it spin.
  argv.push("-p", instructedPrompt(ctx), "--no-display-prompt");
  if (!task.args.some((a) => NO_CONVERSATION.includes(a))) argv.push("-st");
  argv.push(...task.args);
  const result: EngineInvocation = { argv, env, warnings };
  if (path) result.model = path;
  return result;
}

/** The answer without llama-cli's end markers and the newer builds' speed line. */
function llamaText(stdout: string): string {
  return stdout
    .split("\n")
    .filter((l) => !/^\s*(Exiting\.\.\.|\[ Prompt: .* \]|> ?)\s*$/.test(l))
    .join("\n")
    .replace(/\s*\[end of text\]\s*$/, "")
    .trim();
}

function llamaTokens(stderr: string[]): TokenUsage | null {
  let input: number | undefined;
  let output: number | undefined;
  for (const line of stderr) {
    const prompt = line.match(/prompt eval time\s*=.*?\/\s*(\d+)\s+tokens/);
    const evals = line.match(/(?<!prompt )eval time\s*=.*?\/\s*(\d+)\s+runs/);
    if (prompt) input = Number(prompt[1]);
    else if (evals) output = Number(evals[1]);
  }
  if (input === undefined && output === undefined) return null;
  return { input: input ?? 0, cached: 0, output: output ?? 0 };
}

const LLAMA: PlainTextDialect = {
  engine: "llama",
  text: llamaText,
  tokens: llamaTokens,
  knownFailure(message, ctx) {
    if (
      /failed to open GGUF file|unable to load model|failed to load model|error loading model/i
        .test(message)
    ) {
      const dir = ctx.env?.LLAMA_MODEL_DIR;
      return {
        category: "model_unavailable",
        message: `${message}\nHint: llama-cli could not load the model file ` +
          `${ctx.model ? `'${ctx.model}' ` : ""}: set model: to an existing .gguf file ` +
          `(a relative name is joined with LLAMA_MODEL_DIR${dir ? `=${dir}` : ", unset"})`,
      };
    }
    if (/prompt too long|context size|exceeds the (available )?context/i.test(message)) {
      return { category: "context_exceeded", message };
    }
    const unknown = message.match(/(?:invalid|unknown) argument:?\s*(\S+)/i);
    if (unknown) {
      return {
        category: "unknown",
        message: `${message}\nHint: this llama-cli build does not know ${unknown[1]}; ` +
          "-st needs a 2025+ llama.cpp (or add -no-cnv to args to run without it)",
      };
    }
    return undefined;
  },
};

/** The llama adapter. */
export const llama: Engine = {
  name: "llama",
  binary: "llama-cli",
  build: buildLlama,
  parser: (ctx) => plainTextParser(LLAMA, ctx),
  parse: (lines, exit, ctx) => parsePlainText(LLAMA, lines, exit, ctx),
  classify: (f: FailureEvidence) => classifyPlainText(LLAMA, f),
};

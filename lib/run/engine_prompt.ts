/**
 * What an engine task says to its agent: the prompt (inline, `prompt_file`, or the first
 * ```` ```text ```` fence under `## <heading>` of `prompt_md_file`), rendered and prefixed with
 * `Goal: <goal>\n\n`; the system prompt (`append_system_prompt`); and the retry feedback of
 * seed-behaviour §8 for attempts after the first.
 *
 * @module
 */
import { isFile } from "../fs.ts";
import type { TaskIR } from "../plan/ir.ts";

/** A prompt, or the runtime error (E100/E101/E103) that prevented it. */
export type PromptOutcome = { prompt: string } | { error: string };

/**
 * The first ```` ```text ```` fence under the level-2 heading `## <heading>`, up to the next
 * heading of level 1 or 2; undefined when the heading or the fence is missing.
 *
 * @param markdown the document
 * @param heading the heading text, without `## `
 */
export function markdownSection(markdown: string, heading: string): string | undefined {
  const lines = markdown.split(/\r?\n/);
  const start = lines.findIndex((l) => /^##\s/.test(l) && l.slice(2).trim() === heading.trim());
  if (start < 0) return undefined;
  let inFence = false;
  const body: string[] = [];
  for (let i = start + 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (!inFence) {
      if (/^#{1,2}\s/.test(line)) return undefined;
      if (/^\s*```text\s*$/.test(line)) inFence = true;
      continue;
    }
    if (/^\s*```\s*$/.test(line)) return body.join("\n");
    body.push(line);
  }
  return inFence ? body.join("\n") : undefined;
}

function readPromptFile(path: string, field: string): string | { error: string } {
  if (!isFile(path)) return { error: `E100 ${field} not found: ${path}` };
  return Deno.readTextFileSync(path);
}

/**
 * The prompt of an engine task, rendered, with the `Goal:` prefix when the plan has a goal.
 *
 * @param task the engine task
 * @param render the task's template renderer
 * @param goal the plan's goal ("" for none)
 */
export function resolvePrompt(
  task: TaskIR,
  render: (text: string) => string,
  goal: string,
): PromptOutcome {
  const source = task.prompt;
  let text: string;
  if (!source) {
    return { error: `E103 engine task '${task.id}' has no prompt (prompt, prompt_file, …)` };
  } else if (source.kind === "inline") {
    text = source.text;
  } else if (source.kind === "file") {
    const read = readPromptFile(source.path, "prompt_file");
    if (typeof read !== "string") return read;
    text = read;
  } else {
    const read = readPromptFile(source.path, "prompt_md_file");
    if (typeof read !== "string") return read;
    const section = markdownSection(read, source.heading);
    if (section === undefined) {
      return {
        error: `E101 heading '## ${source.heading}' with a \`\`\`text fence not found in ` +
          source.path,
      };
    }
    text = section;
  }
  const rendered = render(text);
  return { prompt: goal.trim() ? `Goal: ${goal}\n\n${rendered}` : rendered };
}

/** The task's system prompt: `append_system_prompt` (engine defaults already merged). */
export function systemPromptOf(task: TaskIR): string {
  const value = task.append_system_prompt;
  return typeof value === "string" ? value : "";
}

/** One failed attempt, as the retry feedback needs it. */
export interface FeedbackFailure {
  /** 1-based attempt number. */
  attempt: number;
  /** Failure category. */
  category: string;
  /** Exit code of the failing step. */
  exit_code: number | null;
}

/**
 * Retry feedback (seed-behaviour §8) for attempt `attempt` of `maxAttempts`, built from the
 * failures so far (the last one is the previous attempt) and its output (the verify output
 * when verify failed, else the engine's error and output tail); the last 2000 characters are
 * kept.
 */
export function retryFeedback(
  attempt: number,
  maxAttempts: number,
  failures: readonly FeedbackFailure[],
  output: string,
): string {
  const last = failures.at(-1);
  if (!last) return "";
  const tail = output.length > 2000 ? output.slice(-2000) : output;
  let text = `\n\n[RETRY FEEDBACK -- Attempt ${attempt}/${maxAttempts}]\n` +
    `Failure category: ${last.category}\nExit code: ${last.exit_code}\nError output:\n${tail}\n\n`;
  if (failures.length > 1) {
    text += "Previous failures:\n" +
      failures.map((f) => `  - Attempt ${f.attempt}: ${f.category} (exit ${f.exit_code})`).join(
        "\n",
      ) + "\n\n";
    if (failures.filter((f) => f.category === last.category).length > 1) {
      text += `WARNING: This failure category (${last.category}) has repeated across multiple ` +
        "attempts. Try a fundamentally different approach rather than incremental fixes.\n\n";
    }
  }
  return text + "Please fix the issues identified above.";
}

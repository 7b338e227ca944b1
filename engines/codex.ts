/**
 * Codex CLI (`codex exec`, npm @openai/codex; proven against codex-cli 0.169.0).
 *
 * argv: `codex exec --json --skip-git-repo-check -C <workdir> [-m M] [-c
 * model_reasoning_effort="E"] [-c developer_instructions="SYS"] [--sandbox …] [provider -c …]
 * <args> -- <prompt>`, stdin /dev/null. Output: JSONL `thread.started`, `item.completed`
 * (agent_message, command_execution, …), `turn.completed` with usage, or `turn.failed`.
 * Codex reports no cost: it is priced from tokens (pricing.ts).
 *
 * @module
 */
import {
  classifyCommon,
  count,
  emptyResult,
  isRecord,
  jsonObject,
  parseRecorded,
  pickEnv,
  removeFlag,
  settleCost,
  str,
} from "./common.ts";
import type {
  BuildContext,
  Engine,
  EngineInvocation,
  EngineResult,
  EngineTaskSpec,
  ExitInfo,
  FailureEvidence,
  LineParser,
  ParseContext,
  ToolCall,
} from "./types.ts";

/** Codex model aliases (seed-behaviour §3). Unknown names pass through. */
export const CODEX_MODELS: Readonly<Record<string, string>> = {
  "5.5": "gpt-5.5",
  "5.4": "gpt-5.4-codex",
  "5.4-mini": "gpt-5.4-mini",
  "5.3": "gpt-5.3-codex",
  "5.2": "gpt-5.2-codex",
  "5.1": "gpt-5.1-codex",
  "5": "gpt-5-codex",
  "5-mini": "gpt-5-codex-mini",
};

/** allowed_tools categories that codex can only honour through its read-only sandbox. */
const READ_ONLY_CATEGORIES = ["read-only", "no-shell", "git-only", "src-scoped"];
const BYPASS = "--dangerously-bypass-approvals-and-sandbox";
/** The custom provider id used to honour OPENAI_BASE_URL (`openai` itself is reserved). */
export const CODEX_PROVIDER_ID = "maestro";

/** A TOML basic string: JSON string escapes are a subset of TOML's, so JSON.stringify fits. */
function toml(value: string): string {
  return JSON.stringify(value);
}

/**
 * Applies an execution profile (seed-behaviour §3) to user args. Deviation, proven against
 * 0.169.0: `--full-auto` no longer exists (clap usage error, rc 2), so it is always dropped;
 * safe mode is `--sandbox workspace-write` (exec's approval policy is already `never`).
 * `sandbox` forces a sandbox mode (allowed_tools restrictions), which then wins over yolo.
 */
export function codexProfileArgs(
  args: string[],
  profile: BuildContext["profile"],
  sandbox?: string,
): string[] {
  let out = removeFlag(args, ["--full-auto"], false).map((a) => a === "--yolo" ? BYPASS : a);
  if (profile === "plan" && !sandbox) return out;
  out = removeFlag(out, ["--sandbox", "-s"], true);
  if (sandbox) return [...removeFlag(out, [BYPASS], false), "--sandbox", sandbox];
  if (profile === "safe") {
    return [...removeFlag(out, [BYPASS], false), "--sandbox", "workspace-write"];
  }
  return out.includes(BYPASS) ? out : [...out, BYPASS];
}

function buildCodex(task: EngineTaskSpec, ctx: BuildContext): EngineInvocation {
  const warnings: string[] = [];
  // --skip-git-repo-check: codex refuses to run outside a git repo otherwise, and task
  // workdirs need not be repos.
  const argv = ["codex", "exec", "--json", "--skip-git-repo-check", "-C", ctx.workdir];
  const model = task.model ? (CODEX_MODELS[task.model] ?? task.model) : undefined;
  if (model) argv.push("-m", model);
  if (task.reasoning_effort) {
    argv.push("-c", `model_reasoning_effort=${toml(task.reasoning_effort)}`);
  }
  const system = [ctx.systemPrompt, ctx.retryFeedback].filter((s) => s.trim() !== "").join(
    "\n\n",
  );
  if (system) argv.push("-c", `developer_instructions=${toml(system)}`);
  let sandbox: string | undefined;
  for (const entry of task.allowed_tools ?? []) {
    if (READ_ONLY_CATEGORIES.includes(entry)) sandbox = "read-only";
    else {
      warnings.push(
        `codex cannot restrict tools by name ('${entry}'); only categories (read-only, ` +
          `no-shell, git-only) are enforced, through --sandbox read-only`,
      );
    }
  }
  if (task.args.includes("--full-auto")) {
    warnings.push("--full-auto was removed from codex exec (0.169 rejects it); dropped");
  }
  const env = pickEnv(ctx.parentEnv, ["OPENAI_", "CODEX_"]);
  const baseUrl = env.OPENAI_BASE_URL;
  if (baseUrl) {
    // codex 0.169 ignores OPENAI_BASE_URL; a custom provider is the working recipe
    // (engine-clis.md §2): Responses API, key from OPENAI_API_KEY.
    const p = `model_providers.${CODEX_PROVIDER_ID}`;
    argv.push(
      "-c",
      `model_provider=${toml(CODEX_PROVIDER_ID)}`,
      "-c",
      `${p}.name=${toml(CODEX_PROVIDER_ID)}`,
      "-c",
      `${p}.base_url=${toml(baseUrl)}`,
      "-c",
      `${p}.env_key=${toml("OPENAI_API_KEY")}`,
      "-c",
      `${p}.wire_api=${toml("responses")}`,
    );
  }
  argv.push(...codexProfileArgs(task.args, ctx.profile, sandbox), "--", ctx.prompt);
  const result: EngineInvocation = { argv, env, warnings };
  if (model) result.model = model;
  return result;
}

/** Tool call for a completed item, or null for items that are not tool use. */
function toolCall(item: Record<string, unknown>): ToolCall | null {
  switch (item.type) {
    case "command_execution":
      return { name: "command_execution", input: { command: str(item.command) ?? "" } };
    case "file_change":
      return { name: "file_change", input: { changes: item.changes ?? [] } };
    case "mcp_tool_call":
      return {
        name: `mcp:${str(item.server) ?? "?"}/${str(item.tool) ?? "?"}`,
        input: isRecord(item.arguments) ? item.arguments : {},
      };
    case "web_search":
      return { name: "web_search", input: { query: str(item.query) ?? "" } };
    default:
      return null;
  }
}

function codexParser(ctx: ParseContext = {}): LineParser {
  const out = emptyResult();
  let failed: string | null = null;
  let completed = false;
  let lastError: string | null = null;
  let garbage = 0;
  let model = ctx.model;
  return {
    toolCallsSoFar: () => out.tool_calls,
    push(line) {
      const ev = jsonObject(line);
      if (!ev) {
        if (line.trim()) garbage++;
        return;
      }
      switch (ev.type) {
        case "thread.started":
          out.session_id = str(ev.thread_id) ?? out.session_id;
          break;
        case "turn.started":
          out.num_turns++;
          break;
        case "turn.completed":
          completed = true;
          if (isRecord(ev.usage)) {
            // OpenAI counts cached tokens inside input_tokens; ours excludes them.
            const cached = count(ev.usage.cached_input_tokens);
            out.tokens.input += Math.max(0, count(ev.usage.input_tokens) - cached);
            out.tokens.cached += cached;
            out.tokens.output += count(ev.usage.output_tokens);
          }
          break;
        case "turn.failed":
          failed = (isRecord(ev.error) ? str(ev.error.message) : undefined) ?? "turn failed";
          break;
        case "error":
          lastError = str(ev.message) ?? lastError;
          // "Reconnecting... n/m" errors are retries, not the end of the run.
          if (lastError) out.warnings.push(lastError);
          break;
        case "item.completed": {
          const item = ev.item;
          if (!isRecord(item)) break;
          if (item.type === "agent_message") out.text = str(item.text) ?? out.text;
          else if (item.type === "error") out.warnings.push(str(item.message) ?? "error item");
          else {
            const call = toolCall(item);
            if (call) out.tool_calls.push(call);
          }
          break;
        }
        default:
          if (typeof ev.model === "string") model ??= ev.model;
      }
    },
    finish(exit: ExitInfo): EngineResult {
      if (garbage > 0) out.warnings.push(`${garbage} stdout line(s) were not JSON events`);
      Object.assign(out, settleCost("codex", null, out.tokens, model, ctx.env));
      // exit 0 without turn.completed: no answer to read (another output format, a crash)
      out.is_error = failed !== null || !completed || exit.exitCode !== 0 ||
        exit.timedOut === true || exit.notFound === true;
      if (out.is_error) {
        const stderr = (exit.stderrTail ?? []).filter((l) => !l.startsWith("WARNING: proceeding"))
          .join("\n").trim();
        let message = failed ?? lastError ?? (stderr ||
          `codex exited with code ${exit.exitCode} without a ` +
            (completed ? "turn.failed event" : "turn.completed event"));
        if (exit.notFound) message = "codex not found on PATH: npm i -g @openai/codex";
        else if (exit.timedOut) message = `codex timed out. ${message}`;
        const category = classifyCommon({ exit, message });
        out.failure = { category, message };
      }
      return out;
    },
  };
}

/** The codex adapter. */
export const codex: Engine = {
  name: "codex",
  binary: "codex",
  build: buildCodex,
  parser: codexParser,
  parse: (lines, exit, ctx) => parseRecorded(codexParser, lines, exit, ctx),
  classify: (f: FailureEvidence) => classifyCommon(f),
};

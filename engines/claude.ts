/**
 * Claude Code (`claude`, npm @anthropic-ai/claude-code; proven against 2.1.197).
 *
 * argv (seed-behaviour §3): `claude --print --verbose --output-format stream-json [--agent A]
 * [--model M] [--disallowedTools …] [--allowedTools …] [--append-system-prompt SYS] <args> --
 * <prompt>`; effort goes in env CLAUDE_CODE_EFFORT_LEVEL. Output: JSONL events ending with a
 * `{"type":"result"}` object carrying text, usage, cost, session id and `is_error`.
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
  readAssistantMessage,
  removeFlag,
  settleCost,
  str,
} from "./common.ts";
import {
  type BuildContext,
  type Engine,
  EngineBuildError,
  type EngineInvocation,
  type EngineResult,
  type EngineTaskSpec,
  type ExitInfo,
  type FailureCategory,
  type FailureEvidence,
  type LineParser,
  type ParseContext,
  type TokenUsage,
} from "./types.ts";

/** Claude's built-in tools that allowed_tools may restrict (the reference's universe). */
export const CLAUDE_TOOLS = [
  "Bash",
  "Edit",
  "Glob",
  "Grep",
  "Read",
  "TodoWrite",
  "WebFetch",
  "WebSearch",
  "Write",
] as const;

const CATEGORIES: Record<string, string[]> = {
  "read-only": ["Glob", "Grep", "Read"],
  "no-shell": CLAUDE_TOOLS.filter((t) => t !== "Bash"),
  "git-only": ["Bash(git *)", "Glob", "Grep", "Read"],
};

/** Printed by claude (rc 1) for --dangerously-skip-permissions / bypassPermissions as root. */
const ROOT_REFUSAL = "cannot be used with root/sudo privileges";
const ROOT_HINT = "claude refuses --dangerously-skip-permissions (profile yolo) when run as " +
  "root. Set IS_SANDBOX=1 in maestro's environment if this machine is a disposable sandbox, " +
  "or use profile safe/plan with allowed_tools (e.g. allowed_tools: [Bash]) instead.";

/**
 * Expands allowed_tools into claude flags: `--allowedTools` pre-approves every allowed entry
 * (plain names too: in `-p` mode a tool that is not pre-approved is denied, so listing only
 * `Tool(pat)` specifiers as the reference does leaves plain names unusable) and
 * `--disallowedTools` removes the rest of the universe.
 */
export function claudeToolFlags(allowed: string[]): { allow: string[]; deny: string[] } {
  const entries = new Set<string>();
  for (const entry of allowed) {
    const expanded = CATEGORIES[entry];
    if (expanded) expanded.forEach((e) => entries.add(e));
    // claude's tools are PascalCase (`Bash`, `Bash(git *)`) or MCP tools (`mcp__server__tool`):
    // `src-scoped` or a misspelled category would otherwise disallow every tool silently
    else if (/^(?:[A-Z][A-Za-z0-9]*|mcp__[\w-]+)(\(.+\))?$/.test(entry)) entries.add(entry);
    else throw new EngineBuildError(`claude: unsupported allowed_tools entry '${entry}'`);
  }
  const names = new Set([...entries].map((e) => e.replace(/\(.*$/, "")));
  return {
    allow: [...entries].sort(),
    deny: CLAUDE_TOOLS.filter((t) => !names.has(t)),
  };
}

/** Applies an execution profile to user args (seed-behaviour §3 table). */
export function claudeProfileArgs(args: string[], profile: BuildContext["profile"]): string[] {
  if (profile === "plan") return [...args];
  let out = removeFlag(args, ["--permission-mode"], true);
  if (profile === "safe") {
    out = removeFlag(out, ["--dangerously-skip-permissions"], false);
    return [...out, "--permission-mode", "default"];
  }
  return out.includes("--dangerously-skip-permissions")
    ? out
    : [...out, "--dangerously-skip-permissions"];
}

function buildClaude(task: EngineTaskSpec, ctx: BuildContext): EngineInvocation {
  const argv = ["claude", "--print", "--verbose", "--output-format", "stream-json"];
  const warnings: string[] = [];
  if (task.agent) argv.push("--agent", task.agent);
  // Aliases (haiku, sonnet, opus, opusplan) are understood by claude itself: passed as is.
  if (task.model) argv.push("--model", task.model);
  if (task.allowed_tools && task.allowed_tools.length > 0) {
    const { allow, deny } = claudeToolFlags(task.allowed_tools);
    // Both options are variadic in claude's parser; one comma-joined value each, and the `--`
    // before the prompt stops them from swallowing it.
    if (deny.length > 0) argv.push("--disallowedTools", deny.join(","));
    argv.push("--allowedTools", allow.join(","));
  }
  const system = [ctx.systemPrompt, ctx.retryFeedback].filter((s) => s.trim() !== "").join(
    "\n\n",
  );
  if (system) argv.push("--append-system-prompt", system);
  const args = claudeProfileArgs(task.args, ctx.profile);
  argv.push(...args, "--", ctx.prompt);

  const env = pickEnv(ctx.parentEnv, ["ANTHROPIC_", "CLAUDE_CODE_", "CLAUDE_CONFIG_DIR"], [
    "IS_SANDBOX",
    "DISABLE_TELEMETRY",
    "API_TIMEOUT_MS",
  ]);
  if (task.reasoning_effort) env.CLAUDE_CODE_EFFORT_LEVEL = task.reasoning_effort;
  const bypass = args.includes("--dangerously-skip-permissions") ||
    args.join(" ").includes("--permission-mode bypassPermissions");
  if (bypass && ctx.uid === 0 && env.IS_SANDBOX !== "1") warnings.push(ROOT_HINT);
  const result: EngineInvocation = { argv, env, warnings };
  if (task.model) result.model = task.model;
  return result;
}

function usageTokens(usage: Record<string, unknown>): TokenUsage {
  // Anthropic counts cache writes outside input_tokens; they are billed as input.
  return {
    input: count(usage.input_tokens) + count(usage.cache_creation_input_tokens),
    cached: count(usage.cache_read_input_tokens),
    output: count(usage.output_tokens),
  };
}

/**
 * Tokens from `modelUsage` (every model call, side calls included, matching
 * `total_cost_usd`), else from `usage` (main loop only).
 */
function resultTokens(result: Record<string, unknown>): TokenUsage {
  const perModel = result.modelUsage;
  if (isRecord(perModel) && Object.keys(perModel).length > 0) {
    const t: TokenUsage = { input: 0, cached: 0, output: 0 };
    for (const m of Object.values(perModel)) {
      if (!isRecord(m)) continue;
      t.input += count(m.inputTokens) + count(m.cacheCreationInputTokens);
      t.cached += count(m.cacheReadInputTokens);
      t.output += count(m.outputTokens);
    }
    return t;
  }
  return isRecord(result.usage) ? usageTokens(result.usage) : { input: 0, cached: 0, output: 0 };
}

function classifyClaude(f: FailureEvidence): FailureCategory {
  if (f.reason === "error_max_turns" || f.reason === "max_turns") return "max_turns";
  return classifyCommon(f);
}

function claudeParser(ctx: ParseContext = {}): LineParser {
  let result: Record<string, unknown> | null = null;
  let sessionId: string | null = null;
  let initModel: string | undefined;
  let lastText = "";
  let replies = 0;
  let garbage = 0;
  const plain: string[] = [];
  const out = emptyResult();
  return {
    toolCallsSoFar: () => out.tool_calls,
    push(line) {
      const ev = jsonObject(line);
      if (!ev) {
        if (line.trim()) {
          garbage++;
          plain.push(line);
        }
        return;
      }
      sessionId = str(ev.session_id) ?? sessionId;
      if (ev.type === "system" && ev.subtype === "init") initModel = str(ev.model);
      if (ev.type === "system" && ev.subtype === "api_retry") {
        out.warnings.push(
          `api retry ${count(ev.attempt)}/${count(ev.max_retries)}: ` +
            `${String(ev.error_status ?? "")} ${String(ev.error ?? "")}`.trim(),
        );
      }
      if (ev.type === "assistant" && isRecord(ev.message)) {
        replies++;
        lastText = readAssistantMessage(ev.message, out.tool_calls) ?? lastText;
      }
      if (ev.type === "result") result = ev;
    },
    finish(exit: ExitInfo): EngineResult {
      if (garbage > 0) out.warnings.push(`${garbage} stdout line(s) were not JSON events`);
      out.session_id = sessionId;
      const stderr = (exit.stderrTail ?? []).join("\n");
      let message = "";
      let status: number | undefined;
      let reason: string | undefined;
      if (result) {
        out.text = str(result.result) ?? lastText;
        out.tokens = resultTokens(result);
        out.num_turns = count(result.num_turns) || replies;
        const reported = typeof result.total_cost_usd === "number" &&
            Number.isFinite(result.total_cost_usd)
          ? result.total_cost_usd
          : null;
        Object.assign(
          out,
          settleCost("claude", reported, out.tokens, ctx.model ?? initModel, ctx.env),
        );
        // Quirk: API errors come as subtype "success" with is_error true; trust is_error.
        const subtype = str(result.subtype) ?? "";
        out.is_error = result.is_error === true || subtype.startsWith("error");
        status = typeof result.api_error_status === "number" ? result.api_error_status : undefined;
        reason = subtype.startsWith("error") ? subtype : str(result.terminal_reason);
        message = out.text || subtype;
        const denials = Array.isArray(result.permission_denials) ? result.permission_denials : [];
        const denied = denials.filter(isRecord).map((d) => String(d.tool_name));
        if (denied.length > 0) {
          out.warnings.push(
            `claude denied tool(s) ${denied.join(", ")}: allow them with allowed_tools ` +
              `or a less strict profile`,
          );
        }
      } else {
        // No result event: the CLI died early (usage error, root refusal, crash), or wrote
        // another format (`--output-format` in args). Either way there is no answer to read.
        out.text = lastText;
        out.num_turns = replies;
        out.is_error = true;
        message = [stderr, plain.join("\n")].filter(Boolean).join("\n").trim() ||
          `claude exited with code ${exit.exitCode} without a result event` +
            (exit.exitCode === 0 ? " (no stream-json answer to read)" : "");
        Object.assign(out, settleCost("claude", null, out.tokens, ctx.model, ctx.env));
      }
      if (exit.timedOut || exit.notFound) out.is_error = true;
      if (out.is_error) {
        if (exit.notFound) message = "claude not found on PATH: npm i -g @anthropic-ai/claude-code";
        else if (exit.timedOut) message = `claude timed out. ${message}`.trim();
        const evidence: FailureEvidence = { exit, message };
        if (status !== undefined) evidence.httpStatus = status;
        if (reason !== undefined) evidence.reason = reason;
        const category = classifyClaude(evidence);
        const text = `${message}\n${stderr}`.includes(ROOT_REFUSAL)
          ? `${message.trim()}\nHint: ${ROOT_HINT}`
          : message;
        out.failure = { category, message: text };
      }
      return out;
    },
  };
}

/** The claude adapter. */
export const claude: Engine = {
  name: "claude",
  binary: "claude",
  build: buildClaude,
  parser: claudeParser,
  parse: (lines, exit, ctx) => parseRecorded(claudeParser, lines, exit, ctx),
  classify: classifyClaude,
};

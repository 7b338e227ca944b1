/**
 * Qwen Code (`qwen`, npm @qwen-code/qwen-code; proven against 0.15.10). The reference calls the
 * binary `qwen-code`; the npm package installs only `qwen`, so `qwen` is looked up first and
 * `qwen-code` is the fallback ({@linkcode Engine.altBinaries}).
 *
 * argv: `qwen --output-format stream-json [--auth-type openai] [--model M]
 * [--append-system-prompt=SYS+FEEDBACK] [--allowed-tools=T …] [--exclude-tools=T …] <args>
 * --prompt=<restriction text + prompt>`. Output (stream-json, chosen over json because json is
 * one array printed at exit: nothing to stream, nothing left if the CLI dies): JSONL
 * Claude-SDK-like `system/init`, `assistant` (text and tool_use blocks), `user` (tool results)
 * and a final `result` with text, usage (every model call, side requests included), num_turns,
 * `is_error`, `permission_denials`. No cost is reported: it is priced from tokens.
 *
 * Quirk: API errors exit 0 as `subtype:"success"`, `is_error:false` with a `result` starting
 * `[API Error: …` — treated as a failure.
 *
 * @module
 */
import {
  emptyResult,
  isRecord,
  jsonObject,
  parseRecorded,
  pickEnv,
  readAssistantMessage,
  removeFlag,
  settleCost,
  str,
  systemText,
} from "./common.ts";
import { UNSUPPORTED_CATEGORIES } from "./capabilities.ts";
import {
  approvalProfileArgs,
  classifyFamily,
  familyTokens,
  restrictionText,
  stderrEvidence,
  toollessWarning,
} from "./gemini_family.ts";
import {
  type BuildContext,
  type Engine,
  EngineBuildError,
  type EngineInvocation,
  type EngineResult,
  type EngineTaskSpec,
  type ExitInfo,
  type FailureEvidence,
  type LineParser,
  type ParseContext,
} from "./types.ts";

/** Qwen model aliases (seed-behaviour §3). Unknown names pass through. */
export const QWEN_MODELS: Readonly<Record<string, string>> = {
  coder: "qwen-coder-plus",
  "coder-turbo": "qwen-coder-turbo",
  max: "qwen-max",
  plus: "qwen-plus",
  qwq: "qwq-plus",
};

/** Tools that allowed_tools may withhold with `--exclude-tools` (qwen-code 0.15 names). */
export const QWEN_TOOLS = [
  "agent",
  "edit",
  "glob",
  "grep_search",
  "list_directory",
  "monitor",
  "read_file",
  "run_shell_command",
  "save_memory",
  "skill",
  "todo_write",
  "web_fetch",
  "write_file",
] as const;

/** Claude-style names qwen itself accepts as aliases (its TOOL_NAME_ALIASES), canonicalised. */
const ALIASES: Record<string, string> = {
  Bash: "run_shell_command",
  Shell: "run_shell_command",
  Read: "read_file",
  Write: "write_file",
  Edit: "edit",
  replace: "edit",
  Glob: "glob",
  Grep: "grep_search",
  LS: "list_directory",
  WebFetch: "web_fetch",
  TodoWrite: "todo_write",
  Task: "agent",
  Agent: "agent",
};

const READ_ONLY = ["glob", "grep_search", "list_directory", "read_file"];
const CATEGORIES: Record<string, string[]> = {
  "read-only": READ_ONLY,
  "no-shell": QWEN_TOOLS.filter((t) => t !== "run_shell_command" && t !== "monitor"),
  "git-only": [...READ_ONLY, "Bash(git *)"],
};

/**
 * Expands allowed_tools into qwen flags: `allow` (pre-approved, so usable headless; names and
 * `Tool(pattern)` rules, which qwen understands in Claude's syntax) and `exclude` (the rest of
 * {@linkcode QWEN_TOOLS}, removed from the agent).
 */
export function qwenToolFlags(allowed: string[]): { allow: string[]; exclude: string[] } {
  const allow = new Set<string>();
  for (const entry of allowed) {
    const expanded = CATEGORIES[entry];
    if (expanded) expanded.forEach((e) => allow.add(e));
    // src-scoped (writes limited to source folders) has no qwen equivalent
    else if (
      !UNSUPPORTED_CATEGORIES.qwen!.includes(entry) && /^[A-Za-z][\w-]*(\(.+\))?$/.test(entry)
    ) allow.add(entry);
    else throw new EngineBuildError(`qwen: unsupported allowed_tools entry '${entry}'`);
  }
  const kept = new Set([...allow].map((e) => {
    const name = e.replace(/\(.*$/, "");
    return ALIASES[name] ?? name;
  }));
  return { allow: [...allow].sort(), exclude: QWEN_TOOLS.filter((t) => !kept.has(t)) };
}

function buildQwen(task: EngineTaskSpec, ctx: BuildContext): EngineInvocation {
  const warnings: string[] = [];
  const argv = ["qwen", "--output-format", "stream-json"];
  const env = pickEnv(ctx.parentEnv, ["DASHSCOPE_", "QWEN_", "OPENAI_"]);
  // Headless qwen fails with "No auth type is selected" unless settings or a flag pick one;
  // an OpenAI-compatible key in the env is qwen's documented recipe (OPENAI_BASE_URL/_MODEL).
  const pickedAuth = task.args.some((a) => a === "--auth-type" || a.startsWith("--auth-type="));
  if (!pickedAuth && !env.QWEN_DEFAULT_AUTH_TYPE && env.OPENAI_API_KEY) {
    argv.push("--auth-type", "openai");
  }
  const model = task.model ? (QWEN_MODELS[task.model] ?? task.model) : undefined;
  if (model) argv.push("--model", model);
  if (task.reasoning_effort) {
    warnings.push(
      `qwen has no reasoning-effort option; reasoning_effort '${task.reasoning_effort}' is not ` +
        `passed. Set model.generationConfig.reasoning.effort in ~/.qwen/settings.json instead.`,
    );
  }
  // Unlike the reference (which drops both for qwen), the system prompt and the retry feedback
  // reach the model: appended to qwen's own system prompt.
  const system = systemText(ctx);
  if (system) argv.push(`--append-system-prompt=${system}`);
  let prompt = ctx.prompt;
  const allowed = task.allowed_tools ?? [];
  if (allowed.length > 0) {
    const { allow, exclude } = qwenToolFlags(allowed);
    // One `--opt=X` per entry: these options are arrays and a bare list swallows the next word.
    for (const a of allow) argv.push(`--allowed-tools=${a}`);
    for (const e of exclude) argv.push(`--exclude-tools=${e}`);
    prompt = restrictionText(allow) + prompt;
    if (allow.some((a) => /^(Bash|Shell|run_shell_command)\(/.test(a)) && !allow.includes("Bash")) {
      warnings.push(
        "qwen treats a shell pattern such as Bash(git *) as an auto-approval rule only: in " +
          "approval mode default the shell tool is then not offered at all, and in yolo the " +
          "pattern is enforced by the prompt text only",
      );
    }
  }
  const args = approvalProfileArgs(task.args, ctx.profile);
  const toolless = toollessWarning("qwen", args, allowed);
  if (toolless) warnings.push(toolless);
  // `--prompt=` (deprecated in favour of the positional, but unambiguous): a positional prompt
  // is swallowed by a preceding array option (--allowed-tools …) and one starting with "-" is
  // read as an option; `--` does not help (qwen then reports "No input provided").
  argv.push(...removeFlag(args, ["--prompt", "-p"], true), `--prompt=${prompt}`);
  const result: EngineInvocation = { argv, env, warnings };
  if (model) result.model = model;
  return result;
}

function classifyQwen(f: FailureEvidence) {
  return classifyFamily(f, false);
}

/** The prefix qwen puts on an API error it reports as a successful result. */
const API_ERROR = "[API Error:";

function qwenParser(ctx: ParseContext = {}): LineParser {
  const out = emptyResult();
  let result: Record<string, unknown> | null = null;
  let initModel: string | undefined;
  let lastText = "";
  let replies = 0;
  let garbage = 0;
  return {
    toolCallsSoFar: () => out.tool_calls,
    push(line) {
      const ev = jsonObject(line);
      if (!ev) {
        if (line.trim()) garbage++;
        return;
      }
      out.session_id = str(ev.session_id) ?? out.session_id;
      if (ev.type === "system" && ev.subtype === "init") initModel = str(ev.model);
      if (ev.type === "assistant" && isRecord(ev.message)) {
        replies++;
        lastText = readAssistantMessage(ev.message, out.tool_calls) ?? lastText;
      }
      if (ev.type === "user" && isRecord(ev.message) && Array.isArray(ev.message.content)) {
        for (const block of ev.message.content) {
          if (isRecord(block) && block.type === "tool_result" && block.is_error === true) {
            const text = typeof block.content === "string" ? block.content : "error";
            out.warnings.push(`tool call failed: ${text.slice(0, 300)}`);
          }
        }
      }
      if (ev.type === "result") result = ev;
    },
    finish(exit: ExitInfo): EngineResult {
      if (garbage > 0) out.warnings.push(`${garbage} stdout line(s) were not JSON events`);
      let message = "";
      let reason: string | undefined;
      if (result) {
        out.text = str(result.result) ?? lastText;
        if (isRecord(result.usage)) {
          const u = result.usage;
          out.tokens = familyTokens({ ...u, cached: u.cache_read_input_tokens });
        }
        out.num_turns = typeof result.num_turns === "number" ? result.num_turns : replies;
        const subtype = str(result.subtype) ?? "";
        out.is_error = result.is_error === true || subtype.startsWith("error") ||
          out.text.startsWith(API_ERROR);
        if (subtype === "error_max_turns") reason = "max_turns";
        const error = isRecord(result.error) ? str(result.error.message) : undefined;
        message = error ?? (out.text || subtype);
        const denials = Array.isArray(result.permission_denials) ? result.permission_denials : [];
        const denied = denials.filter(isRecord).map((d) => String(d.tool_name));
        if (denied.length > 0) {
          out.warnings.push(
            `qwen denied tool(s) ${denied.join(", ")}: allow them with allowed_tools ` +
              `or profile yolo`,
          );
        }
      } else {
        // No result event: the CLI stopped before or outside its run loop (turn limit, crash).
        out.text = lastText;
        out.num_turns = replies;
        out.is_error = true;
        message = stderrEvidence(exit.stderrTail) ||
          `qwen exited with code ${exit.exitCode} without a result event`;
      }
      Object.assign(out, settleCost("qwen", null, out.tokens, ctx.model ?? initModel, ctx.env));
      if (exit.exitCode !== 0 || exit.timedOut || exit.notFound) out.is_error = true;
      if (out.is_error) {
        if (exit.notFound) message = "qwen not found on PATH: npm i -g @qwen-code/qwen-code";
        else if (exit.timedOut) message = `qwen timed out. ${message}`.trim();
        else if (!message) message = `qwen exited with code ${exit.exitCode}`;
        const evidence: FailureEvidence = { exit, message };
        if (reason) evidence.reason = reason;
        out.failure = { category: classifyQwen(evidence), message };
      }
      return out;
    },
  };
}

/** The qwen adapter. */
export const qwen: Engine = {
  name: "qwen",
  binary: "qwen",
  altBinaries: ["qwen-code"],
  build: buildQwen,
  parser: qwenParser,
  parse: (lines, exit, ctx) => parseRecorded(qwenParser, lines, exit, ctx),
  classify: classifyQwen,
};

/**
 * GitHub Copilot CLI (`copilot`, npm @github/copilot; proven against 1.0.102).
 *
 * argv: `copilot --output-format json --no-auto-update --no-ask-user [--model M]
 * [--reasoning-effort E] [--agent A] [--usage-output-file F] [--allow-tool=… --deny-tool=…]
 * <profile + args> --prompt=<[System Instructions] wrapper + prompt>`. Output: JSONL events
 * (`assistant.message`, `tool.execution_*`, `session.error`, a final `result` with the session
 * id and exit code). Tokens are not in the JSONL: they come from the usage file, which the
 * runtime reads after exit (`ExitInfo.usageFileText`), and are priced from our table.
 *
 * @module
 */
import {
  classifyCommon,
  count,
  emptyResult,
  instructedPrompt,
  isRecord,
  jsonObject,
  parseRecorded,
  pickEnv,
  removeFlag,
  str,
} from "./common.ts";
import { REASONING_EFFORTS } from "./capabilities.ts";
import { priceTokens, ratesFor } from "./pricing.ts";
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
  type ToolCall,
} from "./types.ts";

/** Copilot model aliases (seed-behaviour §3). Unknown names (gpt-5.x ids, `auto`) pass through. */
export const COPILOT_MODELS: Readonly<Record<string, string>> = {
  opus: "claude-opus-4.6",
  "opus-fast": "claude-opus-4.6-fast",
  "opus-4.5": "claude-opus-4.5",
  sonnet: "claude-sonnet-4.6",
  "sonnet-4.5": "claude-sonnet-4.5",
  "sonnet-4": "claude-sonnet-4",
  haiku: "claude-haiku-4.5",
  "gemini-pro": "gemini-2.5-pro",
  "gemini-3-pro": "gemini-3-pro-preview",
};

/** Values `--reasoning-effort` accepts (anything else is a usage error, rc 1). */
export const COPILOT_EFFORTS: readonly string[] = REASONING_EFFORTS.copilot!;

/** Flags that grant everything; `--allow-all` and `--yolo` are the same switch. */
const BLANKET = [
  "--yolo",
  "--allow-all",
  "--allow-all-tools",
  "--allow-all-paths",
  "--allow-all-urls",
];
/** Printed in `tool.execution_complete` when -p mode had nobody to ask. */
const DENIED = "Permission denied because no interactive user response was available";

/** Copilot permission rules for allowed_tools: `--allow-tool` and `--deny-tool` values. */
export interface CopilotToolRules {
  /** Pre-approved kinds (`shell(git:*)`, `write`, an MCP server, ...). */
  allow: string[];
  /** Kinds refused outright; deny beats allow in copilot, even `--allow-all-tools`. */
  deny: string[];
  /** What could not be expressed exactly. */
  warnings: string[];
}

/** `Bash(git *)` (claude's vocabulary) → `shell(git:*)` (copilot's prefix syntax). */
function shellRule(pattern: string): string {
  return `shell(${pattern.replace(/ \*$/, ":*")})`;
}

/**
 * Expands allowed_tools into copilot permission rules. Reads (view/grep/glob) need no
 * permission; shell and file writes do, so a kind that nothing allows is denied outright (a
 * deny rule cannot be overridden, which keeps the restriction under any profile). Entries in
 * claude's vocabulary (`Bash(git *)`, `Write`, `Read`) and copilot's own (`shell(git:*)`,
 * `write(src/a.ts)`, `MyMCP(tool)`) are both accepted.
 */
export function copilotToolRules(allowed: string[]): CopilotToolRules {
  const allow = new Set<string>();
  const warnings: string[] = [];
  for (const entry of allowed) {
    const m = entry.match(/^([A-Za-z][\w.-]*)(?:\((.+)\))?$/);
    if (entry === "read-only" || entry === "src-scoped") {
      if (entry === "src-scoped") {
        warnings.push(
          "copilot cannot scope writes to src/; allowed_tools src-scoped is enforced as read-only",
        );
      }
    } else if (entry === "no-shell") allow.add("write");
    else if (entry === "git-only") allow.add("shell(git:*)");
    else if (!m) throw new EngineBuildError(`copilot: unsupported allowed_tools entry '${entry}'`);
    else {
      const arg = m[2];
      const kind = m[1]!.toLowerCase();
      if (kind === "bash" || kind === "shell") allow.add(arg ? shellRule(arg) : "shell");
      else if (["write", "edit", "multiedit", "notebookedit", "create"].includes(kind)) {
        allow.add(arg && kind === "write" ? `write(${arg})` : "write");
      } else if (["read", "glob", "grep", "view", "rg", "ls"].includes(kind)) {
        // reads inside the workdir need no permission in copilot
      } else if (["webfetch", "websearch", "url"].includes(kind)) {
        allow.add(arg && kind === "url" ? `url(${arg})` : "url");
      } else allow.add(entry); // an MCP server or a kind we do not know: copilot decides
    }
  }
  const kinds = [...allow].map((a) => a.replace(/\(.*$/, ""));
  const deny = ["shell", "write"].filter((k) => !kinds.includes(k));
  return { allow: [...allow], deny, warnings };
}

/**
 * Applies an execution profile (seed-behaviour §3) to user args: plan leaves them; safe
 * removes the blanket grants; yolo adds `--yolo` (= all tools, paths and URLs) unless present.
 * With allowed_tools (`restricted`) no blanket grant is kept, since `--yolo` would also allow
 * every shell command that a `shell(git:*)` rule meant to exclude.
 */
export function copilotProfileArgs(
  args: string[],
  profile: BuildContext["profile"],
  restricted = false,
): string[] {
  const out = args.map((a) => a === "--allow-all" ? "--yolo" : a)
    .filter((a, i, all) => a !== "--yolo" || all.indexOf(a) === i);
  if (restricted || profile === "safe") return removeFlag(out, BLANKET, false);
  if (profile === "plan" || out.includes("--yolo")) return out;
  return [...out, "--yolo"];
}

function buildCopilot(task: EngineTaskSpec, ctx: BuildContext): EngineInvocation {
  const warnings: string[] = [];
  // JSONL events on stdout; no self-update mid-run; the ask_user tool would wait forever.
  const argv = ["copilot", "--output-format", "json", "--no-auto-update", "--no-ask-user"];
  const model = task.model ? (COPILOT_MODELS[task.model] ?? task.model) : undefined;
  if (model) argv.push("--model", model);
  if (task.reasoning_effort) {
    if (COPILOT_EFFORTS.includes(task.reasoning_effort)) {
      argv.push("--reasoning-effort", task.reasoning_effort);
    } else {
      warnings.push(
        `copilot reasoning_effort must be one of ${COPILOT_EFFORTS.join(", ")}; ` +
          `'${task.reasoning_effort}' ignored`,
      );
    }
  }
  if (task.agent) argv.push("--agent", task.agent);
  let usageFile: string | undefined;
  if (ctx.scratchDir) {
    usageFile = `${ctx.scratchDir}/copilot-usage.json`;
    argv.push("--usage-output-file", usageFile);
  }
  const restricted = task.allowed_tools !== undefined && task.allowed_tools.length > 0;
  if (restricted) {
    const rules = copilotToolRules(task.allowed_tools!);
    warnings.push(...rules.warnings);
    // `=` form: both options are variadic and would otherwise swallow what follows.
    argv.push(...rules.allow.map((r) => `--allow-tool=${r}`));
    argv.push(...rules.deny.map((r) => `--deny-tool=${r}`));
    if (ctx.profile === "yolo") {
      warnings.push("allowed_tools restricts copilot: profile yolo grants only what it lists");
    }
  }
  argv.push(...copilotProfileArgs(task.args, ctx.profile, restricted));
  // copilot has no system-prompt flag: the reference's wrapper carries system text and retry
  // feedback. `--prompt=` keeps a prompt starting with "-" from reading as a flag.
  argv.push(`--prompt=${instructedPrompt(ctx)}`);

  const env = pickEnv(ctx.parentEnv, ["COPILOT_"], [
    "GH_TOKEN",
    "GITHUB_TOKEN",
    "GH_HOST",
  ]);
  if (env.COPILOT_PROVIDER_BASE_URL && !model && !env.COPILOT_MODEL) {
    warnings.push(
      "copilot with a custom provider (COPILOT_PROVIDER_BASE_URL) needs a model: set model: " +
        "on the task or COPILOT_MODEL",
    );
  }
  const result: EngineInvocation = { argv, env, warnings };
  if (model) result.model = model;
  if (usageFile) result.usageFile = usageFile;
  return result;
}

/** Tokens and cost from the usage file's `modelMetrics` (priced per model), or why not. */
export function copilotUsage(
  text: string,
  env?: Readonly<Record<string, string>>,
): { tokens: TokenUsage; cost: number | null; warnings: string[] } {
  const tokens: TokenUsage = { input: 0, cached: 0, output: 0 };
  const warnings: string[] = [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { tokens, cost: null, warnings: ["copilot usage file is not JSON; tokens unknown"] };
  }
  const metrics = isRecord(parsed) && isRecord(parsed.modelMetrics) ? parsed.modelMetrics : {};
  let cost: number | null = 0;
  for (const [model, m] of Object.entries(metrics)) {
    if (!isRecord(m) || !isRecord(m.usage)) continue;
    // copilot's inputTokens include cache reads and writes (it derives "uncached" as
    // input − read − write); ours exclude reads only, cache writes being billed as input.
    const cached = count(m.usage.cacheReadTokens);
    const t: TokenUsage = {
      input: Math.max(0, count(m.usage.inputTokens) - cached),
      cached,
      output: count(m.usage.outputTokens),
    };
    tokens.input += t.input;
    tokens.cached += t.cached;
    tokens.output += t.output;
    const rates = ratesFor("copilot", model, env);
    if (rates && cost !== null) cost += priceTokens(t, rates);
    else if (!rates && t.input + t.cached + t.output > 0) {
      cost = null;
      warnings.push(`no price for copilot model '${model}': cost unknown`);
    }
  }
  if (tokens.input + tokens.cached + tokens.output === 0) cost = null;
  return { tokens, cost: cost === null ? null : Math.round(cost * 1e8) / 1e8, warnings };
}

function classifyCopilot(f: FailureEvidence): FailureCategory {
  if (f.exit.timedOut || f.exit.notFound || f.exit.exitCode === 127) return classifyCommon(f);
  // session.error errorType (measured: authentication, rate_limit, query)
  if (f.reason === "authentication") return "auth";
  if (f.reason === "rate_limit") return "rate_limit";
  if (f.reason && /quota/.test(f.reason)) return "quota";
  if (f.reason && /context/.test(f.reason)) return "context_exceeded";
  return classifyCommon(f);
}

function copilotParser(ctx: ParseContext = {}): LineParser {
  const out = emptyResult();
  const calls = new Map<string, ToolCall>();
  const anonymous: ToolCall[] = [];
  let sessionError: Record<string, unknown> | null = null;
  let result: Record<string, unknown> | null = null;
  let lastFailure: Record<string, unknown> | null = null;
  let garbage = 0;
  const plain: string[] = [];
  const addCall = (id: string | undefined, name: unknown, args: unknown) => {
    if (typeof name !== "string") return;
    const call = { name, input: isRecord(args) ? args : {} };
    if (id === undefined) anonymous.push(call);
    else if (!calls.has(id)) calls.set(id, call);
  };
  return {
    push(line) {
      const ev = jsonObject(line);
      if (!ev) {
        if (line.trim()) {
          garbage++;
          plain.push(line);
        }
        return;
      }
      const data = isRecord(ev.data) ? ev.data : {};
      switch (ev.type) {
        case "assistant.turn_start":
          out.num_turns++;
          break;
        case "assistant.message": {
          const content = str(data.content);
          if (content) out.text = content;
          const requests = Array.isArray(data.toolRequests) ? data.toolRequests : [];
          for (const r of requests.filter(isRecord)) {
            addCall(str(r.toolCallId), r.name, r.arguments);
          }
          break;
        }
        case "tool.execution_start":
          addCall(str(data.toolCallId), data.toolName, data.arguments);
          break;
        case "tool.execution_complete": {
          const error = isRecord(data.error) ? str(data.error.message) ?? "" : "";
          if (data.success === false && (error.includes(DENIED) || /denied/i.test(error))) {
            const name = calls.get(str(data.toolCallId) ?? "")?.name ?? "a tool";
            out.warnings.push(
              `copilot denied ${name}: ${error.split(". ")[0]}. Allow it with allowed_tools ` +
                `or profile yolo`,
            );
          }
          break;
        }
        case "model.call_failure":
          lastFailure = data;
          break;
        case "assistant.turn_retry": {
          const status = lastFailure ? count(lastFailure.statusCode) : 0;
          out.warnings.push(
            `copilot retried a model call (${str(data.reason) ?? "error"}` +
              `${status ? `, HTTP ${status}` : ""})`,
          );
          break;
        }
        case "session.warning":
          out.warnings.push(`copilot: ${str(data.message) ?? "warning"}`);
          break;
        case "session.error":
          sessionError = data;
          break;
        case "result":
          result = ev;
          break;
      }
    },
    finish(exit: ExitInfo): EngineResult {
      out.tool_calls = [...calls.values(), ...anonymous];
      if (garbage > 0) out.warnings.push(`${garbage} stdout line(s) were not JSON events`);
      if (result) out.session_id = str(result.sessionId) ?? null;
      if (exit.usageFileText !== undefined) {
        const usage = copilotUsage(exit.usageFileText, ctx.env);
        out.tokens = usage.tokens;
        out.warnings.push(...usage.warnings);
        if (usage.cost !== null) {
          Object.assign(out, { cost_usd: usage.cost, cost_source: "priced" });
        }
      } else if (exit.exitCode === 0 && result) {
        out.warnings.push("copilot wrote no usage file: tokens and cost unknown");
      }
      const resultCode = result && typeof result.exitCode === "number" ? result.exitCode : 0;
      // exit 0 without a result event: no answer to read (another output format, a crash)
      out.is_error = sessionError !== null || result === null || resultCode !== 0 ||
        exit.exitCode !== 0 || exit.timedOut === true || exit.notFound === true;
      if (!out.is_error) return out;
      const stderr = (exit.stderrTail ?? []).join("\n").trim();
      let message = (sessionError ? str(sessionError.message) : undefined) ??
        (stderr || plain.join("\n").trim() ||
          `copilot exited with code ${exit.exitCode} without a ` +
            (result ? "session.error event" : "result event"));
      if (exit.notFound) message = "copilot not found on PATH: npm install -g @github/copilot";
      else if (exit.timedOut) message = `copilot timed out. ${message}`;
      const evidence: FailureEvidence = { exit, message };
      const status = sessionError ? count(sessionError.statusCode) : 0;
      if (status) evidence.httpStatus = status;
      const reason = sessionError ? str(sessionError.errorType) : undefined;
      if (reason) evidence.reason = reason;
      out.failure = { category: classifyCopilot(evidence), message };
      return out;
    },
  };
}

/** The copilot adapter. */
export const copilot: Engine = {
  name: "copilot",
  binary: "copilot",
  build: buildCopilot,
  parser: copilotParser,
  parse: (lines, exit, ctx) => parseRecorded(copilotParser, lines, exit, ctx),
  classify: classifyCopilot,
};

/**
 * Gemini CLI (`gemini`, npm @google/gemini-cli; proven against 0.61.0).
 *
 * argv: `gemini --output-format stream-json --skip-trust [--model M] [--allowed-tools=T …]
 * <args> --prompt=<[System Instructions] wrapper + restriction text + prompt>`. Gemini has no
 * system-prompt flag (only GEMINI_SYSTEM_MD, a file that replaces the whole prompt), so the
 * system prompt and the retry feedback go into the prompt with the reference's wrapper. Output:
 * JSONL `init` (session id, model), assistant `message` deltas, `tool_use`/`tool_result`, `error`
 * (warnings) and a final `result` with per-model token stats; stream-json rather than json
 * because with json an API error leaves stdout empty (the error JSON goes to stderr), while
 * stream-json still ends with a `result` line. No cost is reported: it is priced per model.
 *
 * @module
 */
import {
  emptyResult,
  instructedPrompt,
  isRecord,
  jsonObject,
  parseRecorded,
  pickEnv,
  removeFlag,
  str,
} from "./common.ts";
import { UNSUPPORTED_CATEGORIES } from "./capabilities.ts";
import {
  addTokens,
  approvalMode,
  approvalProfileArgs,
  classifyFamily,
  familyTokens,
  restrictionText,
  stderrEvidence,
  toollessWarning,
} from "./gemini_family.ts";
import { priceTokens, ratesFor } from "./pricing.ts";
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
  type TokenUsage,
} from "./types.ts";

/** Gemini model aliases (seed-behaviour §3); `auto` (gemini's own routing) and unknown names pass. */
export const GEMINI_MODELS: Readonly<Record<string, string>> = {
  flash: "gemini-2.5-flash",
  "flash-lite": "gemini-2.5-flash-lite",
  pro: "gemini-2.5-pro",
  "flash-3": "gemini-3-flash-preview",
  "pro-3": "gemini-3.1-pro-preview",
  "pro-3.1": "gemini-3.1-pro-preview",
};

/** Claude-style tool names (the plan vocabulary claude uses) → gemini-cli 0.61 tool names. */
const TOOL_NAMES: Record<string, string> = {
  Bash: "run_shell_command",
  Read: "read_file",
  Write: "write_file",
  Edit: "replace",
  Glob: "glob",
  Grep: "grep_search",
  LS: "list_directory",
  WebFetch: "web_fetch",
  WebSearch: "google_web_search",
  TodoWrite: "write_todos",
};

const READ_ONLY = ["glob", "grep_search", "list_directory", "read_file"];
const CATEGORIES: Record<string, string[]> = {
  "read-only": READ_ONLY,
  "no-shell": [...READ_ONLY, "google_web_search", "replace", "web_fetch", "write_file"],
  "git-only": [...READ_ONLY, "run_shell_command(git)"],
};

/** Printed (rc 41) when GOOGLE_GEMINI_BASE_URL makes gemini pick the rejected `gateway` auth. */
const GATEWAY_HINT = "with GOOGLE_GEMINI_BASE_URL set, gemini-cli selects the 'gateway' auth " +
  'type, which it then rejects; set {"security":{"auth":{"selectedType":"gemini-api-key"}}} in ' +
  "~/.gemini/settings.json (the base URL is still used).";

/**
 * Expands allowed_tools into gemini `--allowed-tools` entries: categories, claude-style names
 * (`Bash` → `run_shell_command`) and `Bash(git *)` → `run_shell_command(git)` (gemini matches
 * shell commands by prefix). Gemini names pass as they are.
 */
export function geminiToolEntries(allowed: string[]): string[] {
  const out = new Set<string>();
  for (const entry of allowed) {
    const expanded = CATEGORIES[entry];
    if (expanded) {
      expanded.forEach((e) => out.add(e));
      continue;
    }
    const m = entry.match(/^([A-Za-z][\w-]*)(?:\((.+)\))?$/);
    // src-scoped (writes limited to source folders) has no gemini equivalent
    if (!m || UNSUPPORTED_CATEGORIES.gemini!.includes(entry)) {
      throw new EngineBuildError(`gemini: unsupported allowed_tools entry '${entry}'`);
    }
    const name = TOOL_NAMES[m[1]!] ?? m[1]!;
    // `git *`, `git:*` and `git*` all mean "commands starting with git" in gemini's syntax.
    const pattern = m[2]?.replace(/\s*:?\*$/, "").trim();
    out.add(pattern ? `${name}(${pattern})` : name);
  }
  return [...out].sort();
}

function buildGemini(task: EngineTaskSpec, ctx: BuildContext): EngineInvocation {
  const warnings: string[] = [];
  const argv = ["gemini", "--output-format", "stream-json"];
  // Headless gemini refuses an untrusted folder (rc 55) and cannot ask; the plan author chose
  // the workdir. An explicit GEMINI_CLI_TRUST_WORKSPACE=false in maestro's env is honoured.
  if (ctx.parentEnv.GEMINI_CLI_TRUST_WORKSPACE !== "false") argv.push("--skip-trust");
  const model = task.model ? (GEMINI_MODELS[task.model] ?? task.model) : undefined;
  if (model) argv.push("--model", model);
  if (task.reasoning_effort) {
    warnings.push(
      `gemini has no reasoning-effort option; reasoning_effort '${task.reasoning_effort}' is ` +
        `not passed (gemini uses the model's built-in thinking settings)`,
    );
  }
  let prompt = ctx.prompt;
  const args = approvalProfileArgs(task.args, ctx.profile);
  const allowed = task.allowed_tools ?? [];
  if (allowed.length > 0) {
    const entries = geminiToolEntries(allowed);
    // One `--allowed-tools=X` per entry: with `--allowed-tools a b`, 0.61 takes only `a` and
    // reads `b` as a positional prompt ("Cannot use both a positional prompt and --prompt").
    for (const e of entries) argv.push(`--allowed-tools=${e}`);
    prompt = restrictionText(entries) + prompt;
    if (["yolo", "auto_edit"].includes(approvalMode(args))) {
      warnings.push(
        "gemini cannot exclude tools from the command line: with approval mode " +
          `'${approvalMode(args)}' allowed_tools is enforced by the prompt text only (profiles ` +
          "plan/safe withhold every shell/edit/write tool that is not listed)",
      );
    }
  }
  const toolless = toollessWarning("gemini", args, allowed);
  if (toolless) warnings.push(toolless);
  // `--prompt=` keeps a prompt starting with "-" from being read as an option.
  argv.push(
    ...removeFlag(args, ["--prompt", "-p"], true),
    `--prompt=${instructedPrompt({ ...ctx, prompt })}`,
  );
  const env = pickEnv(ctx.parentEnv, ["GEMINI_", "GOOGLE_"]);
  const result: EngineInvocation = { argv, env, warnings };
  if (model) result.model = model;
  return result;
}

/**
 * Cost of per-model tokens, each model at its own rate (gemini's router calls a cheap model
 * besides the main one). Unknown when a model with tokens has no price: a partial sum would
 * under-report spend.
 */
function priceModels(
  perModel: Map<string, TokenUsage>,
  env: ParseContext["env"],
): { cost_usd: number | null; cost_source: EngineResult["cost_source"]; unpriced: string[] } {
  let usd = 0;
  const unpriced: string[] = [];
  for (const [model, tokens] of perModel) {
    if (tokens.input + tokens.cached + tokens.output === 0) continue;
    const rates = ratesFor("gemini", model, env);
    if (rates) usd += priceTokens(tokens, rates);
    else unpriced.push(model);
  }
  if (unpriced.length > 0 || perModel.size === 0) {
    return { cost_usd: null, cost_source: "unknown", unpriced };
  }
  return { cost_usd: Math.round(usd * 1e8) / 1e8, cost_source: "priced", unpriced };
}

function classifyGemini(f: FailureEvidence) {
  return classifyFamily(f, true);
}

function geminiParser(ctx: ParseContext = {}): LineParser {
  const out = emptyResult();
  let result: Record<string, unknown> | null = null;
  let initModel: string | undefined;
  // Assistant text since the last tool use: the final answer, not the narration before tools.
  let segment = "";
  let lastSegment = "";
  let inTurn = false;
  let garbage = 0;
  const toolNames = new Map<string, string>();
  return {
    toolCallsSoFar: () => out.tool_calls,
    push(line) {
      const ev = jsonObject(line);
      if (!ev) {
        if (line.trim()) garbage++;
        return;
      }
      switch (ev.type) {
        case "init":
          out.session_id = str(ev.session_id) ?? out.session_id;
          initModel = str(ev.model);
          break;
        case "message":
          if (ev.role !== "assistant") break;
          if (!inTurn) {
            out.num_turns++;
            inTurn = true;
          }
          segment += str(ev.content) ?? "";
          break;
        case "tool_use": {
          if (!inTurn) {
            out.num_turns++;
            inTurn = true;
          }
          if (segment) lastSegment = segment;
          segment = "";
          const name = str(ev.tool_name) ?? "?";
          toolNames.set(str(ev.tool_id) ?? "", name);
          out.tool_calls.push({ name, input: isRecord(ev.parameters) ? ev.parameters : {} });
          break;
        }
        case "tool_result":
          inTurn = false;
          if (ev.status === "error") {
            const error = isRecord(ev.error) ? str(ev.error.message) : undefined;
            out.warnings.push(
              `tool ${toolNames.get(str(ev.tool_id) ?? "") ?? "?"} failed: ` +
                (error ?? str(ev.output) ?? "error"),
            );
          }
          break;
        case "error":
          out.warnings.push(`${str(ev.severity) ?? "error"}: ${str(ev.message) ?? ""}`.trim());
          break;
        case "result":
          result = ev;
          break;
      }
    },
    finish(exit: ExitInfo): EngineResult {
      if (garbage > 0) out.warnings.push(`${garbage} stdout line(s) were not JSON events`);
      out.text = segment || lastSegment;
      const stats = result && isRecord(result.stats) ? result.stats : null;
      const perModel = new Map<string, TokenUsage>();
      if (stats && isRecord(stats.models) && Object.keys(stats.models).length > 0) {
        for (const [model, usage] of Object.entries(stats.models)) {
          if (isRecord(usage)) perModel.set(model, familyTokens(usage));
        }
      } else if (stats) {
        const model = ctx.model ?? initModel;
        if (model) perModel.set(model, familyTokens(stats));
      }
      for (const tokens of perModel.values()) addTokens(out.tokens, tokens);
      const cost = priceModels(perModel, ctx.env);
      out.cost_usd = cost.cost_usd;
      out.cost_source = cost.cost_source;
      if (cost.unpriced.length > 0) {
        out.warnings.push(
          `no gemini price for ${cost.unpriced.join(", ")}: cost unknown (add it with ` +
            `MAESTRO_GEMINI_PRICING_JSON)`,
        );
      }
      const stderr = stderrEvidence(exit.stderrTail);
      const failed = result?.status === "error";
      out.is_error = result === null || failed || exit.exitCode !== 0 || exit.timedOut === true ||
        exit.notFound === true;
      if (!out.is_error) return out;
      let message = failed && isRecord(result!.error) ? str(result!.error.message) ?? "" : "";
      let reason: string | undefined;
      if (failed && isRecord(result!.error) && result!.error.type === "FatalTurnLimitedError") {
        reason = "max_turns";
      }
      if (!message) {
        message = stderr ||
          `gemini exited with code ${exit.exitCode} without a result event`;
      }
      if (exit.notFound) message = "gemini not found on PATH: npm i -g @google/gemini-cli";
      else if (exit.timedOut) message = `gemini timed out. ${message}`;
      const evidence: FailureEvidence = { exit, message };
      if (reason) evidence.reason = reason;
      const category = classifyGemini(evidence);
      if (exit.exitCode === 41 && /invalid auth method/i.test(message)) {
        message = `${message}\nHint: ${GATEWAY_HINT}`;
      }
      out.failure = { category, message };
      return out;
    },
  };
}

/** The gemini adapter. */
export const gemini: Engine = {
  name: "gemini",
  binary: "gemini",
  build: buildGemini,
  parser: geminiParser,
  parse: (lines, exit, ctx) => parseRecorded(geminiParser, lines, exit, ctx),
  classify: classifyGemini,
};

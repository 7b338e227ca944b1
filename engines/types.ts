/**
 * The engine contract (DESIGN §3): an adapter turns one engine task into an argv/env for a
 * coding-agent CLI and turns that CLI's stdout back into an {@linkcode EngineResult}. Adapters
 * are pure: they never spawn, read files or look at the process environment, so argv building
 * and parsing are unit-testable on recorded output. The runtime (lib/run) spawns `argv`.
 *
 * @module
 */

/** Why an engine attempt failed, in the runtime's vocabulary (drives retry and fallback). */
export type FailureCategory =
  | "auth"
  | "rate_limit"
  | "quota"
  | "timeout"
  | "model_unavailable"
  | "context_exceeded"
  | "tool_denied"
  | "max_turns"
  | "cli_missing"
  | "unknown";

/** Every {@linkcode FailureCategory}, for validation and exhaustive tests. */
export const FAILURE_CATEGORIES: readonly FailureCategory[] = [
  "auth",
  "rate_limit",
  "quota",
  "timeout",
  "model_unavailable",
  "context_exceeded",
  "tool_denied",
  "max_turns",
  "cli_missing",
  "unknown",
];

/**
 * Token counts of one attempt. `input` excludes cache reads (OpenAI counts them inside
 * input_tokens, Anthropic does not; adapters normalise), so pricing is
 * `input·rate_in + cached·rate_cached + output·rate_out`.
 */
export interface TokenUsage {
  /** Uncached input tokens (Anthropic cache writes are counted here). */
  input: number;
  /** Input tokens served from the provider's prompt cache. */
  cached: number;
  /** Output tokens, reasoning included. */
  output: number;
}

/** One tool call the agent made, as reported by the CLI. */
export interface ToolCall {
  /** Tool name in the CLI's own vocabulary (`Bash`, `command_execution`, ...). */
  name: string;
  /** The tool's arguments as the CLI reported them. */
  input: Record<string, unknown>;
}

/** A classified failure with a message meant for the user. */
export interface EngineFailure {
  /** What kind of failure it is. */
  category: FailureCategory;
  /** What happened, plus a hint on how to fix it when one is known. */
  message: string;
}

/** Where `cost_usd` came from. */
export type CostSource = "reported" | "priced" | "unknown";

/** What one engine attempt produced, parsed from the CLI's structured output. */
export interface EngineResult {
  /** The agent's final answer. */
  text: string;
  /** Tokens used by the attempt. */
  tokens: TokenUsage;
  /** Cost in USD, or null when unknown. */
  cost_usd: number | null;
  /** `reported` by the CLI, `priced` from our table, or `unknown`. */
  cost_source: CostSource;
  /** The CLI's session/thread id, when it printed one. */
  session_id: string | null;
  /** Tool calls in the order the agent made them. */
  tool_calls: ToolCall[];
  /** Model turns, when the CLI reports them (else the count of model replies seen). */
  num_turns: number;
  /** True when the attempt failed (exit code and/or the CLI's own error flag). */
  is_error: boolean;
  /** Set when `is_error` is true. */
  failure?: EngineFailure;
  /** Non-fatal notes: retries, unknown models, unparseable lines. */
  warnings: string[];
}

/** Execution profile (seed-behaviour §3): how much the agent may do without asking. */
export type ExecutionProfile = "plan" | "safe" | "yolo";

/**
 * The engine-relevant part of a task, validated (see `taskSpec` in registry.ts, which reads
 * it from a TaskIR whose extra fields are `unknown`).
 */
export interface EngineTaskSpec {
  /** Task id (used in messages only). */
  id: string;
  /** Model alias or id. */
  model?: string;
  /** Reasoning effort (`low`, `medium`, `high`, ...). */
  reasoning_effort?: string;
  /** Extra CLI args, engine defaults first. */
  args: string[];
  /** Tool names, `Tool(glob)` specifiers or categories (`read-only`, `no-shell`, `git-only`). */
  allowed_tools?: string[];
  /** Named sub-agent (claude `--agent`). */
  agent?: string;
}

/** Everything besides the task that `build` needs; the runtime computes it. */
export interface BuildContext {
  /** The prompt, already rendered (templates, context, goal prefix). */
  prompt: string;
  /** System prompt text (edit policy + append_system_prompt + firewall), may be empty. */
  systemPrompt: string;
  /** Retry feedback for attempts after the first (see feedback.ts), may be empty. */
  retryFeedback: string;
  /** Execution profile. */
  profile: ExecutionProfile;
  /** Absolute working directory of the task. */
  workdir: string;
  /**
   * The parent (maestro's) environment. Adapters copy only their own provider variables from
   * it (ANTHROPIC_* for claude, OPENAI_* for codex, ...); other engines' keys never leak.
   */
  parentEnv: Readonly<Record<string, string>>;
  /** Effective uid of the process that will spawn the CLI (claude refuses yolo as root). */
  uid?: number;
  /**
   * A private, empty folder the runtime creates for this attempt and deletes after it. An
   * adapter may name files in it for the CLI to write (copilot's `--usage-output-file`, the
   * only place copilot reports tokens) and declare them as {@linkcode EngineInvocation.usageFile}.
   * Absent in dry runs and unit tests: adapters then do without such files.
   */
  scratchDir?: string;
}

/** What to spawn. */
export interface EngineInvocation {
  /** argv[0] is the binary name; resolve it on PATH. */
  argv: string[];
  /**
   * Variables to set on top of the runtime's child env (allowlist + defaults.env + task.env).
   * Provider variables from the parent env and engine knobs (e.g. CLAUDE_CODE_EFFORT_LEVEL).
   */
  env: Record<string, string>;
  /** Text to write to stdin; when absent stdin must be /dev/null (codex reads a piped stdin). */
  stdin?: string;
  /** Model id actually requested (after aliasing), for pricing. */
  model?: string;
  /**
   * A file the CLI writes its usage to, inside {@linkcode BuildContext.scratchDir}. Adapters
   * never read files: after the process exits the runtime reads it into
   * {@linkcode ExitInfo.usageFileText} for the parser, then deletes it with the scratch folder.
   */
  usageFile?: string;
  /** Problems found while building that will likely make the run fail, with a fix. */
  warnings: string[];
}

/** How the process ended, given to the parser at the end of the stream. */
export interface ExitInfo {
  /** Exit code (124 for a maestro timeout, 127 when the binary is missing). */
  exitCode: number;
  /** Maestro killed it for exceeding timeout_sec. */
  timedOut?: boolean;
  /** The binary could not be spawned (ENOENT). */
  notFound?: boolean;
  /** Last lines of stderr (some CLIs print their errors there). */
  stderrTail?: string[];
  /** Text of {@linkcode EngineInvocation.usageFile} after exit; absent when none was written. */
  usageFileText?: string;
}

/** Options for parsing: pricing needs the model and the pricing override env. */
export interface ParseContext {
  /** Model id requested (from {@linkcode EngineInvocation.model}). */
  model?: string;
  /** Environment holding MAESTRO_<ENGINE>_PRICING_JSON overrides. */
  env?: Readonly<Record<string, string>>;
}

/** What a failure looked like, for {@linkcode Engine.classify}. */
export interface FailureEvidence {
  /** How the process ended. */
  exit: ExitInfo;
  /** The error text the CLI printed (result text, error events, stderr). */
  message: string;
  /** HTTP status of the provider error, when the CLI reported it. */
  httpStatus?: number;
  /** CLI-specific reason (claude `subtype`/`terminal_reason`, ...). */
  reason?: string;
}

/** Incremental parser: feed stdout lines as they arrive, then finish with the exit info. */
export interface LineParser {
  /** One stdout line (without newline). Garbage is tolerated and reported as a warning. */
  push(line: string): void;
  /** The result, once the process has exited. */
  finish(exit: ExitInfo): EngineResult;
  /**
   * Tool calls parsed so far, in order, for live `tool_call` events while the CLI runs; the
   * same calls start `finish()`'s `tool_calls`. Parsers that only know them at the end omit it.
   */
  toolCallsSoFar?(): readonly ToolCall[];
}

/** An engine adapter. */
export interface Engine {
  /** Engine name as written in plans. */
  readonly name: string;
  /** Executable name looked up on PATH. */
  readonly binary: string;
  /** Other executable names tried, in order, when `binary` is not on PATH (qwen: `qwen-code`). */
  readonly altBinaries?: readonly string[];
  /** argv/env for one attempt. Throws {@linkcode EngineBuildError} on invalid task input. */
  build(task: EngineTaskSpec, ctx: BuildContext): EngineInvocation;
  /** A fresh incremental parser for one attempt's stdout. */
  parser(ctx?: ParseContext): LineParser;
  /** Parses a whole recorded stdout (convenience over {@linkcode Engine.parser}). */
  parse(lines: Iterable<string>, exit: ExitInfo, ctx?: ParseContext): EngineResult;
  /** Failure category for the evidence of a failed attempt. */
  classify(failure: FailureEvidence): FailureCategory;
}

/** Invalid task input for an engine (bad allowed_tools entry, ...). */
export class EngineBuildError extends Error {
  override name = "EngineBuildError";
}

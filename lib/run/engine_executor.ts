/**
 * One attempt of an engine task: the adapter (engines/) builds argv/env, the process
 * supervisor runs it like any shell step (own process group, timeout, cancellation, output
 * streamed into the task's log), stdout lines go to the adapter's incremental parser, and the
 * parsed {@linkcode EngineResult} comes back with the process outcome. A binary missing from
 * the child's PATH is not spawned: the attempt fails as `cli_missing` with the install command.
 *
 * @module
 */
import { pathExists } from "../fs.ts";
import { isAbsolute, join } from "../path.ts";
import { engineFor, taskSpec } from "../../engines/registry.ts";
import { AGENT_ENGINES } from "../../engines/capabilities.ts";
import { isBuiltinEngine } from "../plan/names.ts";
import type {
  BuildContext,
  Engine,
  EngineInvocation,
  EngineResult,
  ExecutionProfile,
  ExitInfo,
  ParseContext,
  TokenUsage,
  ToolCall,
} from "../../engines/types.ts";
import type { TaskIR } from "../plan/ir.ts";
import { shellQuote } from "./env.ts";
import { withoutNul } from "./attempt_helpers.ts";
import type { LogFile } from "./log_file.ts";
import { type ProcessOutcome, RingBuffer, runProcess } from "./process.ts";
import { resolvePrompt, systemPromptOf } from "./engine_prompt.ts";
import { EngineRoute } from "./engine_route.ts";

/** Finds the adapter for an engine name (undefined: no adapter, the task fails with E102). */
export type EngineRegistry = (name: string) => Engine | undefined;

/** The built-in adapters of engines/registry.ts. */
export const builtinEngines: EngineRegistry = engineFor;

/** Execution profiles (seed-behaviour §3). */
export const EXECUTION_PROFILES: readonly ExecutionProfile[] = ["plan", "safe", "yolo"];

/** How to install each engine's CLI, for `cli_missing` messages. */
export const INSTALL_COMMANDS: Readonly<Record<string, string>> = {
  claude: "npm install -g @anthropic-ai/claude-code",
  codex: "npm install -g @openai/codex",
  gemini: "npm install -g @google/gemini-cli",
  qwen: "npm install -g @qwen-code/qwen-code",
  copilot: "npm install -g @github/copilot",
  ollama: "curl -fsSL https://ollama.com/install.sh | sh",
  llama: "brew install llama.cpp",
};

/** One engine attempt to run. */
export interface EngineAttemptSpec {
  engine: Engine;
  task: TaskIR;
  /** The rendered prompt (goal prefix included). */
  prompt: string;
  systemPrompt: string;
  retryFeedback: string;
  profile: ExecutionProfile;
  /** The child env from the runtime (allowlist + task env + MAESTRO_*). */
  env: Record<string, string>;
  /** Maestro's own environment: adapters copy their provider variables from it. */
  parentEnv: Readonly<Record<string, string>>;
  log: LogFile;
  signal: AbortSignal;
  graceMs?: number;
  onStart: (pid: number) => void;
  /** Output batches (for task_output events). */
  onLines?: (stream: "stdout" | "stderr", lines: string[]) => void;
  /** Called with each tool call as soon as the CLI reports it (adapters with live parsing). */
  onToolCall?: (call: ToolCall) => void;
}

/** How an engine attempt ended: the process outcome plus the parsed result. */
export interface EngineAttempt extends ProcessOutcome {
  result: EngineResult;
  /** How many of `result.tool_calls` were already reported live through `onToolCall`. */
  liveToolCalls: number;
}

/** Thrown by build (invalid task input): the attempt cannot start. */
export class EngineSetupError extends Error {
  override name = "EngineSetupError";
}

/** Where `binary` is on the PATH of `env` (relative entries against `cwd`), or undefined. */
export function findBinary(binary: string, env: Record<string, string>, cwd: string) {
  const isExe = (p: string) => {
    try {
      const info = Deno.statSync(p);
      return info.isFile && ((info.mode ?? 0) & 0o111) !== 0;
    } catch {
      return false;
    }
  };
  if (binary.includes("/")) {
    const path = isAbsolute(binary) ? binary : join(cwd, binary);
    return pathExists(path) && isExe(path) ? path : undefined;
  }
  for (const dir of (env.PATH ?? "").split(":")) {
    const path = join(dir === "" ? cwd : isAbsolute(dir) ? dir : join(cwd, dir), binary);
    if (isExe(path)) return path;
  }
  return undefined;
}

/** The argv as one display line, with the prompt (the last word) shortened. */
export function shownArgv(argv: readonly string[]): string {
  const words = argv.map((w, i) =>
    i === argv.length - 1 && w.length > 200 ? `${w.slice(0, 200)}…` : w
  );
  return words.map(shellQuote).join(" ");
}

/**
 * What building an invocation needs (no process, log or signal: a dry run uses it too), plus
 * the attempt's scratch folder when there is one (see `BuildContext.scratchDir`).
 */
export type InvocationSpec =
  & Pick<
    EngineAttemptSpec,
    | "engine"
    | "task"
    | "prompt"
    | "systemPrompt"
    | "retryFeedback"
    | "profile"
    | "env"
    | "parentEnv"
  >
  & { scratchDir?: string };

/** Builds the invocation; throws {@linkcode EngineSetupError} on invalid task input. */
export function buildInvocation(spec: InvocationSpec): EngineInvocation {
  try {
    const ctx: BuildContext = {
      prompt: spec.prompt,
      systemPrompt: spec.systemPrompt,
      retryFeedback: spec.retryFeedback,
      profile: spec.profile,
      workdir: spec.task.workdir,
      // the task's env wins over maestro's for provider variables too
      parentEnv: { ...spec.parentEnv, ...spec.env },
      uid: Deno.uid() ?? undefined,
    };
    if (spec.scratchDir) ctx.scratchDir = spec.scratchDir;
    return spec.engine.build(taskSpec(spec.task), ctx);
  } catch (error) {
    throw new EngineSetupError(error instanceof Error ? error.message : String(error));
  }
}

/** Runs one engine attempt. Never throws for engine failures (only EngineSetupError). */
export async function runEngineAttempt(spec: EngineAttemptSpec): Promise<EngineAttempt> {
  // A private folder for files the CLI writes (copilot's usage file), removed afterwards
  // whatever happens, so attempts never see each other's files.
  const scratchDir = await Deno.makeTempDir({ prefix: "maestro-engine-" });
  try {
    return await attemptIn(spec, scratchDir);
  } finally {
    await Deno.remove(scratchDir, { recursive: true }).catch(() => {});
  }
}

/** The text of the invocation's usage file, or undefined when the CLI wrote none. */
async function readUsageFile(inv: EngineInvocation): Promise<string | undefined> {
  if (!inv.usageFile) return undefined;
  try {
    return await Deno.readTextFile(inv.usageFile);
  } catch {
    return undefined; // killed, crashed or failed before writing it: tokens stay unknown
  }
}

async function attemptIn(spec: EngineAttemptSpec, scratchDir: string): Promise<EngineAttempt> {
  const { engine, task, log } = spec;
  const inv = buildInvocation({ ...spec, scratchDir });
  // a prompt rendered from binary upstream output can hold NUL, which no argv word can
  inv.argv = inv.argv.map(withoutNul);
  const env = { ...spec.env, ...inv.env };
  const parseCtx: ParseContext = { env: { ...spec.parentEnv, ...spec.env } };
  if (inv.model) parseCtx.model = inv.model;
  const parser = engine.parser(parseCtx);
  // A CLI also known under another name (qwen's `qwen-code`) runs under that one when argv[0]
  // is not on PATH.
  const alt = findBinary(inv.argv[0]!, env, task.workdir)
    ? undefined
    : engine.altBinaries?.find((name) => findBinary(name, env, task.workdir));
  if (alt) inv.argv[0] = alt;
  // masked before shownArgv shortens the prompt: a cut secret would not be masked by the log
  log.line(`[engine] ${shownArgv(inv.argv.map((word) => log.masked(word)))}`);
  for (const warning of inv.warnings) log.line(`[engine] warning: ${warning}`);
  // validation warns too (W38); this line also covers a fallback to such an engine
  if (task.agent && isBuiltinEngine(engine.name) && !AGENT_ENGINES.includes(engine.name)) {
    log.line(
      `[engine] warning: ${engine.name} has no --agent option; agent '${task.agent}' ignored`,
    );
  }
  if (inv.stdin !== undefined) log.line("[engine] warning: stdin input is not supported; ignored");

  if (!findBinary(inv.argv[0]!, env, task.workdir)) {
    const install = INSTALL_COMMANDS[engine.name];
    const exit: ExitInfo = { exitCode: 127, notFound: true };
    const result = parser.finish(exit);
    const message = `${engine.name} CLI '${inv.argv[0]}' not found on PATH` +
      (install ? `: install it with \`${install}\`` : "");
    result.is_error = true;
    result.failure = { category: "cli_missing", message };
    log.line(`[engine] ${message}`);
    return {
      exitCode: 127,
      timedOut: false,
      cancelled: false,
      stdoutTail: [],
      outputTail: [],
      durationSec: 0,
      pid: 0,
      result,
      liveToolCalls: 0,
    };
  }

  const stderr = new RingBuffer<string>(20);
  let liveToolCalls = 0;
  const outcome = await runProcess({
    argv: inv.argv,
    cwd: task.workdir,
    env,
    timeoutSec: task.timeout_sec,
    log,
    tailLines: task.stdout_tail_lines,
    signal: spec.signal,
    graceMs: spec.graceMs,
    onStart: spec.onStart,
    onLines: (stream, lines) => {
      if (stream === "stdout") {
        for (const line of lines) parser.push(line);
        const seen = spec.onToolCall ? parser.toolCallsSoFar?.() : undefined;
        while (seen && liveToolCalls < seen.length) spec.onToolCall!(seen[liveToolCalls++]!);
      } else for (const line of lines.slice(-stderr.size)) stderr.push(line);
      spec.onLines?.(stream, lines);
    },
  });
  const exit: ExitInfo = { exitCode: outcome.exitCode, stderrTail: stderr.toArray() };
  const usageFileText = await readUsageFile(inv);
  if (usageFileText !== undefined) exit.usageFileText = usageFileText;
  if (outcome.timedOut) exit.timedOut = true;
  if (outcome.spawnError) exit.notFound = true;
  const result = parser.finish(exit);
  for (const warning of result.warnings) log.line(`[engine] warning: ${warning}`);
  log.line(
    `[engine] is_error=${result.is_error} cost_usd=${result.cost_usd} (${result.cost_source}) ` +
      `tokens=${result.tokens.input}/${result.tokens.cached}/${result.tokens.output} ` +
      `tool_calls=${result.tool_calls.length}` +
      (result.failure ? ` failure=${result.failure.category}` : ""),
  );
  return { ...outcome, result, liveToolCalls };
}

/** Cost, tokens and tool calls added up over a task's attempts. */
export class EngineTotals {
  cost: number | null = null;
  costSource: string = "unknown";
  tokens: TokenUsage = { input: 0, cached: 0, output: 0 };
  toolCalls = 0;
  sessionId: string | null = null;

  /** Adds one attempt. */
  add(result: EngineResult): void {
    if (result.cost_usd !== null) {
      this.cost = Math.round(((this.cost ?? 0) + result.cost_usd) * 1e9) / 1e9;
      this.costSource = result.cost_source;
    }
    this.tokens.input += result.tokens.input;
    this.tokens.cached += result.tokens.cached;
    this.tokens.output += result.tokens.output;
    this.toolCalls += result.tool_calls.length;
    this.sessionId = result.session_id ?? this.sessionId;
  }

  /** `token_usage` of the result: `{input, cached, output, total}`. */
  tokenUsage(): Record<string, number> {
    const t = this.tokens;
    return {
      input: t.input,
      cached: t.cached,
      output: t.output,
      total: t.input + t.cached + t.output,
    };
  }
}

/**
 * A tool call input for an event: large inputs (file contents) are cut to a preview, masked
 * before the cut (a cut through a secret would leave a part the event's masking cannot match).
 */
export function eventInput(
  input: Record<string, unknown>,
  mask: (text: string) => string = (text) => text,
): Record<string, unknown> {
  const json = JSON.stringify(input);
  return json.length <= 4000 ? input : { truncated: true, preview: mask(json).slice(0, 4000) };
}

/** What {@linkcode dryRunInvocation} needs besides the task. */
export interface DryRunContext {
  /** Engine adapters by name. */
  engines: EngineRegistry;
  /** The task's template renderer. */
  render: (text: string) => string;
  /** The plan's goal. */
  goal: string;
  /** Execution profile of engine tasks. */
  profile: ExecutionProfile;
  /** The child env from the runtime. */
  env: Record<string, string>;
  /** Maestro's own environment. */
  parentEnv: Readonly<Record<string, string>>;
}

/**
 * What an engine task would run, for `--dry-run`: the adapter's argv (shown and exact) and the
 * env keys, or, in angle brackets, why it cannot be built.
 */
export function dryRunInvocation(
  task: TaskIR,
  ctx: DryRunContext,
): { command: string; argv: string[]; env: Record<string, string> } {
  const engine = task.engine ? ctx.engines(task.engine) : undefined;
  if (!engine) return { command: `<${task.kind} ${task.engine ?? ""}>`, argv: [], env: ctx.env };
  const prompt = resolvePrompt(task, ctx.render, ctx.goal);
  if ("error" in prompt) return { command: `<${prompt.error}>`, argv: [], env: ctx.env };
  try {
    const inv = buildInvocation({
      engine,
      // the first attempt's model (an escalation ladder may set it)
      task: new EngineRoute(task).attemptTask(),
      prompt: prompt.prompt,
      systemPrompt: systemPromptOf(task),
      retryFeedback: "",
      profile: ctx.profile,
      env: ctx.env,
      parentEnv: ctx.parentEnv,
    });
    return { command: shownArgv(inv.argv), argv: inv.argv, env: { ...ctx.env, ...inv.env } };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { command: `<${reason}>`, argv: [], env: ctx.env };
  }
}

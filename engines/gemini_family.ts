/**
 * What the gemini and qwen adapters share. Qwen Code is a fork of Gemini CLI and kept its
 * approval modes (headless `default` mode withholds the shell/edit/write tools), its
 * `[API Error: …]` messages with their rate-limit hints, its fatal exit codes (41 auth, 53 turn
 * limit) and its token bookkeeping (prompt tokens include cache reads; thinking tokens are only in
 * the total). Both CLIs report no cost.
 *
 * @module
 */
import { classifyCommon, count, removeFlag, statusIn } from "./common.ts";
import type { ExecutionProfile, FailureCategory, FailureEvidence, TokenUsage } from "./types.ts";

/** Approval modes that give the agent its shell/edit/write tools without asking. */
const TOOLFUL_MODES = ["yolo", "auto_edit", "auto-edit"];

/**
 * Applies an execution profile (seed-behaviour §3) to user args. Both CLIs take
 * `--approval-mode default|…|yolo` (`--yolo`/`-y` is the same as `--approval-mode yolo`), so both
 * profiles normalise to it: safe = drop yolo and any approval mode, append `--approval-mode
 * default`; yolo = drop any approval mode, append `--approval-mode yolo`; plan = untouched.
 * Deviation: the reference's gemini safe profile appends `--sandbox`, which needs Docker or
 * Podman and a sandbox image pulled from the network (0.61.0 here: "Sandbox image … is missing
 * or could not be pulled", rc 1); a user who has them can still pass `--sandbox` in args.
 */
export function approvalProfileArgs(args: string[], profile: ExecutionProfile): string[] {
  if (profile === "plan") return [...args];
  const out = removeFlag(removeFlag(args, ["--approval-mode"], true), ["--yolo", "-y"], false);
  return [...out, "--approval-mode", profile === "safe" ? "default" : "yolo"];
}

/** The approval mode args select (the last one wins, as in yargs), `default` when none. */
export function approvalMode(args: string[]): string {
  let mode = "default";
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--yolo" || arg === "-y") mode = "yolo";
    else if (arg === "--approval-mode" && args[i + 1] !== undefined) mode = args[++i]!;
    else if (arg.startsWith("--approval-mode=")) mode = arg.slice("--approval-mode=".length);
  }
  return mode;
}

/**
 * The warning for a run that will silently lack shell/edit/write tools: in headless mode both
 * CLIs drop the tools that would need an approval prompt, unless they are pre-approved.
 */
export function toollessWarning(
  engine: string,
  args: string[],
  allowed: string[] | undefined,
): string | null {
  const mode = approvalMode(args);
  if (TOOLFUL_MODES.includes(mode) || (allowed && allowed.length > 0)) return null;
  return `${engine} runs headless in approval mode '${mode}', which withholds its shell, edit ` +
    `and write tools: the agent can only read. Use --execution-profile yolo, or pre-approve ` +
    `the tools it needs with allowed_tools (e.g. [Bash, Write, Edit]).`;
}

/** The reference's prompt prefix for engines that cannot enforce allowed_tools themselves. */
export function restrictionText(entries: string[]): string {
  return `IMPORTANT: You are restricted to using ONLY these tools: ${entries.join(", ")}. ` +
    `Do not use any other tools.\n\n`;
}

/**
 * Our tokens from this family's usage numbers: `input_tokens` (prompt, cache reads included),
 * `cached`/`cache_read_input_tokens`, `output_tokens` (candidates) and `total_tokens`. Thinking
 * tokens appear only in the total (`total = prompt + candidates + thoughts`), and they are billed
 * as output, so the remainder of the total is added to output.
 */
export function familyTokens(usage: {
  input_tokens?: unknown;
  output_tokens?: unknown;
  cached?: unknown;
  total_tokens?: unknown;
}): TokenUsage {
  const prompt = count(usage.input_tokens);
  const cached = Math.min(prompt, count(usage.cached));
  const output = count(usage.output_tokens);
  const thoughts = Math.max(0, count(usage.total_tokens) - prompt - output);
  return { input: prompt - cached, cached, output: output + thoughts };
}

/** Adds `b` to `a`. */
export function addTokens(a: TokenUsage, b: TokenUsage): void {
  a.input += b.input;
  a.cached += b.cached;
  a.output += b.output;
}

/** Removes ANSI colour codes (gemini colours some of its stderr messages). */
export function stripAnsi(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/\x1b\[[0-9;]*m/g, "");
}

/** Noise both CLIs print on stderr on every run, and stack frames: not failure evidence. */
const STDERR_NOISE =
  /^(Warning: 256-color support|Ripgrep is not available|YOLO mode is enabled|Warning: --allowed-tools)|^\s+at |^\s*[{}]\s*$/;

/** The meaningful stderr lines, colour codes removed. */
export function stderrEvidence(tail: string[] | undefined): string {
  return (tail ?? []).map(stripAnsi).filter((l) => l.trim() !== "" && !STDERR_NOISE.test(l))
    .join("\n").trim();
}

/**
 * The hints both CLIs append to every 429 message. They mention "quota" even for a plain rate
 * limit, so they are removed before the message is classified (else every 429 looks like quota).
 */
const RATE_LIMIT_HINTS = [
  /\n?Please wait and try again later\. To increase your limits, request a quota increase[^\n]*/g,
  /\n?Possible quota limitations in place or slow response times detected\.[^\n]*/g,
];

/** Google RPC status names as they appear in error bodies, with their HTTP status. */
const RPC_STATUS: Record<string, number> = {
  INVALID_ARGUMENT: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  RESOURCE_EXHAUSTED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
  DEADLINE_EXCEEDED: 504,
};

/**
 * The provider's HTTP status from the evidence: an embedded error body (`"code":401`), a Google
 * RPC status name, `[API Error: 401 …]`, a rate-limit hint (only printed for 429s), `status: 404`
 * in the stderr dump, and, when `exitIsStatus` (gemini exits with the status mod 256, so
 * 401 → 145, 429 → 173, 500 → 244), the exit code.
 */
export function apiStatus(f: FailureEvidence, exitIsStatus: boolean): number | undefined {
  if (f.httpStatus !== undefined) return f.httpStatus;
  const msg = f.message;
  const code = msg.match(/"code"\s*:\s*([45]\d\d)\b/);
  if (code) return Number(code[1]);
  const rpc = msg.match(new RegExp(`\\b(${Object.keys(RPC_STATUS).join("|")})\\b`));
  if (rpc) return RPC_STATUS[rpc[1]!];
  const inText = statusIn(msg);
  if (inText !== undefined) return inText;
  if (RATE_LIMIT_HINTS.some((re) => new RegExp(re.source).test(msg))) return 429;
  const dumped = (f.exit.stderrTail ?? []).join("\n").match(/\b(?:status|code): ([45]\d\d)\b/);
  if (dumped) return Number(dumped[1]);
  const rc = f.exit.exitCode;
  if (exitIsStatus && rc >= 144 && rc <= 255) return rc + 256;
  return undefined;
}

/**
 * Classification for both CLIs: their fatal exit codes and messages first, then the common
 * rules on the message without the rate-limit hints and with the derived HTTP status.
 */
export function classifyFamily(f: FailureEvidence, exitIsStatus: boolean): FailureCategory {
  if (f.exit.timedOut || f.exit.exitCode === 124) return "timeout";
  if (f.exit.notFound || f.exit.exitCode === 127) return "cli_missing";
  const msg = f.message.toLowerCase();
  if (
    f.reason === "max_turns" || f.exit.exitCode === 53 ||
    /max(imum)? session turns|error_max_turns/.test(msg)
  ) {
    return "max_turns";
  }
  if (
    f.exit.exitCode === 41 ||
    /invalid auth method|no auth type is selected|must specify the gemini_api_key/.test(msg)
  ) {
    return "auth";
  }
  let cleaned = f.message;
  for (const re of RATE_LIMIT_HINTS) cleaned = cleaned.replace(re, "");
  if (/input token count.*exceeds|exceeds the maximum number of tokens/i.test(cleaned)) {
    return "context_exceeded";
  }
  if (/models\/\S+ is not found|is not found for api version/i.test(cleaned)) {
    return "model_unavailable";
  }
  const status = apiStatus(f, exitIsStatus);
  const evidence: FailureEvidence = { ...f, message: cleaned };
  if (status !== undefined) evidence.httpStatus = status;
  return classifyCommon(evidence);
}

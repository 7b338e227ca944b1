/**
 * Terminal views of a run, built only from events: `text` (one plain line per state change,
 * suitable for logs and pipes) and `jsonl` (every event as one JSON line: the hash-chained lines
 * exactly as written to events.jsonl, plus the unlogged `task_output` / `dry_run_task` events
 * without chain fields). The `live` view is lib/term/live.ts; it reuses {@linkcode textLine}.
 *
 * @module
 */
import type { EventRecord, EventSubscriber, RunEvent } from "./events.ts";
import { localMinute } from "../cost/period.ts";
import { writeAllSync } from "../fs.ts";

/** Where a reporter writes lines. */
export type LineSink = (line: string) => void;

/**
 * Writes text to stdout synchronously (keeps ordering with stderr and exits). A closed pipe or
 * terminal stops the output, not the run. Also the live view's writer (lib/term/live.ts).
 */
export function syncStdoutWriter(): (text: string) => void {
  const encoder = new TextEncoder();
  let broken = false;
  return (text: string) => {
    if (broken) return;
    try {
      writeAllSync(Deno.stdout, encoder.encode(text));
    } catch {
      broken = true;
    }
  };
}

/** Writes one line to stdout synchronously. */
function terminalSink(): LineSink {
  const write = syncStdoutWriter();
  return (line: string) => write(line + "\n");
}

/** What {@linkcode queuedSink} needs. */
export interface QueuedSinkOptions {
  /** Writes some bytes, resolving to how many were written. @default Deno.stdout.write */
  write?: (bytes: Uint8Array) => Promise<number>;
  /** Bytes that may wait for a slow reader before lines are dropped. @default 8 MiB */
  maxQueuedBytes?: number;
  /** The line that says how many lines were dropped, written once the reader catches up. */
  droppedNote: (lines: number) => string;
}

/**
 * Lines written in order without blocking the run: a reader that stops reading (`| less`, a
 * stuck log shipper) must not hold back timeouts and Ctrl-C, as a blocking write would (Deno's
 * async write waits on another thread). Up to `maxQueuedBytes` wait in memory; past that,
 * lines are dropped and counted, and `droppedNote` says how many when the reader catches up
 * (events.jsonl has every event). A closed pipe (`| head`) stops the output, not the run.
 * Pending lines keep the process alive until written, so none is lost at the end.
 */
export function queuedSink(options: QueuedSinkOptions): LineSink {
  const write = options.write ?? ((bytes: Uint8Array) => Deno.stdout.write(bytes));
  const max = options.maxQueuedBytes ?? 8 * 1024 * 1024;
  const encoder = new TextEncoder();
  let queued = 0;
  let dropped = 0;
  let broken = false;
  let chain: Promise<void> = Promise.resolve();
  const guarded = async (bytes: Uint8Array) => {
    if (broken) return;
    try {
      let written = 0;
      while (written < bytes.length) written += await write(bytes.subarray(written));
    } catch {
      broken = true;
    }
  };
  return (line: string) => {
    if (broken) return;
    const bytes = encoder.encode(line + "\n");
    if (queued + bytes.length > max) {
      // the note goes where the gap is: after the lines queued before it
      if (dropped++ === 0) {
        chain = chain.then(() => {
          const note = encoder.encode(options.droppedNote(dropped) + "\n");
          dropped = 0;
          return guarded(note);
        });
      }
      return;
    }
    queued += bytes.length;
    chain = chain.then(() => guarded(bytes)).finally(() => queued -= bytes.length);
  };
}

/**
 * stdout for a view: queued on a pipe or a socket, where a reader can stop reading;
 * synchronous on a terminal (keeps ordering with stderr), a file or /dev/null, which never
 * hold a write back for long, and cost one system call per line instead of an async op.
 */
function stdoutSink(droppedNote: (lines: number) => string): LineSink {
  return readerCanStall() ? queuedSink({ droppedNote }) : terminalSink();
}

/** Whether stdout is a pipe or a socket (Linux: /proc; elsewhere assumed so, unless a terminal). */
function readerCanStall(): boolean {
  if (Deno.stdout.isTerminal()) return false;
  try {
    return /^(pipe|socket):/.test(Deno.readLinkSync("/proc/self/fd/1"));
  } catch {
    return true;
  }
}

/** The `--output jsonl` view. */
export function jsonlReporter(
  sink: LineSink = stdoutSink((lines) => JSON.stringify({ event: "output_dropped", lines })),
): EventSubscriber {
  return (record: EventRecord) => sink(record.line ?? JSON.stringify(record.event));
}

const MARK: Record<string, string> = {
  success: "✓",
  soft_failed: "~",
  failed: "✗",
  cancelled: "■",
  dry_run: "·",
};

/** One event as a text line, or undefined for events the text view does not show. */
export function textLine(event: RunEvent, verbose = false): string | undefined {
  switch (event.event) {
    case "run_start":
      return `maestro: run ${event.run_id} of plan ${event.plan} (${event.tasks} tasks, ` +
        `max_parallel ${event.max_parallel})` +
        (event.run_path ? `\n  run dir: ${event.run_path}` : "") +
        (event.resumed_from ? `\n  resuming: ${event.resumed_from}` : "");
    case "task_start":
      return `▶ ${event.task_id}`;
    case "task_retry":
      return `↻ ${event.task_id} attempt ${event.attempt}/${event.max_attempts}` +
        (event.delay_sec > 0 ? ` in ${event.delay_sec}s` : "") + `: ${event.reason}`;
    case "engine_fallback":
      return `⇄ ${event.task_id} ${event.from_engine} failed (${event.category}): falling back ` +
        `to ${event.to_engine}${event.to_model ? ` (${event.to_model})` : ""}`;
    case "task_escalation":
      return `↑ ${event.task_id} escalating ${event.from_model ?? "(default model)"} → ` +
        event.to_model;
    case "engine_circuit_open":
      return `maestro: ${event.engine} circuit breaker open after ${event.failures} engine ` +
        `failures (${event.category}); its next attempts fail at once` +
        (event.cooldown_sec !== null ? ` for ${event.cooldown_sec}s` : "");
    case "engine_circuit_closed":
      return `maestro: ${event.engine} circuit breaker closed (${event.task_id} got through)`;
    case "circuit_breaker_tripped":
      return `maestro: circuit breaker tripped: ${event.failures} tasks failed ` +
        `(max_total_failures ${event.max_total_failures}, action ${event.action})`;
    case "circuit_breaker_response":
      return `maestro: circuit breaker ${
        event.approved ? "reset, the run goes on" : "stops the run"
      }` +
        ` (${event.by})`;
    case "task_complete": {
      const time = `${event.duration_sec.toFixed(1)}s`;
      const note = event.resumed
        ? " (resumed)"
        : event.from_cache
        ? `: ${event.message}`
        : event.status === "success"
        ? ""
        : `: ${event.message}`;
      return `${MARK[event.status] ?? "?"} ${event.task_id} ${event.status} (${time})${note}`;
    }
    case "gate_result":
    case "judge_result": {
      // a warn (or worse) verdict is never silent
      if (event.verdict === "pass") return undefined;
      const gate = event.event === "judge_result" ? "judge" : event.gate;
      const score = event.event === "judge_result" && event.score !== null
        ? ` (score ${event.score.toFixed(2)}, threshold ${event.threshold?.toFixed(2)})`
        : "";
      const effect = event.effect === "none" || event.effect === "warn" ? "" : ` → ${event.effect}`;
      const reason = event.reasons[0] ? `: ${event.reasons[0].split("\n")[0]!.slice(0, 160)}` : "";
      return `${event.verdict === "warn" ? "⚠" : "✗"} ${event.task_id} ${gate} ${event.verdict}` +
        `${score}${effect}${reason}`;
    }
    case "task_skip":
      return `- ${event.task_id} ${event.status}: ${event.reason}`;
    case "task_output":
      return verbose ? event.lines.map((l) => `  ${event.task_id} | ${l}`).join("\n") : undefined;
    case "dry_run_task":
      return `[dry-run] ${event.task_id}\n  workdir: ${event.workdir}\n  command: ${event.command}` +
        `\n  argv: ${JSON.stringify(event.argv)}\n  env: ${event.env_keys.join(", ")}` +
        (event.when ? `\n  when: ${event.when}` : "");
    case "partial_line_ignored":
      return `maestro: the last line of ${event.from_run}/events.jsonl was cut off (the run ` +
        "was killed while writing it); it is ignored";
    case "leftovers_removed":
      return `maestro: removed ${event.files.length} temp file(s) left in ${event.from_run}`;
    case "orphan_stopped":
      return `maestro: stopped process group ${event.pgid} left by ${event.task_id} in ${event.from_run}`;
    case "orphan_wait":
      return `maestro: waiting for process group ${event.pgid} left by ${event.task_id} in ` +
        `${event.from_run} to end (--wait-orphans)`;
    case "approval_response":
      return event.approved ? undefined : `- ${event.task_id} approval denied (${event.by})`;
    case "budget_start":
      return budgetStartLine(event);
    case "budget_warning":
      return `maestro: budget warning: ${usd(event.spent)} of ${usd(event.limit)} spent ` +
        `(${Math.round(event.pct * 100)}% of max_cost_usd${
          event.period ? `, ${event.period}` : ""
        })`;
    case "budget_exceeded":
      return `maestro: budget exceeded: ${usd(event.spent)} of ${usd(event.limit)}` +
        (event.task_id ? ` after ${event.task_id}` : "") + `; no more tasks start` +
        (event.mode === "hard" ? ", running engine tasks are cancelled" : "");
    case "run_complete": {
      // tasks cancelled by a hard budget are not an interruption
      const interrupted = event.cancelled > 0 && event.budget_exceeded !== true;
      const status = interrupted ? "INTERRUPTED" : event.success ? "SUCCESS" : "FAILED";
      const dry = event.dry_run > 0 ? `${event.dry_run} dry-run / ` : "";
      return `${status} ${dry}${event.ok} ok / ${event.soft_failed} soft-failed / ${event.failed} failed / ` +
        `${event.skipped} skipped / ${event.cancelled} cancelled (${
          event.duration_sec.toFixed(1)
        }s)` + (event.cost_usd !== null ? ` ${usd(event.cost_usd)}` : "") +
        (event.budget_exceeded ? " — budget exceeded" : "");
    }
    default:
      return undefined;
  }
}

function usd(value: number): string {
  return `$${value.toFixed(4).replace(/0{1,2}$/, "")}`;
}

function budgetStartLine(event: Extract<RunEvent, { event: "budget_start" }>): string {
  const head = `maestro: budget ${usd(event.limit)}` +
    (event.period ? ` ${event.period}` : " per run") +
    (event.mode === "hard" ? " (hard)" : "");
  if (event.period === null) {
    return event.spent > 0 ? `${head}, ${usd(event.spent)} reused from the resumed run` : head;
  }
  if (event.ledger !== "store") {
    return `${head}: no spend ledger (${event.ledger}); the limit applies to this run only`;
  }
  const since = event.since ? localMinute(new Date(event.since)) : "?";
  return `${head}: ${usd(event.spent)} already spent since ${since}`;
}

/** Where the text view writes: stdout, queued when it is a pipe that may not be read in time. */
export function textSink(): LineSink {
  return stdoutSink((lines) =>
    `maestro: ${lines} line(s) of output dropped: stdout was not read in time (events.jsonl ` +
    "has every event)"
  );
}

/** The `--output text` view. */
export function textReporter(sink: LineSink = textSink(), verbose = false): EventSubscriber {
  return (record: EventRecord) => {
    const line = textLine(record.event, verbose);
    if (line !== undefined) sink(line);
  };
}

/** Each line of `text` marked with the plan it is about (several plans run at once). */
export function withPlanName(text: string, plan: string): string {
  return text.split("\n").map((part) => `[${plan}] ${part}`).join("\n");
}

/**
 * The text view of several plans run at once (`--parallel`): a subscriber per plan whose lines
 * start with `[<plan>] `, all written through one sink.
 */
export function planTextReporters(
  sink: LineSink = textSink(),
  verbose = false,
): (plan: string) => EventSubscriber {
  return (plan) => textReporter((line) => sink(withPlanName(line, plan)), verbose);
}

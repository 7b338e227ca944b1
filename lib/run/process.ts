/**
 * Subprocess supervision. Each process runs in its own process group (`setsid`) under a
 * parent-death signal (`setpriv --pdeathsig KILL`), so a timeout or a cancel kills the whole
 * tree and a `kill -9` of maestro takes the direct child with it. Output is streamed line by
 * line into the task's log (stderr lines prefixed `[stderr] `), keeping only a bounded tail in
 * memory. When the group leader exits, whatever it left behind in its group is stopped too: a
 * task must not leave processes behind.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import type { LogFile } from "./log_file.ts";

/** Exit code of a timed-out process (the reference tool's, like coreutils `timeout`). */
export const TIMEOUT_EXIT_CODE = 124;
/** Exit code of a cancelled process (128 + SIGINT). */
export const CANCEL_EXIT_CODE = 130;
/** A line longer than this is cut into pieces, so one endless line cannot exhaust memory. */
const MAX_LINE_CHARS = 1024 * 1024;

/** Keeps the last `size` items. */
export class RingBuffer<T> {
  #items: T[] = [];
  #start = 0;
  readonly size: number;

  /** @param size how many items to keep (at least 1) */
  constructor(size: number) {
    this.size = Math.max(1, size);
  }

  /** Adds one item, dropping the oldest when full. */
  push(item: T): void {
    if (this.#items.length < this.size) this.#items.push(item);
    else {
      this.#items[this.#start] = item;
      this.#start = (this.#start + 1) % this.size;
    }
  }

  /** The items, oldest first. */
  toArray(): T[] {
    return [...this.#items.slice(this.#start), ...this.#items.slice(0, this.#start)];
  }
}

/** What to run and how. */
export interface ProcessSpec {
  /** Program and arguments (a string command is already `["sh", "-c", text]`). */
  argv: string[];
  /** Working directory (must exist). */
  cwd: string;
  /** The complete environment of the child. */
  env: Record<string, string>;
  /** Seconds before the group is killed; 0 or less means no limit. */
  timeoutSec: number;
  /** Where output lines go. */
  log: LogFile;
  /** How many stdout lines to keep as the tail. */
  tailLines: number;
  /** Aborting kills the group (TERM, then KILL after the grace). */
  signal?: AbortSignal;
  /** Milliseconds between TERM and KILL. @default {2000} */
  graceMs?: number;
  /** Called once the child runs, with its pid (= its process group id). */
  onStart?: (pid: number) => void;
  /** Called with batches of output lines (one batch per chunk read). */
  onLines?: (stream: "stdout" | "stderr", lines: string[]) => void;
}

/** How a process ended. */
export interface ProcessOutcome {
  /** Exit code; 124 on timeout, 130 when cancelled, 127 when it could not start. */
  exitCode: number;
  /** Killed by the timeout. */
  timedOut: boolean;
  /** Killed because the signal aborted. */
  cancelled: boolean;
  /** The last `tailLines` stdout lines. */
  stdoutTail: string[];
  /** The last lines of stdout and stderr together (stderr prefixed), for failure messages. */
  outputTail: string[];
  /** Wall time in seconds. */
  durationSec: number;
  /** Pid (= pgid) of the child, 0 when it did not start. */
  pid: number;
  /** Why it could not start. */
  spawnError?: string;
}

function onPath(binary: string): boolean {
  const dirs = (Deno.env.get("PATH") ?? "/usr/bin:/bin").split(delimiter);
  return dirs.some((dir) => dir && existsSync(join(dir, binary)));
}

let wrapperCache: string[] | undefined;

/**
 * The argv prefix that gives a child its own process group and a parent-death signal:
 * `setpriv --pdeathsig KILL -- setsid` on Linux, less where those tools are missing.
 */
export function isolationPrefix(): string[] {
  if (wrapperCache) return wrapperCache;
  const prefix: string[] = [];
  if (Deno.build.os === "linux" && onPath("setpriv")) {
    prefix.push("setpriv", "--pdeathsig", "KILL", "--");
  }
  if (Deno.build.os !== "windows" && onPath("setsid")) prefix.push("setsid");
  wrapperCache = prefix;
  return prefix;
}

/** Sends a signal to a whole process group; false when the group is gone. */
export function killGroup(pgid: number, signal: Deno.Signal): boolean {
  if (pgid <= 0) return false;
  try {
    Deno.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Reads a byte stream and hands over complete lines in batches. */
async function pumpLines(
  stream: ReadableStream<Uint8Array>,
  onBatch: (lines: string[]) => void | Promise<void>,
): Promise<void> {
  const decoder = new TextDecoder();
  let rest = "";
  for await (const chunk of stream) {
    const text = rest + decoder.decode(chunk, { stream: true });
    const parts = text.split("\n");
    rest = parts.pop() ?? "";
    if (rest.length > MAX_LINE_CHARS) {
      parts.push(rest);
      rest = "";
    }
    if (parts.length > 0) await onBatch(parts);
  }
  rest += decoder.decode();
  if (rest.length > 0) await onBatch([rest]);
}

/**
 * Runs one process to completion under supervision.
 *
 * @param spec what to run, where, with which limits
 * @returns how it ended; never throws for a failing or missing program
 */
export async function runProcess(spec: ProcessSpec): Promise<ProcessOutcome> {
  const started = performance.now();
  const stdoutTail = new RingBuffer<string>(spec.tailLines);
  const outputTail = new RingBuffer<string>(40);
  const seconds = () => Math.round(performance.now() - started) / 1000;
  const base = { stdoutTail: [], outputTail: [], timedOut: false, cancelled: false };
  if (spec.signal?.aborted) {
    return { ...base, exitCode: CANCEL_EXIT_CODE, cancelled: true, durationSec: 0, pid: 0 };
  }
  const [program, ...args] = [...isolationPrefix(), ...spec.argv];
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(program!, {
      args,
      cwd: spec.cwd,
      env: spec.env,
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    spec.log.line(`[maestro] could not start: ${message}`);
    return { ...base, exitCode: 127, durationSec: seconds(), pid: 0, spawnError: message };
  }
  const pid = child.pid;
  spec.onStart?.(pid);

  let timedOut = false;
  let cancelled = false;
  let killTimer: ReturnType<typeof setTimeout> | undefined;
  const terminate = () => {
    killGroup(pid, "SIGTERM");
    killTimer ??= setTimeout(() => killGroup(pid, "SIGKILL"), spec.graceMs ?? 2000);
  };
  const timer = spec.timeoutSec > 0
    ? setTimeout(() => {
      timedOut = true;
      terminate();
    }, spec.timeoutSec * 1000)
    : undefined;
  const onAbort = () => {
    cancelled = true;
    terminate();
  };
  spec.signal?.addEventListener("abort", onAbort, { once: true });

  const pump = (stream: ReadableStream<Uint8Array>, name: "stdout" | "stderr") =>
    pumpLines(stream, (lines) => {
      for (const line of lines) {
        if (name === "stdout") {
          stdoutTail.push(line);
          outputTail.push(line);
          spec.log.line(line);
        } else {
          outputTail.push(`[stderr] ${line}`);
          spec.log.line(`[stderr] ${line}`);
        }
      }
      spec.onLines?.(name, lines);
      return spec.log.drain();
    });
  const pumps = Promise.all([pump(child.stdout, "stdout"), pump(child.stderr, "stderr")]);
  const status = await child.status;
  // The leader is gone; anything left in its group (background jobs holding our pipes) goes too.
  if (killGroup(pid, "SIGTERM")) {
    killTimer ??= setTimeout(() => killGroup(pid, "SIGKILL"), spec.graceMs ?? 2000);
  }
  await pumps;
  clearTimeout(timer);
  clearTimeout(killTimer);
  killGroup(pid, "SIGKILL");
  spec.signal?.removeEventListener("abort", onAbort);
  const exitCode = timedOut ? TIMEOUT_EXIT_CODE : cancelled ? CANCEL_EXIT_CODE : status.code;
  return {
    exitCode,
    timedOut,
    cancelled,
    stdoutTail: stdoutTail.toArray(),
    outputTail: outputTail.toArray(),
    durationSec: seconds(),
    pid,
  };
}

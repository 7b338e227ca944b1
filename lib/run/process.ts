/**
 * Subprocess supervision. Each process runs in its own process group (`setsid`) under a
 * parent-death signal (`PR_SET_PDEATHSIG`), set by the spawn helper (spawn_helper.ts) or, where
 * it cannot be built, by `setpriv --pdeathsig KILL -- setsid`, so a timeout or a cancel kills the whole
 * tree and a `kill -9` of maestro takes the direct child with it. Output is streamed line by
 * line into the task's log (stderr lines prefixed `[stderr] `), keeping only a bounded tail in
 * memory. When the group leader exits, whatever it left behind in its group is stopped too: a
 * task must not leave processes behind.
 *
 * @module
 */
import { pathExists } from "../fs.ts";
import { delimiter, join } from "../path.ts";
import type { LogFile } from "./log_file.ts";
import { ensureSpawnHelper, type SpawnHelper } from "./spawn_helper.ts";
import {
  ensureSpawnServer,
  type OutputSink,
  SpawnServer,
  SpawnServerError,
} from "./spawn_server.ts";

/** Exit code of a timed-out process (the reference tool's, like coreutils `timeout`). */
export const TIMEOUT_EXIT_CODE = 124;
/** Exit code of a cancelled process (128 + SIGINT). */
export const CANCEL_EXIT_CODE = 130;
/** A line longer than this is cut into pieces, so one endless line cannot exhaust memory. */
const MAX_LINE_CHARS = 1024 * 1024;
/**
 * Longest line kept in a tail (`stdout_tail`, the output tail of messages): the log has every
 * byte, but a tail is copied into the result, the manifest and templates, so one endless line
 * must not make them megabytes long.
 */
export const MAX_TAIL_LINE_CHARS = 16 * 1024;

/** A line as a tail keeps it: cut at {@linkcode MAX_TAIL_LINE_CHARS}, saying so. */
export function tailLine(line: string): string {
  if (line.length <= MAX_TAIL_LINE_CHARS) return line;
  return `${line.slice(0, MAX_TAIL_LINE_CHARS)}… [${
    line.length - MAX_TAIL_LINE_CHARS
  } more characters in the log]`;
}

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

/**
 * Lines of stdout and stderr kept together (`outputTail`): failure messages use their end,
 * the task's structured context (structured_output.ts) reads all of them.
 */
export const OUTPUT_TAIL_LINES = 200;

/**
 * How long a task waits for the end of its output once its process group is gone: only a
 * process that left the group (`setsid`) can still hold the pipes then.
 */
export const ESCAPED_OUTPUT_MS = 1000;

/** Whether `promise` settles within `ms` (it is not cancelled either way). */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), ms));
  try {
    return await Promise.race([promise.then(() => true), late]);
  } finally {
    clearTimeout(timer);
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
  /** Text written to the child's stdin (then closed); absent: stdin is /dev/null. */
  stdin?: string;
  /**
   * Called once the start is requested, while the child execs: file work that must be done
   * before the task ends but need not delay its start (see {@linkcode LogFile.createLater}).
   * The log is opened there too. When it throws, the child is stopped and the error rethrown.
   */
  afterSpawn?: () => void;
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
  return dirs.some((dir) => dir && pathExists(join(dir, binary)));
}

let wrapperCache: string[] | undefined;
let helperPath: string | undefined;
let helperReady: Promise<SpawnHelper> | undefined;
let serverPath: string | undefined;
let server: SpawnServer | undefined;

/**
 * Makes later spawns use the spawn server (spawn_server.ts) and, for tasks with a stdin, the
 * compiled spawn helper (one cheap exec) instead of the util-linux chain, compiling both on
 * first use. Call once before dispatching; cached. Without it, spawning still works through
 * {@linkcode isolationPrefix}.
 *
 * @returns the helper's state (the server's follows it: both need the same compiler)
 */
export function prepareSpawning(): Promise<SpawnHelper> {
  helperReady ??= Promise.all([ensureSpawnHelper(), ensureSpawnServer()]).then(
    ([helper, spawnServer]) => {
      helperPath = "path" in helper ? helper.path : undefined;
      serverPath = "path" in spawnServer ? spawnServer.path : undefined;
      return helper;
    },
  );
  return helperReady;
}

/**
 * Uses the helper at `path` for later spawns, or the util-linux chain when undefined (tests and
 * benchmarks compare both; a run calls {@linkcode prepareSpawning} instead).
 */
export function setSpawnHelper(path: string | undefined): void {
  helperPath = path;
}

/**
 * Starts later tasks without a stdin through the spawn server at `path`, or through Deno's
 * `Command` when undefined (tests and benchmarks compare both).
 */
export function setSpawnServer(path: string | undefined): void {
  serverPath = path;
  server = undefined;
}

/** The running spawn server, started on first use; undefined when there is none to use. */
function spawnServer(): SpawnServer | undefined {
  if (serverPath === undefined) return undefined;
  if (server && server.gone === undefined) return server;
  try {
    server = SpawnServer.start(serverPath);
  } catch {
    serverPath = undefined;
    server = undefined;
  }
  return server;
}

const programCache = new Map<string, string>();

/**
 * The file `execvp(3)` would run for `name` with the child's PATH (cached; misses are not, so
 * a program installed mid-run is found). A name with a slash is used as written.
 */
function resolveProgram(name: string, path: string | undefined, cwd: string): string {
  if (name.includes("/")) return name;
  const dirs = path ?? "/usr/local/bin:/usr/bin:/bin";
  const key = `${cwd}\0${dirs}\0${name}`;
  const known = programCache.get(key);
  if (known !== undefined) return known;
  for (const dir of dirs.split(":")) {
    const base = dir === "" ? cwd : dir.startsWith("/") ? dir : join(cwd, dir);
    const file = join(base, name);
    try {
      const info = Deno.statSync(file);
      if (!info.isFile || ((info.mode ?? 0) & 0o111) === 0) continue;
    } catch {
      continue;
    }
    if (programCache.size > 1024) programCache.clear();
    programCache.set(key, file);
    return file;
  }
  return name;
}

/** The argv to spawn for a task argv: helper (or util-linux chain) in front of it. */
function isolatedArgv(argv: readonly string[], env: Readonly<Record<string, string>>, cwd: string) {
  if (helperPath === undefined) return [...isolationPrefix(), ...argv];
  const first = argv[0] ?? "";
  return [helperPath, resolveProgram(first, env.PATH, cwd), ...argv];
}

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

/**
 * Words that dash (Debian's `sh`) handles itself: builtins and reserved words. A command
 * starting with one of them always goes through `sh -c`, even when a program of that name is
 * on PATH (`echo -e`, `pwd`, `kill`, `test`, `true --help` behave differently as programs).
 */
const SHELL_WORDS: ReadonlySet<string> = new Set([
  ".",
  ":",
  "[",
  "alias",
  "bg",
  "break",
  "cd",
  "chdir",
  "command",
  "continue",
  "echo",
  "eval",
  "exec",
  "exit",
  "export",
  "false",
  "fc",
  "fg",
  "getopts",
  "hash",
  "jobs",
  "kill",
  "local",
  "printf",
  "pwd",
  "read",
  "readonly",
  "return",
  "set",
  "shift",
  "test",
  "times",
  "trap",
  "true",
  "type",
  "ulimit",
  "umask",
  "unalias",
  "unset",
  "wait",
  "!",
  "case",
  "do",
  "done",
  "elif",
  "else",
  "esac",
  "fi",
  "for",
  "function",
  "if",
  "in",
  "select",
  "then",
  "time",
  "until",
  "while",
  "{",
  "}",
  "source",
]);
/**
 * Builtins that a system program does exactly as dash does when the command is the word alone:
 * exit 0 or 1, nothing read or written. make execs them too; `true --help` keeps the shell
 * (coreutils would print its help), and so does a `true` found only outside the system folders.
 */
const PROGRAM_LIKE_BUILTINS: ReadonlySet<string> = new Set(["true", "false"]);
const SYSTEM_BIN_DIRS: readonly string[] = ["/usr/bin", "/bin"];

/** A command made only of these characters is a plain word list: no quoting, expansion, redirection. */
const PLAIN_COMMAND = /^[A-Za-z0-9_@%+=:,./ \t-]+$/;

const execCache = new Map<string, { mtime: number; size: number; ok: boolean }>();

/** A regular file with an execute bit that the kernel can exec itself (ELF or `#!`). */
function directlyExecutable(path: string): boolean {
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(path);
  } catch {
    return false;
  }
  if (!info.isFile || ((info.mode ?? 0) & 0o111) === 0) return false;
  const mtime = info.mtime?.getTime() ?? 0;
  const known = execCache.get(path);
  if (known && known.mtime === mtime && known.size === info.size) return known.ok;
  let ok = false;
  try {
    // dash runs a file without a magic number as a shell script (ENOEXEC); exec would fail
    const file = Deno.openSync(path, { read: true });
    try {
      const head = new Uint8Array(4);
      const n = file.readSync(head) ?? 0;
      ok = (n >= 2 && head[0] === 0x23 && head[1] === 0x21) ||
        (n === 4 && head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46);
    } finally {
      file.close();
    }
  } catch {
    ok = false;
  }
  if (execCache.size > 1024) execCache.clear();
  execCache.set(path, { mtime, size: info.size, ok });
  return ok;
}

/**
 * Like make, runs a plain string command without a shell. When `text` is a plain word list
 * (only `[A-Za-z0-9_@%+=:,./-]`, spaces and tabs: nothing a shell would quote, expand,
 * redirect or chain), its first word is neither a shell builtin (except `true` or `false`
 * alone, run from /usr/bin or /bin) nor an assignment, and it
 * resolves (like dash: the child's PATH, or a path relative to `cwd`) to an executable ELF or
 * `#!` file, returns the argv and env to exec it directly (argv[0] as written: the exec
 * searches the same PATH). The env gets `PWD` (the
 * physical cwd), the one variable `sh` would have added. Anything else returns undefined: the
 * caller keeps `sh -c`, so errors such as `sh: 1: x: not found` (exit 127) stay the shell's.
 *
 * @param text the rendered string command
 * @param env the child's complete environment
 * @param cwd the child's working directory
 */
export function directCommand(
  text: string,
  env: Readonly<Record<string, string>>,
  cwd: string,
): { argv: string[]; env: Record<string, string> } | undefined {
  // without PATH, dash and execvp(3) would search different default lists
  if (!PLAIN_COMMAND.test(text) || env.PWD !== undefined || env.PATH === undefined) {
    return undefined;
  }
  const words = text.split(/[ \t]+/).filter((word) => word.length > 0);
  const first = words[0];
  if (first === undefined || first.includes("=")) return undefined;
  let program: string | undefined;
  if (SHELL_WORDS.has(first)) {
    if (words.length > 1 || !PROGRAM_LIKE_BUILTINS.has(first)) return undefined;
    // dash never searches PATH for its builtin: neither does this (argv[0] is the path)
    program = SYSTEM_BIN_DIRS.map((dir) => join(dir, first)).find(directlyExecutable);
    if (program === undefined) return undefined;
    words[0] = program;
  } else if (first.includes("/")) {
    const path = first.startsWith("/") ? first : join(cwd, first);
    if (directlyExecutable(path)) program = path;
  } else {
    for (const dir of env.PATH.split(":")) {
      const path = join(dir === "" ? cwd : dir.startsWith("/") ? dir : join(cwd, dir), first);
      if (directlyExecutable(path)) {
        program = path;
        break;
      }
    }
  }
  if (program === undefined) return undefined;
  // argv[0] stays the word as written (programs print it in messages: `ls: cannot access`);
  // the exec searches the child's PATH exactly as resolved above.
  let pwd: string;
  try {
    pwd = Deno.realPathSync(cwd);
  } catch {
    return undefined;
  }
  return { argv: words, env: { ...env, PWD: pwd } };
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

/**
 * Cuts a byte stream into lines. An endless line comes out in pieces of about MAX_LINE_CHARS
 * (memory stays bounded): `lines` are complete, `piece` is the start of a line still going on.
 */
class LineSplitter {
  #decoder = new TextDecoder();
  #rest = "";

  /** The complete lines that `bytes` finishes, and a piece of an endless line. */
  push(bytes: Uint8Array): { lines: string[]; piece?: string } {
    const text = this.#rest + this.#decoder.decode(bytes, { stream: true });
    const lines = text.split("\n");
    this.#rest = lines.pop() ?? "";
    if (this.#rest.length <= MAX_LINE_CHARS) return { lines };
    const piece = this.#rest;
    this.#rest = "";
    return { lines, piece };
  }

  /** The last line, when the stream did not end with a newline. */
  end(): { lines: string[] } {
    const last = this.#rest + this.#decoder.decode();
    this.#rest = "";
    return { lines: last.length > 0 ? [last] : [] };
  }
}

/** A started child, whichever way it was started. */
interface StartedChild {
  pid: number;
  /** Exit code; 128 + the signal number when a signal ended it. */
  status: Promise<number>;
  /** False when the process group is known to be empty after the exit (no kill needed). */
  leftovers?: Promise<boolean>;
  /** Both output streams reached end of file (every byte went to the sink before). */
  output: Promise<void>;
}

/** Starts `spec` through Deno's `Command` (with the helper or the util-linux chain in front). */
function startWithCommand(spec: ProcessSpec, sink: OutputSink): StartedChild {
  const [program, ...args] = isolatedArgv(spec.argv, spec.env, spec.cwd);
  const child = new Deno.Command(program!, {
    args,
    cwd: spec.cwd,
    env: spec.env,
    clearEnv: true,
    stdin: spec.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (spec.stdin !== undefined) {
    // a child that exits without reading its input must not fail the write (EPIPE)
    const writer = child.stdin.getWriter();
    writer.write(new TextEncoder().encode(spec.stdin)).then(() => writer.close()).catch(() => {});
  }
  const pump = async (stream: ReadableStream<Uint8Array>, name: "stdout" | "stderr") => {
    for await (const chunk of stream) sink(name, chunk);
  };
  return {
    pid: child.pid,
    status: child.status.then((status) => status.code),
    output: Promise.all([pump(child.stdout, "stdout"), pump(child.stderr, "stderr")]).then(
      () => {},
    ),
  };
}

/**
 * Requests the start of `spec`: through the spawn server when there is one and the task needs
 * no stdin, else through Deno's `Command`; calls `whileStarting` as soon as the request is out.
 * Throws when it cannot start (missing working directory, no process).
 */
async function requestChild(
  spec: ProcessSpec,
  sink: OutputSink,
  whileStarting: () => void,
): Promise<StartedChild> {
  const spawner = spec.stdin === undefined ? spawnServer() : undefined;
  if (!spawner) {
    const child = startWithCommand(spec, sink);
    whileStarting();
    return child;
  }
  const path = resolveProgram(spec.argv[0] ?? "", spec.env.PATH, spec.cwd);
  const request = spawner.spawn({ path, argv: spec.argv, env: spec.env, cwd: spec.cwd }, sink);
  whileStarting();
  try {
    const task = await request;
    return { pid: task.pid, status: task.status, leftovers: task.leftovers, output: task.closed };
  } catch (error) {
    // a server that died takes no more tasks; this one and later ones start the other way
    if (error instanceof SpawnServerError && error.kind === "gone") {
      serverPath = undefined;
      return startWithCommand(spec, sink);
    }
    throw error;
  }
}

/**
 * Starts `spec` and, while it execs, opens its log and runs `afterSpawn`. When those fail, the
 * child is killed and their error thrown.
 */
async function startChild(spec: ProcessSpec, sink: OutputSink): Promise<StartedChild> {
  let failure: { error: unknown } | undefined;
  const child = await requestChild(spec, sink, () => {
    try {
      spec.log.open();
      spec.afterSpawn?.();
    } catch (error) {
      failure = { error };
    }
  });
  if (failure) {
    killGroup(child.pid, "SIGKILL");
    await Promise.all([child.status, child.output]);
    throw failure.error;
  }
  return child;
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
  const outputTail = new RingBuffer<string>(OUTPUT_TAIL_LINES);
  const seconds = () => Math.round(performance.now() - started) / 1000;
  const base = { stdoutTail: [], outputTail: [], timedOut: false, cancelled: false };
  if (spec.signal?.aborted) {
    return { ...base, exitCode: CANCEL_EXIT_CODE, cancelled: true, durationSec: 0, pid: 0 };
  }
  const splitters = { stdout: new LineSplitter(), stderr: new LineSplitter() };
  // a piece of an endless stderr line was written: what comes next continues it, unmarked
  let stderrMidLine = false;
  // tails are copied into results, feedback and messages, and cut there: masked first
  const tailed = (line: string) => tailLine(spec.log.masked(line));
  // One log write per batch; only the lines that can still be in a tail are kept.
  const onBatch = (name: "stdout" | "stderr", batch: { lines: string[]; piece?: string }) => {
    const { lines, piece } = batch;
    if (lines.length === 0 && piece === undefined) return;
    const kept = piece === undefined ? lines : [...lines, piece];
    if (name === "stdout") {
      for (const line of kept.slice(-stdoutTail.size)) stdoutTail.push(tailed(line));
      for (const line of kept.slice(-outputTail.size)) outputTail.push(tailed(line));
      spec.log.write((lines.length > 0 ? lines.join("\n") + "\n" : "") + (piece ?? ""));
    } else {
      for (const line of kept.slice(-outputTail.size)) {
        outputTail.push(`[stderr] ${tailed(line)}`);
      }
      // "[stderr] " starts each line of the log, not each piece of one
      const marked = kept.map((line, i) => i === 0 && stderrMidLine ? line : `[stderr] ${line}`);
      spec.log.write(marked.join("\n") + (piece === undefined ? "\n" : ""));
      stderrMidLine = piece !== undefined;
    }
    spec.onLines?.(name, kept);
  };
  // set once no more output is read: it ended, or the task stopped waiting (ESCAPED_OUTPUT_MS)
  let outputClosed = false;
  /** The last piece of each stream goes to the log and the tails; later bytes are dropped. */
  const closeOutput = () => {
    if (outputClosed) return;
    outputClosed = true;
    onBatch("stdout", splitters.stdout.end());
    onBatch("stderr", splitters.stderr.end());
  };
  let child: StartedChild;
  try {
    child = await startChild(spec, (name, bytes) => {
      if (!outputClosed) onBatch(name, splitters[name].push(bytes));
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    spec.log.line(`[maestro] could not start: ${message}`);
    // as a shell would: 127 when something was not found, 126 when it could not be executed
    const exitCode = /No such |not found|os error 2\)/i.test(message) ? 127 : 126;
    return { ...base, exitCode, durationSec: seconds(), pid: 0, spawnError: message };
  }
  const pid = child.pid;
  spec.onStart?.(pid);

  let timedOut = false;
  let cancelled = false;
  let killTimer: ReturnType<typeof setTimeout> | undefined;
  const graceMs = spec.graceMs ?? 2000;
  const terminate = () => {
    killGroup(pid, "SIGTERM");
    killTimer ??= setTimeout(() => killGroup(pid, "SIGKILL"), graceMs);
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

  const output = child.output.then(closeOutput);
  // a cancel that came while the server was starting the task
  if (spec.signal?.aborted) onAbort();
  const exitStatus = await child.status;
  // The leader is gone; anything left in its group (background jobs holding our pipes) goes too.
  // When the group is already empty (the usual case) it cannot gain members any more, so no
  // SIGKILL follows: one kill(2) per task, and no signal to a group id the kernel may reuse.
  const leftovers = (await child.leftovers ?? true) && killGroup(pid, "SIGTERM");
  if (leftovers) killTimer ??= setTimeout(() => killGroup(pid, "SIGKILL"), graceMs);
  // The output ends when every holder of the pipes is gone. A process that left the group
  // (`setsid`: a daemon) may hold them for ever: once the group is gone, the task waits a
  // little for the last bytes, then stops reading (the run's end stops such processes).
  // (usually the output has ended with the exit already: no timer is needed then)
  const groupGone = leftovers || timedOut || cancelled ? graceMs : 0;
  if (!outputClosed && !(await settlesWithin(output, groupGone + ESCAPED_OUTPUT_MS))) {
    closeOutput();
    spec.log.line(
      "[maestro] a process outside the task's process group (setsid?) still holds its output " +
        "open: output after this line is not kept, and that process is stopped when the run ends",
    );
  }
  clearTimeout(timer);
  clearTimeout(killTimer);
  if (leftovers || timedOut || cancelled) killGroup(pid, "SIGKILL");
  spec.signal?.removeEventListener("abort", onAbort);
  const exitCode = timedOut ? TIMEOUT_EXIT_CODE : cancelled ? CANCEL_EXIT_CODE : exitStatus;
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

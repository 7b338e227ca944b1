/**
 * The spawn server: one small long-lived C process per run that starts tasks with `vfork` and
 * relays their output, so that maestro's own thread never blocks in a spawn.
 *
 * Why it exists: a Deno `Command` spawn blocks maestro's only JS thread until the child has
 * exec'd (≈ 2.4 ms per task on the benchmark machine, with the spawn helper's extra exec on top),
 * and each child costs two pipes, two stream readers and a status op. The server forks from a
 * process of a few hundred KiB, gives each task its own session (`setsid`) and a parent-death
 * signal, execs it directly, and multiplexes every task's stdout, stderr and exit status over
 * one pipe: a spawn through it costs what GNU make's does (bench/run_bench.ts,
 * docs/performance.md).
 *
 * Protocol (little-endian u32 lengths, both directions framed `u32 length, body`):
 * - request: `u32 id, u32 argc, u32 envc`, then NUL-terminated cwd, resolved path, argv…, env…
 * - replies: `u32 id, u8 kind, payload`: `S` started (i32 pid), `O`/`E` stdout/stderr bytes,
 *   `X` exited (i32 wait status, i32 1 when its process group still has members), `C` both pipes
 *   at end of file (sent once the task has exited: with or after its `X`), `D` the working directory
 *   could not be entered (i32 errno), `F` fork failed (i32 errno).
 *
 * A task ends for maestro when both `X` and `C` arrived. When maestro's end of the request pipe
 * closes (maestro exited, even by `kill -9`), the server SIGKILLs every task's process group
 * and exits, so no task outlives its supervisor.
 *
 * The server is compiled with `cc` on first use like the spawn helper (c_program.ts); tasks that
 * need a stdin (engine prompts) and machines without a compiler keep Deno's `Command`.
 *
 * @module
 */
import { type CProgram, type CProgramBuild, cProgramPath, ensureCProgram } from "./c_program.ts";

/** The server's C source (Linux, libc). */
export const SPAWN_SERVER_SOURCE =
  `/* maestro-spawnd: starts and watches maestro's tasks (see lib/run/spawn_server.ts). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* A task: its request id, pid (= its process group), output pipes (-1 once at EOF), whether
   maestro was told its pid, and when it started (ms). */
typedef struct { uint32_t id; pid_t pid; int out, err, exited, announced; long long born; } Task;

static Task *tasks;
static int ntasks, cap;

/* Replies are collected and written once per loop turn, so that a short task's start, output,
   exit and end of output reach maestro in one write (one wake-up instead of four). */
static char *obuf;
static size_t olen, ocap;

static void flush_replies(void) {
  const char *p = obuf;
  while (olen > 0) {
    ssize_t w = write(1, p, olen);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) _exit(0); /* maestro is gone: nobody reads us any more */
    p += w;
    olen -= (size_t)w;
  }
}

/* One reply: u32 length (of what follows), u32 id, u8 kind, payload. */
static void reply(uint32_t id, char kind, const void *payload, uint32_t n) {
  if (olen + 9 + n > ocap) {
    if (olen > 0 && olen + 9 + n > (1 << 18)) flush_replies();
    while (olen + 9 + n > ocap) ocap = ocap ? ocap * 2 : 1 << 16;
    obuf = realloc(obuf, ocap);
    if (!obuf) _exit(1);
  }
  uint32_t len = 5 + n;
  memcpy(obuf + olen, &len, 4);
  memcpy(obuf + olen + 4, &id, 4);
  obuf[olen + 8] = kind;
  memcpy(obuf + olen + 9, payload, n);
  olen += 9 + n;
}

static void reply_int(uint32_t id, char kind, int32_t value) { reply(id, kind, &value, 4); }

static void say(const char *s) { if (write(2, s, strlen(s)) < 0) {} }

static long long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* A task's pid is announced with its first output, its exit, or after ANNOUNCE_MS, whichever
   comes first: a task that ends at once costs maestro one wake-up. */
enum { ANNOUNCE_MS = 5 };

static void announce(Task *t) {
  if (t->announced) return;
  t->announced = 1;
  reply_int(t->id, 'S', t->pid);
}

/* Reads what a task's pipe holds now; at end of file closes it (and says so once both are). */
static void drain(Task *t, int which) {
  static char chunk[65536];
  int *fd = which ? &t->err : &t->out;
  while (*fd >= 0) {
    ssize_t r = read(*fd, chunk, sizeof chunk);
    if (r > 0) {
      announce(t);
      reply(t->id, which ? 'E' : 'O', chunk, (uint32_t)r);
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && errno == EAGAIN) return;
    close(*fd);
    *fd = -1;
    /* end of output is told with the exit (one wake-up for maestro): the leader's exit closed
       the pipes a moment before the kernel reports it */
    if (t->out < 0 && t->err < 0 && t->exited) reply(t->id, 'C', "", 0);
  }
}

/* Set by a vfork child (it shares our memory) when it cannot enter the working directory. */
static volatile int chdir_errno;

/* A request: u32 id, u32 argc, u32 envc, then NUL-terminated cwd, path, argv..., env... */
static void start(const char *body, uint32_t n) {
  uint32_t id, argc, envc;
  if (n < 12) return;
  memcpy(&id, body, 4);
  memcpy(&argc, body + 4, 4);
  memcpy(&envc, body + 8, 4);
  const char *p = body + 12, *end = body + n;
  uint64_t total = 2 + (uint64_t)argc + envc;
  if (argc == 0 || total > n) { reply_int(id, 'F', EINVAL); return; }
  /* one list: cwd, path, argv..., NULL, env..., NULL; argv and envp point into it */
  char **strs = malloc(sizeof(char *) * (total + 2));
  uint64_t slot = 0;
  for (uint64_t i = 0; i < total; i++) {
    const char *nul = p < end ? memchr(p, 0, (size_t)(end - p)) : 0;
    if (!nul) { free(strs); reply_int(id, 'F', EINVAL); return; }
    strs[slot++] = (char *)p;
    if (i == 1 + argc) strs[slot++] = 0; /* the end of argv */
    p = nul + 1;
  }
  strs[slot] = 0;
  char *cwd = strs[0], *path = strs[1], **argv = strs + 2, **envp = strs + 3 + argc;
  char *shell[argc + 2];
  shell[0] = "sh";
  shell[1] = path;
  memcpy(shell + 2, argv + 1, sizeof(char *) * argc); /* argv[1..argc] and its NULL */
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) < 0) { reply_int(id, 'F', errno); goto done; }
  if (pipe2(err, O_CLOEXEC) < 0) {
    int e = errno;
    close(out[0]);
    close(out[1]);
    reply_int(id, 'F', e);
    goto done;
  }
  pid_t self = getpid();
  chdir_errno = 0;
  /* vfork: nothing of ours is copied, which is what makes a spawn as cheap as make's */
  pid_t pid = vfork();
  if (pid == 0) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, 0);
    signal(SIGPIPE, SIG_DFL);
    setsid();
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != self) _exit(127);
    dup2(out[1], 1);
    dup2(err[1], 2);
    int null = open("/dev/null", O_RDONLY);
    if (null >= 0 && null != 0) { dup2(null, 0); close(null); }
    if (chdir(cwd) < 0) { chdir_errno = errno; _exit(127); }
    execve(path, argv, envp);
    int e = errno;
    if (e == ENOEXEC) { /* like execvp(3): a file without #! or ELF header is a sh script */
      execve("/bin/sh", shell, envp);
      e = errno;
    }
    say("maestro: ");
    say(argv[0]);
    /* the reason, as a shell would give it (E2BIG from a huge rendered command, EACCES...) */
    say(e == ENOENT ? ": not found" : ": cannot execute: ");
    if (e != ENOENT) say(strerror(e));
    say("\\n");
    _exit(e == ENOENT ? 127 : 126);
  }
  int e = errno;
  close(out[1]);
  close(err[1]);
  if (pid < 0 || chdir_errno) {
    if (pid > 0) waitpid(pid, 0, 0);
    close(out[0]);
    close(err[0]);
    reply_int(id, pid < 0 ? 'F' : 'D', pid < 0 ? e : chdir_errno);
    goto done;
  }
  fcntl(out[0], F_SETFL, O_NONBLOCK);
  fcntl(err[0], F_SETFL, O_NONBLOCK);
  if (ntasks == cap) {
    cap = cap ? cap * 2 : 16;
    tasks = realloc(tasks, sizeof(Task) * cap);
  }
  tasks[ntasks++] = (Task){ id, pid, out[0], err[0], 0, 0, now_ms() };
done:
  free(strs);
}

int main(void) {
  setsid(); /* a terminal's Ctrl-C is maestro's to handle, not ours */
  signal(SIGPIPE, SIG_IGN);
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, 0);
  int sfd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
  if (sfd < 0) return 2;
  fcntl(0, F_SETFD, FD_CLOEXEC);
  fcntl(1, F_SETFD, FD_CLOEXEC);
  int input_open = 1;
  char *in = 0;
  size_t inlen = 0, incap = 0;
  struct pollfd *fds = 0;
  int fdcap = 0;
  for (;;) {
    if (!input_open) {
      /* maestro closed our input: it ended (or was killed) with tasks still running */
      for (int i = 0; i < ntasks; i++) kill(-tasks[i].pid, SIGKILL);
      return 0;
    }
    int need = 2 + ntasks * 2;
    if (need > fdcap) {
      fdcap = need * 2;
      fds = realloc(fds, sizeof(struct pollfd) * fdcap);
    }
    int n = 0;
    fds[n++] = (struct pollfd){ sfd, POLLIN, 0 };
    fds[n++] = (struct pollfd){ 0, POLLIN, 0 };
    for (int i = 0; i < ntasks; i++) {
      fds[n++] = (struct pollfd){ tasks[i].out, POLLIN, 0 };
      fds[n++] = (struct pollfd){ tasks[i].err, POLLIN, 0 };
    }
    /* wake up in time to announce the oldest unannounced task */
    int timeout = -1;
    long long now = now_ms();
    for (int i = 0; i < ntasks; i++) {
      if (tasks[i].announced) continue;
      long long left = tasks[i].born + ANNOUNCE_MS - now;
      if (left <= 0) announce(&tasks[i]);
      else if (timeout < 0 || left < timeout) timeout = (int)left;
    }
    flush_replies();
    if (poll(fds, n, timeout) < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    for (int i = 0; i < ntasks; i++) {
      for (int s = 0; s < 2; s++) {
        int fd = s ? tasks[i].err : tasks[i].out;
        if (fd >= 0 && (fds[2 + i * 2 + s].revents & (POLLIN | POLLHUP | POLLERR))) drain(&tasks[i], s);
      }
    }
    if (fds[0].revents & POLLIN) {
      struct signalfd_siginfo info;
      while (read(sfd, &info, sizeof info) > 0) {}
      int status;
      pid_t pid;
      while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (int i = 0; i < ntasks; i++) {
          if (tasks[i].pid != pid || tasks[i].exited) continue;
          /* its pipes usually hold their last bytes and end of file already: send them first */
          drain(&tasks[i], 0);
          drain(&tasks[i], 1);
          tasks[i].exited = 1;
          announce(&tasks[i]);
          /* whether anything is left in its process group (maestro stops it if so) */
          int32_t exit_info[2] = { status, kill(-pid, 0) == 0 };
          reply(tasks[i].id, 'X', exit_info, sizeof exit_info);
          if (tasks[i].out < 0 && tasks[i].err < 0) reply(tasks[i].id, 'C', "", 0);
          break;
        }
      }
    }
    for (int i = ntasks - 1; i >= 0; i--) {
      if (tasks[i].out < 0 && tasks[i].err < 0 && tasks[i].exited) tasks[i] = tasks[--ntasks];
    }
    if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      if (inlen == incap) {
        incap = incap ? incap * 2 : 65536;
        in = realloc(in, incap);
      }
      ssize_t r = read(0, in + inlen, incap - inlen);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) {
        input_open = 0;
        continue;
      }
      inlen += (size_t)r;
      size_t at = 0;
      while (inlen - at >= 4) {
        uint32_t len;
        memcpy(&len, in + at, 4);
        if (inlen - at - 4 < len) break;
        start(in + at + 4, len);
        at += 4 + len;
      }
      memmove(in, in + at, inlen - at);
      inlen -= at;
    }
  }
}
`;

/** The server as a {@linkcode CProgram}; its self-test starts `sh -c "exit 7"` through it. */
export const SPAWN_SERVER: CProgram = {
  name: "maestro-spawnd",
  source: SPAWN_SERVER_SOURCE,
  flags: ["-O2"],
  async selfTest(path) {
    const server = SpawnServer.start(path);
    try {
      const task = await server.spawn(
        { path: "/bin/sh", argv: ["sh", "-c", "echo ok; exit 7"], env: {}, cwd: "/" },
        () => {},
      );
      const [code] = await Promise.all([task.status, task.closed]);
      return code === 7 ? undefined : `exit ${code}`;
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    } finally {
      await server.close();
    }
  },
};

/** Where the server for this source version lives. */
export function spawnServerPath(cacheDir: string): string {
  return cProgramPath(cacheDir, SPAWN_SERVER);
}

/**
 * Finds the compiled server, compiling it on first use (never throws).
 * `MAESTRO_SPAWN_SERVER=off` switches it off.
 */
export function ensureSpawnServer(
  env: Readonly<Record<string, string | undefined>> = Deno.env.toObject(),
): Promise<CProgramBuild> {
  if (env.MAESTRO_SPAWN_SERVER === "off") {
    return Promise.resolve({ unavailable: "MAESTRO_SPAWN_SERVER=off" });
  }
  return ensureCProgram(SPAWN_SERVER, env);
}

/** What to start: the program's resolved path, argv (argv[0] as written), env, cwd. */
export interface ServerRequest {
  path: string;
  argv: readonly string[];
  env: Readonly<Record<string, string>>;
  cwd: string;
}

/** A task the server started. */
export interface ServerTask {
  /** Its pid, which is also its process group and session id. */
  pid: number;
  /** Its exit code; 128 + the signal number when a signal ended it. */
  status: Promise<number>;
  /** Whether its process group still had members when it exited (background jobs). */
  leftovers: Promise<boolean>;
  /** Both of its output pipes reached end of file (every byte was handed over before). */
  closed: Promise<void>;
}

/** Receives a task's output bytes as they arrive; must consume them at once. */
export type OutputSink = (stream: "stdout" | "stderr", bytes: Uint8Array) => void;

/** Why the server could not start a task. */
export class SpawnServerError extends Error {
  /** `workdir`: the cwd could not be entered; `fork`: no process; `gone`: the server died. */
  readonly kind: "workdir" | "fork" | "gone" | "request";

  /** @param kind what failed @param message what to tell the user */
  constructor(kind: SpawnServerError["kind"], message: string) {
    super(message);
    this.name = "SpawnServerError";
    this.kind = kind;
  }
}

const ERRNO_TEXT: Readonly<Record<number, string>> = {
  1: "Operation not permitted",
  2: "No such file or directory",
  11: "Resource temporarily unavailable",
  12: "Cannot allocate memory",
  13: "Permission denied",
  20: "Not a directory",
  24: "Too many open files",
};

function errnoText(errno: number): string {
  return `${ERRNO_TEXT[errno] ?? "system error"} (os error ${errno})`;
}

/** The exit code of a `waitpid` status, as Deno reports it. */
export function exitCodeOf(waitStatus: number): number {
  const signal = waitStatus & 0x7f;
  return signal === 0 ? (waitStatus >> 8) & 0xff : 128 + signal;
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** A requested task, until both its `X` and its `C` have come. */
interface Waiter {
  sink: OutputSink;
  cwd: string;
  /** Settles the spawn() promise; undefined once it has (`S`, `D` or `F` came). */
  started?: { resolve: (pid: number) => void; reject: (error: Error) => void };
  status: Deferred<number>;
  leftovers: Deferred<boolean>;
  closed: Deferred<void>;
  exited: boolean;
  ended: boolean;
}

const encoder = new TextEncoder();

/** Encodes one request frame; throws for a string holding a NUL byte (exec cannot pass it). */
export function encodeRequest(id: number, request: ServerRequest): Uint8Array {
  const envEntries = Object.entries(request.env).map(([key, value]) => `${key}=${value}`);
  const strings = [request.cwd, request.path, ...request.argv, ...envEntries];
  for (const text of strings) {
    if (text.includes("\0")) {
      throw new SpawnServerError("request", `argument or variable holds a NUL byte: ${text}`);
    }
  }
  const body = encoder.encode(strings.join("\0") + "\0");
  const frame = new Uint8Array(16 + body.length);
  const view = new DataView(frame.buffer);
  view.setUint32(0, 12 + body.length, true);
  view.setUint32(4, id, true);
  view.setUint32(8, request.argv.length, true);
  view.setUint32(12, envEntries.length, true);
  frame.set(body, 16);
  return frame;
}

/** A running spawn server. */
export class SpawnServer {
  #child: Deno.ChildProcess;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #waiters = new Map<number, Waiter>();
  #nextId = 1;
  #busy = 0;
  #gone: string | undefined;
  #reading: Promise<void>;

  private constructor(child: Deno.ChildProcess) {
    this.#child = child;
    this.#writer = child.stdin.getWriter();
    // an idle server must not keep maestro alive; it is ref'd while a task runs
    child.unref();
    this.#reading = this.#read();
  }

  /** Starts the server at `path` (throws when it cannot be spawned). */
  static start(path: string): SpawnServer {
    const child = new Deno.Command(path, {
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
      clearEnv: true,
      env: {},
    }).spawn();
    return new SpawnServer(child);
  }

  /** The server's own pid. */
  get pid(): number {
    return this.#child.pid;
  }

  /** Why the server can no longer start tasks, or undefined while it can. */
  get gone(): string | undefined {
    return this.#gone;
  }

  /**
   * Starts one task. Resolves once it runs; rejects with a {@linkcode SpawnServerError} when
   * its working directory cannot be entered, no process can be made, or the server is gone.
   */
  spawn(request: ServerRequest, sink: OutputSink): Promise<ServerTask> {
    if (this.#gone) return Promise.reject(new SpawnServerError("gone", this.#gone));
    const id = this.#nextId++;
    let frame: Uint8Array;
    try {
      frame = encodeRequest(id, request);
    } catch (error) {
      return Promise.reject(error);
    }
    const waiter: Waiter = {
      sink,
      cwd: request.cwd,
      status: deferred(),
      leftovers: deferred(),
      closed: deferred(),
      exited: false,
      ended: false,
    };
    const started = new Promise<number>((resolve, reject) => waiter.started = { resolve, reject });
    this.#waiters.set(id, waiter);
    if (this.#busy++ === 0) this.#child.ref();
    this.#writer.write(frame).catch((error) => this.#fail(`spawn server: ${error}`));
    return started.then((pid) => ({
      pid,
      status: waiter.status.promise,
      leftovers: waiter.leftovers.promise,
      closed: waiter.closed.promise,
    }));
  }

  /** Closes the request pipe and waits for the server to exit (it kills tasks still running). */
  async close(): Promise<void> {
    this.#gone ??= "spawn server closed";
    await this.#writer.close().catch(() => {});
    this.#child.ref();
    await this.#reading;
    await this.#child.status;
  }

  #release(id: number, waiter: Waiter): void {
    if (!waiter.exited || !waiter.ended) return;
    this.#waiters.delete(id);
    if (--this.#busy === 0) this.#child.unref();
  }

  #fail(reason: string): void {
    this.#gone ??= reason;
    for (const [id, waiter] of this.#waiters) {
      if (waiter.started) waiter.started.reject(new SpawnServerError("gone", reason));
      else {
        // its task was killed with the server (parent-death signal): report it as SIGKILL
        if (!waiter.exited) {
          waiter.status.resolve(128 + 9);
          waiter.leftovers.resolve(true);
        }
        if (!waiter.ended) waiter.closed.resolve();
      }
      waiter.exited = waiter.ended = true;
      this.#release(id, waiter);
    }
  }

  async #read(): Promise<void> {
    let buffer = new Uint8Array(1 << 16);
    let end = 0;
    try {
      for await (const chunk of this.#child.stdout) {
        if (end + chunk.length > buffer.length) {
          const bigger = new Uint8Array(Math.max(buffer.length * 2, end + chunk.length));
          bigger.set(buffer.subarray(0, end));
          buffer = bigger;
        }
        buffer.set(chunk, end);
        end += chunk.length;
        const view = new DataView(buffer.buffer, buffer.byteOffset, end);
        let at = 0;
        while (end - at >= 4) {
          const length = view.getUint32(at, true);
          if (end - at - 4 < length) break;
          this.#dispatch(view, buffer, at + 4, length);
          at += 4 + length;
        }
        buffer.copyWithin(0, at, end);
        end -= at;
      }
      this.#fail("the spawn server exited");
    } catch (error) {
      this.#fail(`the spawn server failed: ${error}`);
    }
  }

  #dispatch(view: DataView, buffer: Uint8Array, at: number, length: number): void {
    const id = view.getUint32(at, true);
    const kind = buffer[at + 4];
    const waiter = this.#waiters.get(id);
    if (!waiter) return;
    const payload = at + 5;
    switch (kind) {
      case 0x4f: // O
      case 0x45: // E
        waiter.sink(kind === 0x4f ? "stdout" : "stderr", buffer.subarray(payload, at + length));
        return;
      case 0x53: // S
        waiter.started?.resolve(view.getInt32(payload, true));
        waiter.started = undefined;
        return;
      case 0x58: // X
        waiter.exited = true;
        waiter.status.resolve(exitCodeOf(view.getInt32(payload, true)));
        waiter.leftovers.resolve(view.getInt32(payload + 4, true) !== 0);
        return this.#release(id, waiter);
      case 0x43: // C
        waiter.ended = true;
        waiter.closed.resolve();
        return this.#release(id, waiter);
      case 0x44: // D
      case 0x46: { // F
        const errno = view.getInt32(payload, true);
        waiter.started?.reject(
          kind === 0x44
            ? new SpawnServerError(
              "workdir",
              `cannot enter the working directory ${waiter.cwd}: ${errnoText(errno)}`,
            )
            : new SpawnServerError("fork", `cannot start a process: ${errnoText(errno)}`),
        );
        waiter.started = undefined;
        waiter.exited = waiter.ended = true;
        return this.#release(id, waiter);
      }
    }
  }
}

/**
 * The spawn helper: a tiny freestanding program that gives a task its own session (`setsid`)
 * and a parent-death signal (`PR_SET_PDEATHSIG`), then execs the task, in **one** cheap exec.
 *
 * Why it exists: Deno's `Command` cannot set either in the child without giving up `vfork`
 * (its `detached` option forks the whole parent heap), and the portable way, the util-linux
 * chain `setpriv --pdeathsig KILL -- setsid <cmd>`, costs two extra dynamically linked execs
 * per task (≈ 6 ms of CPU each task on the benchmark machine, 3.5 × GNU make's whole per-task
 * cost). This helper has no libc and no dynamic loader, so its exec costs ≈ 0.5 ms.
 *
 * It is compiled from the C source below with the system's `cc` on first use (≈ 0.1–0.6 s,
 * once per machine and source version) into maestro's cache folder. Where that is not possible
 * (no C compiler, not Linux x86-64, unwritable cache, `MAESTRO_SPAWN_HELPER=off`) the runtime
 * keeps the util-linux chain: same behaviour, slower spawning.
 *
 * Invocation: `maestro-spawn PATH ARGV0 [ARG...]` execs PATH with argv `ARGV0 ARG...`, so
 * argv[0] stays as the user wrote it while the path is the one maestro resolved. Exit 127 when
 * PATH does not exist, 126 when it cannot be executed; a file without a `#!` or ELF header is
 * run by `/bin/sh`, as `execvp(3)` does.
 *
 * @module
 */
import { type CProgram, type CProgramBuild, cProgramPath, ensureCProgram } from "./c_program.ts";

/** The helper's C source (Linux x86-64, no libc: raw system calls). */
export const SPAWN_HELPER_SOURCE =
  `/* maestro-spawn: setsid + PR_SET_PDEATHSIG + exec, without libc (see spawn_helper.ts). */
static long sys3(long n, long a, long b, long c) {
  long r;
  __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
  return r;
}
static long sys5(long n, long a, long b, long c, long d, long e) {
  long r;
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8)
                   : "rcx", "r11", "memory");
  return r;
}
enum { SYS_WRITE = 1, SYS_EXECVE = 59, SYS_EXIT = 60, SYS_GETPPID = 110, SYS_SETSID = 112,
       SYS_PRCTL = 157, PR_SET_PDEATHSIG = 1, SIGKILL = 9, ENOENT = 2, ENOEXEC = 8,
       E2BIG = 7, EACCES = 13, ETXTBSY = 26, ENOTDIR = 20, ENOMEM = 12 };
static void quit(int code) { for (;;) sys3(SYS_EXIT, code, 0, 0); }
static long len(const char *s) { long n = 0; while (s[n]) n++; return n; }
static void say(const char *s) { sys3(SYS_WRITE, 2, (long)s, len(s)); }
__attribute__((used)) void start_c(long *sp) {
  int argc = (int)sp[0];
  char **argv = (char **)(sp + 1);
  char **envp = argv + argc + 1;
  if (argc < 3) { say("usage: maestro-spawn PATH ARGV0 [ARG...]\\n"); quit(127); }
  long parent = sys3(SYS_GETPPID, 0, 0, 0);
  sys5(SYS_PRCTL, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  /* maestro died before the signal was armed: nobody is left to supervise this task */
  if (sys3(SYS_GETPPID, 0, 0, 0) != parent) quit(127);
  sys3(SYS_SETSID, 0, 0, 0);
  long err = sys3(SYS_EXECVE, (long)argv[1], (long)(argv + 2), (long)envp);
  if (err == -ENOEXEC) {
    /* like execvp(3): sh PATH ARG... (ARGV0 becomes the script's own name) */
    char *shell[argc];
    shell[0] = "sh";
    shell[1] = argv[1];
    for (int i = 3; i < argc; i++) shell[i - 1] = argv[i];
    shell[argc - 1] = 0;
    err = sys3(SYS_EXECVE, (long)"/bin/sh", (long)shell, (long)envp);
  }
  say("maestro: ");
  say(argv[2]);
  say(err == -ENOENT ? ": not found\\n" : ": cannot execute: ");
  if (err != -ENOENT) {
    /* the common reasons by name (no libc here for strerror) */
    say(err == -E2BIG ? "Argument list too long\\n"
      : err == -EACCES ? "Permission denied\\n"
      : err == -ETXTBSY ? "Text file busy\\n"
      : err == -ENOTDIR ? "Not a directory\\n"
      : err == -ENOMEM ? "Cannot allocate memory\\n"
      : "error\\n");
  }
  quit(err == -ENOENT ? 127 : 126);
}
__asm__(".globl _start\\n_start:\\n mov %rsp, %rdi\\n and $-16, %rsp\\n call start_c\\n");
`;

const CC_FLAGS = [
  "-static",
  "-nostdlib",
  "-Os",
  "-s",
  "-fno-stack-protector",
  "-fno-pie",
  "-ffreestanding",
  "-fno-builtin",
];

/** The helper as a {@linkcode CProgram}: its self-test runs `sh -c "exit 7"` through it. */
export const SPAWN_HELPER: CProgram = {
  name: "maestro-spawn",
  source: SPAWN_HELPER_SOURCE,
  flags: CC_FLAGS,
  async selfTest(path) {
    const probe = await new Deno.Command(path, {
      args: ["/bin/sh", "sh", "-c", "exit 7"],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).output();
    return probe.code === 7 ? undefined : `exit ${probe.code}`;
  },
};

/** Where the helper for this source version lives (the name carries a hash of source + flags). */
export function spawnHelperPath(cacheDir: string): string {
  return cProgramPath(cacheDir, SPAWN_HELPER);
}

/** Why the helper is not used, or its path. */
export type SpawnHelper = CProgramBuild;

/**
 * Finds the compiled helper, compiling it on first use. Never throws: every failure is an
 * `unavailable` reason (shown by `--output jsonl`'s run_start and in docs), and the runtime
 * falls back to the util-linux chain.
 */
export function ensureSpawnHelper(
  env: Readonly<Record<string, string | undefined>> = Deno.env.toObject(),
): Promise<SpawnHelper> {
  if (env.MAESTRO_SPAWN_HELPER === "off") {
    return Promise.resolve({ unavailable: "MAESTRO_SPAWN_HELPER=off" });
  }
  return ensureCProgram(SPAWN_HELPER, env);
}

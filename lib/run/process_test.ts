import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LogFile } from "./log_file.ts";
import { RingBuffer, runProcess, setSpawnHelper, setSpawnServer } from "./process.ts";
import { ensureSpawnHelper } from "./spawn_helper.ts";
import { ensureSpawnServer } from "./spawn_server.ts";
import { scratchDir } from "../../tests/helpers.ts";

const env = { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" };

async function withLog(fn: (log: LogFile, path: string) => Promise<void>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "maestro-proc-"));
  const path = join(dir, "t.log");
  const log = await LogFile.create(path);
  try {
    await fn(log, path);
    await log.close();
    return await readFile(path, "utf8");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function groupAlive(pgid: number): boolean {
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[2]) === pgid && fields[0] !== "Z") return true;
    } catch { /* the process ended meanwhile */ }
  }
  return false;
}

Deno.test("a ring buffer keeps only the last items in order", () => {
  const ring = new RingBuffer<number>(3);
  for (let i = 1; i <= 7; i++) ring.push(i);
  assert.deepEqual(ring.toArray(), [5, 6, 7]);
});

Deno.test("stdout and stderr are streamed into the log, stderr prefixed, tail bounded", async () => {
  let outcome;
  const text = await withLog(async (log) => {
    outcome = await runProcess({
      argv: ["sh", "-c", "for i in 1 2 3 4 5; do echo line$i; done; echo oops >&2; exit 3"],
      cwd: "/",
      env,
      timeoutSec: 10,
      log,
      tailLines: 2,
    });
  });
  assert.equal(outcome!.exitCode, 3);
  assert.deepEqual(outcome!.stdoutTail, ["line4", "line5"]);
  assert.match(text, /line1\nline2\nline3\nline4\nline5\n/);
  assert.match(text, /\[stderr\] oops\n/);
});

// The supervision guarantees hold with the spawn server, the compiled spawn helper, and the
// util-linux chain they fall back to (where no C compiler is available).
const built = await ensureSpawnHelper();
const builtServer = await ensureSpawnServer();
const modes: Array<[string, string | undefined, string | undefined]> = [
  ["util-linux chain", undefined, undefined],
];
if ("path" in built) modes.push(["spawn helper", built.path, undefined]);
if ("path" in builtServer) modes.push(["spawn server", undefined, builtServer.path]);
for (const [mode, helper, spawnServer] of modes) {
  Deno.test(`${mode}: a timeout kills the whole process group and reports exit code 124`, async () => {
    setSpawnHelper(helper);
    setSpawnServer(spawnServer);
    let outcome;
    await withLog(async (log) => {
      outcome = await runProcess({
        argv: ["sh", "-c", "sleep 30 & sleep 30"],
        cwd: "/",
        env,
        timeoutSec: 0.3,
        graceMs: 200,
        log,
        tailLines: 5,
      });
    });
    assert.equal(outcome!.exitCode, 124);
    assert.equal(outcome!.timedOut, true);
    assert.ok(outcome!.durationSec < 5, `took ${outcome!.durationSec}s`);
    assert.equal(groupAlive(outcome!.pid), false, "a process of the group survived");
  });

  Deno.test(`${mode}: background jobs left behind by a finished task are stopped`, async () => {
    setSpawnHelper(helper);
    setSpawnServer(spawnServer);
    let outcome;
    await withLog(async (log) => {
      outcome = await runProcess({
        argv: ["sh", "-c", "sleep 30 & echo started"],
        cwd: "/",
        env,
        timeoutSec: 10,
        graceMs: 200,
        log,
        tailLines: 5,
      });
    });
    assert.equal(outcome!.exitCode, 0);
    assert.ok(outcome!.durationSec < 5);
    assert.equal(groupAlive(outcome!.pid), false);
  });

  Deno.test(`${mode}: aborting the signal cancels the process with exit code 130`, async () => {
    setSpawnHelper(helper);
    setSpawnServer(spawnServer);
    const controller = new AbortController();
    let outcome;
    await withLog(async (log) => {
      setTimeout(() => controller.abort(), 200);
      outcome = await runProcess({
        argv: ["sleep", "30"],
        cwd: "/",
        env,
        timeoutSec: 0,
        signal: controller.signal,
        log,
        tailLines: 5,
      });
    });
    assert.equal(outcome!.exitCode, 130);
    assert.equal(outcome!.cancelled, true);
  });

  Deno.test(`${mode}: output lines keep their order, a last line without newline included`, async () => {
    setSpawnHelper(helper);
    setSpawnServer(spawnServer);
    let outcome;
    const text = await withLog(async (log) => {
      outcome = await runProcess({
        argv: ["sh", "-c", "echo one; echo two >&2; sleep 0.05; printf 'thr'; printf 'ee'; exit 4"],
        cwd: "/tmp",
        env,
        timeoutSec: 10,
        log,
        tailLines: 5,
      });
    });
    assert.equal(outcome!.exitCode, 4);
    assert.deepEqual(outcome!.stdoutTail, ["one", "three"]);
    assert.equal(text, "one\n[stderr] two\nthree\n");
  });

  Deno.test(`${mode}: a missing working directory is a start failure, not a crash`, async () => {
    setSpawnHelper(helper);
    setSpawnServer(spawnServer);
    let outcome;
    const text = await withLog(async (log) => {
      outcome = await runProcess({
        argv: ["true"],
        cwd: "/no/such/dir",
        env,
        timeoutSec: 10,
        log,
        tailLines: 5,
      });
    });
    assert.equal(outcome!.exitCode, 127);
    assert.match(outcome!.spawnError ?? "", /No such .*\/no\/such\/dir|\/no\/such\/dir: No such/);
    assert.match(text, /^\[maestro\] could not start: /);
  });

  Deno.test(`${mode}: a program that does not exist exits 127`, async () => {
    setSpawnHelper(helper);
    setSpawnServer(spawnServer);
    let outcome;
    await withLog(async (log) => {
      outcome = await runProcess({
        argv: ["definitely-not-a-program-xyz"],
        cwd: "/",
        env,
        timeoutSec: 5,
        log,
        tailLines: 3,
      });
    });
    assert.equal(outcome!.exitCode, 127);
  });

  Deno.test(`${mode}: an argument list too long exits 126 and says why`, async () => {
    setSpawnHelper(helper);
    setSpawnServer(spawnServer);
    let outcome;
    const text = await withLog(async (log) => {
      outcome = await runProcess({
        argv: ["echo", "y".repeat(300_000)],
        cwd: "/",
        env,
        timeoutSec: 5,
        log,
        tailLines: 3,
      });
    });
    assert.equal(outcome!.exitCode, 126);
    assert.match(text, /Argument list too long/i);
  });
}

Deno.test("a large output is streamed with a bounded tail", async () => {
  let outcome;
  const text = await withLog(async (log) => {
    outcome = await runProcess({
      argv: ["sh", "-c", "seq 1 200000"],
      cwd: "/",
      env,
      timeoutSec: 30,
      log,
      tailLines: 3,
    });
  });
  assert.deepEqual(outcome!.stdoutTail, ["199998", "199999", "200000"]);
  assert.equal(text.split("\n").length, 200001);
});

Deno.test("one endless line reaches the log whole; the tails keep a bounded piece of it", async () => {
  const { MAX_TAIL_LINE_CHARS } = await import("./process.ts");
  let outcome;
  // 3 MiB without a newline, then a short line on stderr
  const text = await withLog(async (log) => {
    outcome = await runProcess({
      argv: ["sh", "-c", "head -c 3145728 /dev/zero | tr '\\0' y; echo; echo done >&2"],
      cwd: "/",
      env,
      timeoutSec: 30,
      log,
      tailLines: 50,
    });
  });
  assert.equal(text.split("\n")[0]!.length, 3145728);
  const tail: string[] = outcome!.stdoutTail;
  assert.ok(tail.length >= 3, "the line comes in pieces");
  for (const line of tail) {
    assert.ok(line.length < MAX_TAIL_LINE_CHARS + 100, `a tail line of ${line.length}`);
    assert.match(line, /^y+… \[\d+ more characters in the log\]$/);
  }
  assert.equal(outcome!.outputTail.at(-1), "[stderr] done");
});

Deno.test("a plain word list runs without sh, with the same env; anything else keeps sh", async () => {
  const { directCommand } = await import("./process.ts");
  const direct = directCommand("env", env, "/tmp");
  assert.deepEqual(direct?.argv, ["env"]);
  const run = async (argv: string[], childEnv: Record<string, string>) => {
    const out = await new Deno.Command(argv[0]!, {
      args: argv.slice(1),
      cwd: "/tmp",
      env: childEnv,
      clearEnv: true,
    }).output();
    return new TextDecoder().decode(out.stdout).split("\n").sort().join("\n");
  };
  assert.equal(await run(direct!.argv, direct!.env), await run(["sh", "-c", "env"], env));
  assert.deepEqual(directCommand("ls -la /tmp", env, "/")?.argv.slice(1), ["-la", "/tmp"]);
  for (
    const text of [
      "echo hi",
      "true --help",
      "false 1",
      "ls *.ts",
      "ls > out",
      "X=1 env",
      "a && b",
      "ls $HOME",
      "ls 'a b'",
      "definitely-not-a-program-xyz",
    ]
  ) {
    assert.equal(directCommand(text, env, "/"), undefined, text);
  }
  assert.equal(directCommand("env", { ...env, PWD: "/" }, "/"), undefined);
  assert.equal(directCommand("env", {}, "/"), undefined);
});

Deno.test("true and false alone run the system program, whatever PATH holds", async () => {
  const { directCommand } = await import("./process.ts");
  const dir = await scratchDir("maestro-true-");
  // a `true` earlier on PATH: dash would still run its builtin, so it must not be exec'd
  await Deno.writeTextFile(join(dir, "true"), "#!/bin/sh\nexit 3\n");
  await Deno.chmod(join(dir, "true"), 0o755);
  const shadowed = { ...env, PATH: `${dir}:${env.PATH}` };
  for (const [text, code] of [["true", 0], ["false", 1]] as const) {
    const direct = directCommand(text, shadowed, dir);
    assert.ok(direct, text);
    assert.equal(direct.argv.length, 1);
    assert.match(direct.argv[0]!, new RegExp(`^(/usr)?/bin/${text}$`));
    const out = await new Deno.Command(direct.argv[0]!, { env: direct.env, clearEnv: true })
      .output();
    const shell = await new Deno.Command("sh", {
      args: ["-c", text],
      env: shadowed,
      clearEnv: true,
    })
      .output();
    assert.equal(out.code, code);
    assert.equal(shell.code, code);
    assert.equal(out.stdout.length + out.stderr.length, 0);
  }
});

Deno.test("commandInvocation: what a run execs, and what --dry-run shows", async () => {
  const { commandInvocation } = await import("./env.ts");
  // plain word list: exec'd directly, with PWD added as sh would
  const plain = commandInvocation("env -0", undefined, env, "/tmp");
  assert.deepEqual(plain.argv, ["env", "-0"]);
  assert.equal(plain.env.PWD, Deno.realPathSync("/tmp"));
  // shell syntax or a builtin: sh -c, env untouched
  assert.deepEqual(commandInvocation("echo hi > x", undefined, env, "/").argv, [
    "sh",
    "-c",
    "echo hi > x",
  ]);
  assert.equal(commandInvocation("pwd", undefined, env, "/").env, env);
  // shell: false splits the string itself; a list runs as is unless shell: true
  assert.deepEqual(commandInvocation("env 'a b'", false, env, "/").argv, ["env", "a b"]);
  assert.deepEqual(commandInvocation(["env", "a b"], undefined, env, "/").argv, ["env", "a b"]);
  assert.deepEqual(commandInvocation(["env", "a b"], true, env, "/").argv, [
    "sh",
    "-c",
    "env 'a b'",
  ]);
});

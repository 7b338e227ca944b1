/**
 * More end-to-end tests of `maestro run` through the real CLI: group tasks run as nested DAGs,
 * several plans (one after the other, or with --parallel), approval without a terminal, and the
 * second Ctrl-C that kills at once.
 */
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CliResult, processesWith, runCli } from "../helpers.ts";

const CLI = new URL("../../cli.ts", import.meta.url).pathname;

interface Result {
  status: string;
  message: string;
  started_at: string | null;
  finished_at: string | null;
}

interface Manifest {
  success: boolean;
  task_results: Record<string, Result>;
  task_graph: Record<string, { depends_on: string[] }>;
}

function cli(args: string[]): string[] {
  return ["run", "-A", "--no-prompt", CLI, ...args];
}

/** Runs `maestro <args>` in `cwd` (stdin is not a terminal). */
function maestro(args: string[], cwd: string): Promise<CliResult> {
  return runCli(args, { cwd });
}

/** Writes the files into a temporary folder, runs `fn` in it, removes it. */
async function withFiles(
  files: Record<string, string>,
  fn: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "maestro-e2e-"));
  try {
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Run directories under `<dir>/.maestro-runs` whose name ends with `_<plan>`. */
async function runsOf(dir: string, plan: string): Promise<string[]> {
  const root = join(dir, ".maestro-runs");
  const names = (await readdir(root)).filter((n) => n.endsWith(`_${plan}`)).sort();
  return names.map((name) => join(root, name));
}

async function manifestOf(dir: string, plan: string): Promise<Manifest> {
  const [path] = await runsOf(dir, plan);
  assert.ok(path, `no run of ${plan}`);
  return JSON.parse(await readFile(join(path, "run_manifest.json"), "utf8")) as Manifest;
}

function statuses(manifest: Manifest): Record<string, string> {
  return Object.fromEntries(Object.entries(manifest.task_results).map(([k, v]) => [k, v.status]));
}

const SUB_OK = `name: sub
tasks:
  - id: a
    command: echo inner-a
  - id: b
    depends_on: [a]
    command: echo "b saw {{ a.stdout_tail }} as {{ task_id }}"
`;

Deno.test("a group task runs its sub-plan as namespaced tasks and its dependents wait for it", async () => {
  await withFiles({
    "sub.yaml": SUB_OK,
    "plan.yaml": `name: parent
max_parallel: 1
tasks:
  - id: prep
    command: echo prep
  - id: build
    depends_on: [prep]
    group: sub.yaml
  - id: after
    depends_on: [build]
    command: echo "build was {{ build.status }}"
`,
  }, async (dir) => {
    const run = await maestro(["run", "plan.yaml"], dir);
    assert.equal(run.code, 0, run.stderr + run.stdout);
    const manifest = await manifestOf(dir, "parent");
    assert.deepEqual(Object.keys(manifest.task_results), [
      "prep",
      "build",
      "build/a",
      "build/b",
      "after",
    ]);
    assert.deepEqual(new Set(Object.values(statuses(manifest))), new Set(["success"]));
    assert.deepEqual(manifest.task_graph["build/b"]!.depends_on, ["build/a"]);
    const r = manifest.task_results;
    // dependents of the group start only after every inner task finished
    assert.ok(r["after"]!.started_at! >= r["build/b"]!.finished_at!);
    assert.ok(r["build/a"]!.started_at! >= r["prep"]!.finished_at!);
    const [path] = await runsOf(dir, "parent");
    const files = await readdir(path!);
    for (const f of ["build__a.log", "build__b.result.json", "build.result.json"]) {
      assert.ok(files.includes(f), f);
    }
    const log = await readFile(join(path!, "build__b.log"), "utf8");
    assert.match(log, /^b saw inner-a as build\/b$/m, "templates use the sub-plan's names");
    const events = (await readFile(join(path!, "events.jsonl"), "utf8")).trim().split("\n")
      .map((l) => JSON.parse(l) as { event: string; task_id?: string });
    const started = events.filter((e) => e.event === "task_start").map((e) => e.task_id);
    assert.deepEqual(started, ["prep", "build", "build/a", "build/b", "after"]);
    assert.equal((await maestro(["verify", path!], dir)).code, 0);
  });
});

Deno.test("a failing inner task fails its group, skips the group's dependents and exits 1", async () => {
  await withFiles({
    "sub.yaml": `name: sub
tasks:
  - id: ok
    command: "true"
  - id: bad
    depends_on: [ok]
    command: exit 4
  - id: never
    depends_on: [bad]
    command: echo never
`,
    "plan.yaml": `name: parent
fail_fast: false
tasks:
  - id: grp
    group: sub.yaml
  - id: after
    depends_on: [grp]
    command: echo after
  - id: free
    command: echo free
`,
  }, async (dir) => {
    const run = await maestro(["run", "plan.yaml"], dir);
    assert.equal(run.code, 1, run.stderr + run.stdout);
    const manifest = await manifestOf(dir, "parent");
    assert.deepEqual(statuses(manifest), {
      grp: "failed",
      "grp/ok": "success",
      "grp/bad": "failed",
      "grp/never": "skipped",
      after: "skipped",
      free: "success",
    });
    assert.equal(manifest.task_results.grp!.message, "Inner task failed: grp/bad");
    assert.match(manifest.task_results.after!.message, /dependency failed: grp/);
  });
});

Deno.test("a skipped group (failed dependency) skips every inner task without running it", async () => {
  await withFiles({
    "sub.yaml": SUB_OK,
    "plan.yaml": `name: parent
tasks:
  - id: first
    command: exit 1
  - id: grp
    depends_on: [first]
    group: sub.yaml
`,
  }, async (dir) => {
    const run = await maestro(["run", "plan.yaml"], dir);
    assert.equal(run.code, 1);
    const manifest = await manifestOf(dir, "parent");
    assert.deepEqual(statuses(manifest), {
      first: "failed",
      grp: "skipped",
      "grp/a": "skipped",
      "grp/b": "skipped",
    });
    const [path] = await runsOf(dir, "parent");
    assert.ok(!(await readdir(path!)).some((f) => f.startsWith("grp__") && f.endsWith(".log")));
  });
});

Deno.test("the parent's max_parallel and fail_fast apply to the tasks inside a group", async () => {
  await withFiles({
    "sub.yaml": `name: sub
max_parallel: 8
fail_fast: false
tasks:
  - id: x
    command: sleep 0.3
  - id: y
    command: sleep 0.3
  - id: boom
    depends_on: [x, y]
    command: exit 2
  - id: z
    depends_on: [x, y]
    command: "true"
`,
    "plan.yaml": `name: parent
max_parallel: 1
tasks:
  - id: grp
    group: sub.yaml
  - id: tail
    command: echo tail
`,
  }, async (dir) => {
    const run = await maestro(["run", "plan.yaml"], dir);
    assert.equal(run.code, 1);
    const manifest = await manifestOf(dir, "parent");
    const r = manifest.task_results;
    // max_parallel 1 from the parent, not 8 from the sub-plan
    assert.ok(r["grp/y"]!.started_at! >= r["grp/x"]!.finished_at!);
    // fail_fast from the parent, not false from the sub-plan
    assert.equal(r["grp/boom"]!.status, "failed");
    assert.equal(r["grp/z"]!.message, "fail_fast triggered by task 'grp/boom'");
    assert.equal(r["tail"]!.message, "fail_fast triggered by task 'grp/boom'");
    assert.equal(r["grp"]!.status, "failed");
  });
});

const planWith = (name: string, command: string) =>
  `name: ${name}\ntasks:\n  - id: work\n    command: "${command}"\n`;

/** Whether the `work` tasks of two plans' runs overlapped in time. */
async function overlapped(dir: string): Promise<boolean> {
  const a = (await manifestOf(dir, "one")).task_results.work!;
  const b = (await manifestOf(dir, "two")).task_results.work!;
  return a.started_at! < b.finished_at! && b.started_at! < a.finished_at!;
}

Deno.test("several plans run one after the other by default and at once with --parallel", async () => {
  await withFiles({
    "one.yaml": planWith("one", "sleep 0.6"),
    "two.yaml": planWith("two", "sleep 0.6"),
  }, async (dir) => {
    const sequential = await maestro(["run", "one.yaml", "two.yaml"], dir);
    assert.equal(sequential.code, 0, sequential.stderr);
    assert.equal(await overlapped(dir), false);
    assert.match(sequential.stdout, /plan one[\s\S]*SUCCESS[\s\S]*plan two[\s\S]*SUCCESS/);
    await rm(join(dir, ".maestro-runs"), { recursive: true });

    const parallel = await maestro(["run", "one.yaml", "two.yaml", "--parallel"], dir);
    assert.equal(parallel.code, 0, parallel.stderr);
    assert.equal(await overlapped(dir), true);
  });
});

Deno.test("with several plans one failure makes the exit code 1, in order or in parallel", async () => {
  await withFiles({
    "one.yaml": planWith("one", "exit 3"),
    "two.yaml": planWith("two", "echo fine"),
  }, async (dir) => {
    for (const extra of [[], ["--parallel"]]) {
      const run = await maestro(["run", "one.yaml", "two.yaml", ...extra], dir);
      assert.equal(run.code, 1, `${extra.join(" ")}: ${run.stderr}`);
      // the failure of the first plan does not stop the second one
      assert.equal((await manifestOf(dir, "two")).success, true);
      await rm(join(dir, ".maestro-runs"), { recursive: true });
    }
  });
});

Deno.test("requires_approval is denied when stdin is not a terminal, and dependents still run", async () => {
  await withFiles({
    "plan.yaml": `name: gated
tasks:
  - id: gate
    requires_approval: true
    command: echo should-not-run
  - id: after
    depends_on: [gate]
    command: echo after
`,
  }, async (dir) => {
    const run = await maestro(["run", "plan.yaml", "--output", "jsonl"], dir);
    assert.equal(run.code, 0, run.stderr);
    const events = run.stdout.trim().split("\n").map((l) => JSON.parse(l));
    const response = events.find((e) => e.event === "approval_response");
    assert.deepEqual([response.approved, response.by], [false, "non_interactive"]);
    const manifest = await manifestOf(dir, "gated");
    assert.equal(manifest.task_results.gate!.status, "skipped");
    assert.equal(manifest.task_results.gate!.message, "Approval denied or non-interactive");
    assert.equal(manifest.task_results.after!.status, "success");
    assert.ok(!run.stdout.includes("should-not-run"));
  });
});

async function until(check: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return check();
}

Deno.test("a second SIGINT kills a task that ignores SIGTERM at once and exits 130", async () => {
  const marker = `maestro-e2e-twice-${crypto.randomUUID().slice(0, 8)}`;
  await withFiles({
    "plan.yaml": `name: stubborn
defaults:
  env:
    E2E_MARK: ${marker}
tasks:
  - id: stubborn
    command: "trap '' TERM; sleep 30"
`,
  }, async (dir) => {
    const child = new Deno.Command(Deno.execPath(), {
      args: cli(["run", "plan.yaml"]),
      cwd: dir,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    assert.ok(await until(() => processesWith(marker).length >= 2, 8000), "task never started");
    Deno.kill(child.pid, "SIGINT");
    await new Promise((r) => setTimeout(r, 300));
    // the first signal's grace period (2 s) is still running: the task ignored SIGTERM
    assert.ok(processesWith(marker).length > 0);
    const second = Date.now();
    Deno.kill(child.pid, "SIGINT");
    const out = await child.output();
    const took = Date.now() - second;
    assert.equal(out.code, 130);
    assert.ok(took < 1500, `exited ${took} ms after the second SIGINT`);
    assert.ok(await until(() => processesWith(marker).length === 0, 1000), "a process is left");
    assert.match(new TextDecoder().decode(out.stderr), /cancelling/);
  });
});

Deno.test("--dry-run shows the argv a run would exec: direct for plain commands, sh -c otherwise", async () => {
  await withFiles({
    "plan.yaml": `name: dry
tasks:
  - id: plain
    command: env -0
  - id: shelly
    command: echo "a b" > out.txt
  - id: builtin
    command: pwd
  - id: truthy
    command: "true"
  - id: listed
    command: [printf, "%s", x y]
`,
  }, async (dir) => {
    const run = await maestro(["run", "plan.yaml", "--dry-run", "--output", "jsonl"], dir);
    assert.equal(run.code, 0, run.stderr);
    const argv = Object.fromEntries(
      run.stdout.trim().split("\n").map((line) => JSON.parse(line))
        .filter((e) => e.event === "dry_run_task").map((e) => [e.task_id, e.argv]),
    );
    assert.deepEqual(argv, {
      plain: ["env", "-0"],
      shelly: ["sh", "-c", `echo "a b" > out.txt`],
      builtin: ["sh", "-c", "pwd"],
      truthy: [Deno.statSync("/usr/bin/true").isFile ? "/usr/bin/true" : "/bin/true"],
      listed: ["printf", "%s", "x y"],
    });
  });
});

Deno.test("a dry run shows the argv the engine adapter would run, per execution profile", async () => {
  await withFiles({
    "plan.yaml": `name: dry
goal: Ship it
tasks:
  - id: ask
    engine: claude
    model: sonnet
    prompt: "Say hi"
  - id: later
    engine: claude
    prompt_file: missing.md
  - id: gem
    engine: gemini
    prompt: hi
`,
  }, async (dir) => {
    const events = async (profile: string) => {
      const run = await maestro(
        ["run", "plan.yaml", "--dry-run", "--output", "jsonl", "--execution-profile", profile],
        dir,
      );
      assert.equal(run.code, 0, run.stderr);
      const lines = run.stdout.trim().split("\n").map((l) => JSON.parse(l));
      return new Map(
        lines.filter((e) => e.event === "dry_run_task").map((e) => [e.task_id as string, e]),
      );
    };
    const plan = await events("plan");
    const ask = plan.get("ask")!;
    assert.equal(ask.argv[0], "claude");
    assert.ok(ask.argv.includes("stream-json"));
    assert.equal(ask.argv.at(-1), "Goal: Ship it\n\nSay hi");
    assert.ok(!ask.argv.includes("--dangerously-skip-permissions"));
    assert.match(plan.get("later")!.command, /^<E100 /);
    assert.equal(plan.get("gem")!.argv[0], "gemini");
    assert.equal(plan.get("gem")!.argv.at(-1), "--prompt=Goal: Ship it\n\nhi");
    const yolo = await events("yolo");
    assert.ok(yolo.get("ask")!.argv.includes("--dangerously-skip-permissions"));
    assert.equal(
      (await maestro(["run", "plan.yaml", "--dry-run", "--execution-profile", "wild"], dir)).code,
      2,
    );
  });
});

Deno.test("--resume-last never re-runs a reused task, and --only never runs a left-out one", async () => {
  await withFiles({
    "chain.yaml": `name: chain
tasks:
  - id: a
    command: echo a >> count.txt
  - id: b
    depends_on: [a]
    command: echo b >> count.txt
  - id: c
    depends_on: [b]
    command: test -f ok.txt
`,
    "pick.yaml": `name: pick
max_parallel: 2
tasks:
  - id: build
    command: sleep 0.3
  - id: migrate
    command: echo migrate > migrated.txt
  - id: deploy
    depends_on: [migrate]
    command: echo deploy > deployed.txt
`,
  }, async (dir) => {
    assert.equal((await maestro(["run", "chain.yaml"], dir)).code, 1);
    await writeFile(join(dir, "ok.txt"), "");
    const resumed = await maestro(["run", "chain.yaml", "--resume-last"], dir);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal(await readFile(join(dir, "count.txt"), "utf8"), "a\nb\n");

    const picked = await maestro(["run", "pick.yaml", "--only", "build"], dir);
    assert.equal(picked.code, 0, picked.stderr);
    const names = await readdir(dir);
    assert.equal(names.includes("deployed.txt") || names.includes("migrated.txt"), false);
    assert.deepEqual(statuses(await manifestOf(dir, "pick")), {
      build: "success",
      migrate: "skipped",
      deploy: "skipped",
    });
  });
});

Deno.test("usage problems of a run are found before anything runs, with codes and hints", async () => {
  await withFiles({
    "rs.yaml": `name: rs\ntasks:\n  - id: a\n    command: echo a > ran-rs.txt\n`,
    "other.yaml": `name: other\ntasks:\n  - id: a\n    command: echo a\n    tags: [x]\n`,
    "afile": "",
  }, async (dir) => {
    assert.equal((await maestro(["run", "other.yaml"], dir)).code, 0);
    const [otherRun] = await runsOf(dir, "other");
    const cases: Array<[string[], RegExp]> = [
      [["run", "rs.yaml", "--resume", otherRun!], /E115 .* a run of plan "other", not of "rs"/],
      [["run", "rs.yaml", "--resume", join(dir, "nope")], /E113 .* is not a run directory/],
      [["run", "other.yaml", "--tags", "y"], /E110 --tags: no task has the tag "y"\n\s+hint: .*x/],
      [["run", "other.yaml", "--skip-tags", "y"], /E110 --skip-tags: no task has the tag "y"/],
      [["run", "other.yaml", "--only", ","], /E111 --only needs at least one name/],
      [["run", "other.yaml", "--run-dir", "afile"], /E116 cannot create a run directory under/],
      // the second plan's problem stops the first before it starts
      [["run", "rs.yaml", "other.yaml", "--only", "a", "--tags", "x", "--parallel"], /E110 --tags/],
    ];
    for (const [args, message] of cases) {
      const run = await maestro(args, dir);
      assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
      assert.match(run.stderr, message);
      assert.doesNotMatch(run.stderr, /internal error|\n\s+at /);
    }
    assert.equal((await readdir(dir)).includes("ran-rs.txt"), false);
  });
});

Deno.test("no part of a secret reaches the run directory: cut tails, group sub-plans, PEM keys", async () => {
  const token = "s3cr3tVALUE99zz";
  const subToken = "subS3cretValue77";
  const impToken = "impS3cretValue55";
  const pem = "-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcw\n-----END KEY-----\n";
  await withFiles({
    "sub.yaml": `name: sub
secrets: [SUB_TOKEN]
tasks:
  - id: leak
    command: echo "sub token $SUB_TOKEN"
    env: { SUB_TOKEN: ${subToken} }
`,
    "imp.yaml": `name: imp
defaults:
  secrets: [IMP_TOKEN]
tasks:
  - id: leak
    command: echo "imp token $IMP_TOKEN"
    env: { IMP_TOKEN: ${impToken} }
`,
    "plan.yaml": `name: leak
fail_fast: false
imports: [{ path: imp.yaml, prefix: imp }]
secrets: [MY_TOKEN, MY_KEY]
defaults:
  env:
    MY_TOKEN: ${token}
    MY_KEY: ${JSON.stringify(pem)}
tasks:
  - id: v
    command: echo hi
    verify_command: 'printf "A%s" "$MY_TOKEN"; printf "%0288d" 0; exit 1'
  - id: key
    command: 'echo "key follows"; printf "%s" "$MY_KEY"'
  - id: g
    group: sub.yaml
`,
  }, async (dir) => {
    const run = await maestro(["run", "plan.yaml", "--output", "text"], dir);
    assert.equal(run.code, 1, run.stderr);
    const [runDir] = await runsOf(dir, "leak");
    const texts = [run.stdout, run.stderr];
    for (const name of await readdir(runDir!)) {
      texts.push(await readFile(join(runDir!, name), "utf8"));
    }
    const all = texts.join("\n");
    // any 6 characters in a row of a secret would be a leak
    for (const secret of [token, subToken, impToken, "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcw"]) {
      for (let i = 0; i + 6 <= secret.length; i++) {
        assert.equal(all.includes(secret.slice(i, i + 6)), false, `${secret.slice(i, i + 6)}`);
      }
    }
    assert.match(all, /sub token \*\*\*/);
    assert.match(all, /imp token \*\*\*/);
  });
});

Deno.test("--resume-last takes a run of this very plan, and never one that is still running", async () => {
  await withFiles({
    "deploy.yaml": `name: deploy
tasks:
  - id: migrate
    command: "echo deploy >> ran.txt; exit 1"
  - id: release
    depends_on: [migrate]
    command: "echo release >> ran.txt"
`,
    "prod.yaml": `name: prod_deploy\ntasks:\n  - id: migrate\n    command: echo prod >> ran.txt\n`,
    "live.yaml": `name: live\ntasks:\n  - id: long\n    command: sleep 30\n`,
  }, async (dir) => {
    assert.equal((await maestro(["run", "deploy.yaml"], dir)).code, 1);
    assert.equal((await maestro(["run", "prod.yaml"], dir)).code, 0);
    // "prod_deploy" ends like "deploy": its run must not be taken for deploy's
    const resumed = await maestro(["run", "deploy.yaml", "--resume-last"], dir);
    assert.equal(resumed.code, 1, resumed.stderr);
    assert.equal(await readFile(join(dir, "ran.txt"), "utf8"), "deploy\nprod\ndeploy\n");

    const first = new Deno.Command(Deno.execPath(), {
      args: cli(["run", "live.yaml"]),
      cwd: dir,
      stdout: "null",
      stderr: "null",
    }).spawn();
    try {
      assert.ok(
        await until(() => {
          try {
            return Deno.readDirSync(join(dir, ".maestro-runs")).some((e) =>
              e.name.endsWith("_live")
            );
          } catch {
            return false;
          }
        }, 10_000),
      );
      await new Promise((r) => setTimeout(r, 500));
      const second = await maestro(["run", "live.yaml", "--resume-last"], dir);
      assert.equal(second.code, 2, second.stderr);
      assert.match(second.stderr, /E117 .* is still running/);
    } finally {
      first.kill("SIGINT");
      await first.status;
    }
  });
});

Deno.test("a daemon a task starts with setsid neither holds the task up nor outlives the run", async () => {
  const marker = `maestro-daemon-${crypto.randomUUID().slice(0, 8)}`;
  await withFiles({
    "plan.yaml": `name: daemon
tasks:
  - id: held
    timeout_sec: 2
    command: "setsid -f sh -c 'sleep 60 # ${marker}'; echo started"
  - id: quiet
    command: "setsid -f sh -c 'sleep 60 # ${marker}' >/dev/null 2>&1 </dev/null; echo started"
  - id: after
    depends_on: [held]
    command: echo after
`,
  }, async (dir) => {
    const started = performance.now();
    const run = await maestro(["run", "plan.yaml", "--no-store", "--output", "text"], dir);
    // the daemon holds held's output: 1 s more, not 60 (nor its 2 s timeout as a failure)
    assert.ok(performance.now() - started < 20_000);
    assert.equal(run.code, 0, run.stderr + run.stdout);
    assert.match(run.stderr + run.stdout, /stopped process group \d+ left by held/);
    assert.match(run.stderr + run.stdout, /stopped process group \d+ left by quiet/);
    assert.deepEqual(processesWith(marker), []);
    const [path] = await runsOf(dir, "daemon");
    const log = await readFile(join(path!, "held.log"), "utf8");
    assert.match(log, /^started$/m);
    assert.match(log, /still holds its output open/);
  });
});

/** Whether a small tmpfs can be mounted here (root, CI); elsewhere no disk can be filled safely. */
function canMountTmpfs(): boolean {
  if (Deno.uid() !== 0) return false;
  const dir = Deno.makeTempDirSync();
  try {
    const mount = new Deno.Command("mount", {
      args: ["-t", "tmpfs", "-o", "size=64k", "tmpfs", dir],
      stderr: "null",
    }).outputSync();
    if (mount.success) new Deno.Command("umount", { args: [dir] }).outputSync();
    return mount.success;
  } catch {
    return false;
  } finally {
    Deno.removeSync(dir);
  }
}

Deno.test({
  name: "a full disk ends the run with E118 and a hint, not a crash",
  ignore: !canMountTmpfs(),
  fn: async () => {
    await withFiles({
      "plan.yaml": `name: full
tasks:
  - id: big
    command: "yes 0123456789abcdef | head -c 400000; echo"
  - id: after
    depends_on: [big]
    command: echo after
`,
    }, async (dir) => {
      const small = join(dir, "small");
      await Deno.mkdir(small);
      const mount = await new Deno.Command("mount", {
        args: ["-t", "tmpfs", "-o", "size=256k", "tmpfs", small],
        stderr: "piped",
      }).output();
      assert.ok(mount.success, new TextDecoder().decode(mount.stderr));
      try {
        const run = await maestro(["run", "plan.yaml", "--run-dir", small, "--no-store"], dir);
        assert.equal(run.code, 1, run.stderr);
        assert.match(run.stderr, /maestro: E118 cannot write .*big\.result\.json: No space left/);
        assert.match(run.stderr, /hint: free some space/);
        assert.doesNotMatch(run.stderr, /Uncaught|internal error|^\s+at /m);
      } finally {
        await new Deno.Command("umount", { args: [small] }).output();
      }
    });
  },
});

Deno.test("resuming a run whose events.jsonl ends mid-line says the line is ignored", async () => {
  await withFiles({
    "plan.yaml": "name: cut\ntasks:\n  - { id: a, command: 'echo a' }\n" +
      "  - { id: b, command: 'echo b', depends_on: [a] }\n",
  }, async (dir) => {
    const first = await maestro(["run", "plan.yaml", "--no-store"], dir);
    assert.equal(first.code, 0, first.stderr);
    const [path] = await runsOf(dir, "cut");
    await rm(join(path!, "run_manifest.json"));
    await rm(join(path!, "run_summary.md"));
    // killed while writing b's task_complete: keep half of that line
    const events = await readFile(join(path!, "events.jsonl"), "utf8");
    const lines = events.trimEnd().split("\n");
    const last = lines.findLastIndex((l) => l.includes('"task_complete"') && l.includes('"b"'));
    const kept = lines.slice(0, last).join("\n") + "\n" + lines[last]!.slice(0, 40);
    await writeFile(join(path!, "events.jsonl"), kept);
    const resumed = await maestro(["run", "plan.yaml", "--no-store", "--resume-last"], dir);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stderr + resumed.stdout, /events\.jsonl was cut off .*; it is ignored/);
  });
});

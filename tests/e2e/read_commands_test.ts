/**
 * End-to-end tests of `maestro diff`, `maestro blame` and `maestro cleanup` (and how `<run>`
 * arguments resolve), through the real CLI on real runs of small shell plans, with a real
 * libSQL store.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type CliResult, ROOT, runCli, tempPlanDir } from "../helpers.ts";
import { openStore } from "../../lib/store/store.ts";

function maestro(args: string[], cwd: string): Promise<CliResult> {
  return runCli(args, { cwd });
}

async function json<T>(args: string[], cwd: string, code = 0): Promise<T> {
  const result = await maestro([...args, "--json"], cwd);
  assert.equal(result.code, code, `${args.join(" ")}: ${result.stderr}${result.stdout}`);
  return JSON.parse(result.stdout) as T;
}

function runDirs(dir: string): string[] {
  const root = join(dir, ".maestro-runs");
  return existsSync(root) ? readdirSync(root).sort() : [];
}

async function withDir(files: Record<string, string>, fn: (dir: string) => Promise<void>) {
  const dir = tempPlanDir(files);
  try {
    await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// `mode` and `delay` come from --set: the same plan can pass, fail, or slow down
const TOGGLE = `name: toggle
max_parallel: 2
fail_fast: false
tasks:
  - id: build
    command: "echo building"
  - id: test
    depends_on: [build]
    command: "sh -c 'test {{ mode }} = ok || { echo \\"assertion failed: 2 != 3\\" >&2; exit 3; }'"
  - id: slow
    command: "sleep {{ delay }}"
  - id: package
    depends_on: [test]
    command: "echo packaged"
`;

interface DiffJson {
  a: { run_id: string };
  b: { run_id: string };
  tasks: { task_id: string; change: string; regressions: string[]; fixed: boolean }[];
  counts: Record<string, number>;
  regressions: { task_id: string; kinds: string[]; detail: string }[];
}

Deno.test("maestro diff exits 1 on a status or duration regression, 0 otherwise", async () => {
  await withDir({ "plan.yaml": TOGGLE }, async (dir) => {
    const run = (mode: string, delay: string) =>
      maestro(["run", "plan.yaml", "--set", `mode=${mode}`, "--set", `delay=${delay}`], dir);
    assert.equal((await run("ok", "0")).code, 0);
    assert.equal((await run("bad", "0")).code, 1);
    assert.equal((await run("ok", "1.6")).code, 0);

    // run 1 → run 2: test succeeded, then failed; package was skipped because of it
    const worse = await json<DiffJson>(["diff", "last~2", "last~1"], dir, 1);
    assert.deepEqual(worse.regressions.map((r) => [r.task_id, r.kinds]), [["test", ["status"]]]);
    assert.match(worse.regressions[0]!.detail, /success → failed: Task failed with exit code 3/);
    const pkg = worse.tasks.find((t) => t.task_id === "package")!;
    assert.equal(pkg.change, "changed");
    assert.deepEqual(pkg.regressions, [], "a skip caused by a failure is not a regression itself");
    const text = await maestro(["diff", "last~2", "last~1"], dir);
    assert.equal(text.code, 1);
    assert.match(text.stdout, /^test\s+success\s+failed\s+.*REGRESSION status$/m);
    assert.match(text.stdout, /✖ 1 regression, 0 fixed, 2 changed, 0 added, 0 removed/);

    // run 2 → run 3: test fixed, slow took 1.6 s instead of ~0 s: a duration regression
    const mixed = await json<DiffJson>(["diff", "last~1", "last"], dir, 1);
    assert.deepEqual(mixed.regressions.map((r) => [r.task_id, r.kinds]), [["slow", ["duration"]]]);
    assert.ok(mixed.tasks.find((t) => t.task_id === "test")!.fixed);
    // a higher threshold makes the slowdown acceptable: exit 0
    const lenient = await json<DiffJson>(
      ["diff", "last~1", "last", "--duration-threshold", "1000000"],
      dir,
      0,
    );
    assert.equal(lenient.counts.regressions, 0);
    assert.equal(lenient.counts.fixed, 1);

    // a run against itself, by directory and by id prefix: no change at all
    const [first] = runDirs(dir);
    const same = await json<DiffJson>(
      ["diff", join(".maestro-runs", first!), first!.slice(0, 22)],
      dir,
      0,
    );
    assert.equal(same.counts.unchanged, 4);
    assert.equal(same.a.run_id, same.b.run_id);

    const bad = await maestro(["diff", "last", "last", "--cost-threshold", "-5"], dir);
    assert.equal(bad.code, 2);
  });
});

Deno.test("maestro diff shows added and removed tasks; a new task that fails is a regression", async () => {
  const other = `name: toggle
tasks:
  - id: build
    command: "echo building"
  - id: lint
    command: "exit 1"
`;
  await withDir({ "plan.yaml": TOGGLE, "plan2.yaml": other }, async (dir) => {
    await maestro(["run", "plan.yaml", "--set", "mode=ok", "--set", "delay=0"], dir);
    await maestro(["run", "plan2.yaml"], dir);
    const diff = await json<DiffJson>(["diff", "last~1", "last", "--plan", "toggle"], dir, 1);
    const change = Object.fromEntries(diff.tasks.map((t) => [t.task_id, t.change]));
    assert.deepEqual(change, {
      build: "unchanged",
      test: "removed",
      slow: "removed",
      package: "removed",
      lint: "added",
    });
    assert.deepEqual(diff.regressions.map((r) => r.task_id), ["lint"]);
  });
});

const CHAIN = `name: chain
max_parallel: 2
fail_fast: false
tasks:
  - id: fetch
    command: "echo fetched"
  - id: compile
    depends_on: [fetch]
    command: "echo compiling; echo 'src/main.c:3: error: expected ; before }' >&2; exit 2"
  - id: unit
    depends_on: [compile]
    command: "echo unit"
  - id: e2e
    depends_on: [unit, fetch]
    command: "echo e2e"
  - id: docs
    depends_on: [fetch]
    command: "echo docs"
  - id: optional
    depends_on: [fetch]
    when: "{{ fetch.status }} == failed"
    command: "echo only after a failure"
  - id: flaky-lint
    command: "echo 'warning: unused variable' >&2; exit 1"
    allow_failure: true
  - id: timeout
    command: "echo starting; sleep 5"
    timeout_sec: 1
  - id: report
    depends_on: [timeout, docs]
    command: "echo report"
`;

interface BlameJson {
  run: { run_id: string; status: string };
  root_causes: {
    task_id: string;
    exit_code: number | null;
    error_lines: string[];
    affected: string[];
    log_path: string | null;
  }[];
  affected: { task_id: string; status: string; caused_by: string[]; via: string[] }[];
  soft_failed: { task_id: string; error_lines: string[] }[];
}

Deno.test("maestro blame separates root causes from the tasks that were only skipped because of them", async () => {
  await withDir({ "plan.yaml": CHAIN }, async (dir) => {
    assert.equal((await maestro(["run", "plan.yaml"], dir)).code, 1);
    const blame = await json<BlameJson>(["blame", "last"], dir, 1);
    assert.equal(blame.run.status, "failed");
    assert.deepEqual(blame.root_causes.map((r) => r.task_id), ["compile", "timeout"]);
    const compile = blame.root_causes[0]!;
    assert.equal(compile.exit_code, 2);
    assert.deepEqual(compile.error_lines, ["src/main.c:3: error: expected ; before }"]);
    assert.deepEqual(compile.affected, ["unit", "e2e"]);
    assert.ok(compile.log_path?.endsWith("compile.log"));
    const timeout = blame.root_causes[1]!;
    assert.equal(timeout.exit_code, 124);
    assert.deepEqual(timeout.affected, ["report"]);
    // e2e is blamed on compile through unit (a skip of a skip); a condition skip is no failure
    assert.deepEqual(
      blame.affected.map((a) => [a.task_id, a.status, a.caused_by, a.via]),
      [
        ["unit", "skipped", ["compile"], ["compile"]],
        ["e2e", "skipped", ["compile"], ["unit"]],
        ["report", "skipped", ["timeout"], ["timeout"]],
      ],
    );
    assert.deepEqual(blame.soft_failed.map((s) => [s.task_id, s.error_lines]), [
      ["flaky-lint", ["warning: unused variable"]],
    ]);

    const text = await maestro(["blame", "last"], dir);
    assert.equal(text.code, 1);
    assert.match(text.stdout, /✗ compile failed \(exit 2, 1 attempt, exit_code, /);
    assert.match(text.stdout, /│ src\/main\.c:3: error: expected ; before }/);
    assert.match(text.stdout, /took down 2: unit \(skipped\), e2e \(skipped\)/);
    assert.match(text.stdout, /2 root causes, 3 tasks affected/);
    assert.doesNotMatch(text.stdout, /optional|docs/);
  });
});

Deno.test("maestro blame follows fail_fast to its cause, and exits 0 when nothing failed", async () => {
  const plan = `name: ff
max_parallel: 1
tasks:
  - id: first
    command: "echo 'FATAL: disk full' >&2; exit 1"
  - id: second
    command: "echo second"
  - id: third
    depends_on: [second]
    command: "echo third"
`;
  await withDir({
    "plan.yaml": plan,
    "ok.yaml": "name: fine\ntasks:\n  - id: a\n    command: 'true'\n",
  }, async (dir) => {
    await maestro(["run", "plan.yaml"], dir);
    const blame = await json<BlameJson>(["blame", "last", "--plan", "ff"], dir, 1);
    assert.deepEqual(blame.root_causes.map((r) => [r.task_id, r.error_lines]), [
      ["first", ["FATAL: disk full"]],
    ]);
    assert.deepEqual(blame.affected.map((a) => [a.task_id, a.caused_by]), [
      ["second", ["first"]],
      ["third", ["first"]],
    ]);
    await maestro(["run", "ok.yaml"], dir);
    const ok = await maestro(["blame", "last"], dir);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /✓ no task failed/);
  });
});

Deno.test("<run> arguments: directories, ids, prefixes, last~N, without a store, and clear errors", async () => {
  const plan = "name: refs\ntasks:\n  - id: a\n    command: 'true'\n";
  await withDir({ "plan.yaml": plan }, async (dir) => {
    await maestro(["run", "plan.yaml"], dir);
    await maestro(["run", "plan.yaml", "--no-store"], dir);
    const [older, newer] = runDirs(dir);
    const id = (name: string) => name.slice(0, 29);
    const runOf = async (ref: string) => (await json<BlameJson>(["blame", ref], dir, 0)).run.run_id;
    assert.equal(await runOf(id(older!)), id(older!));
    assert.equal(await runOf(older!), id(older!), "a run directory's name");
    assert.equal(await runOf(join(".maestro-runs", newer!)), id(newer!));
    // the store does not know the --no-store run: found in .maestro-runs by name
    assert.equal(await runOf(id(newer!).slice(0, 25)), id(newer!));
    // last = newest in the store (the --no-store run is not in it)
    assert.equal(await runOf("last"), id(older!));

    const missing = await maestro(["blame", "20991231_000000"], dir);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /E140 no run "20991231_000000"/);
    const tooFar = await maestro(["report", "last~5"], dir);
    assert.equal(tooFar.code, 2);
    const notRun = await maestro(["blame", ROOT], dir);
    assert.equal(notRun.code, 2);
    assert.match(notRun.stderr, /E113 .* is not a run directory/);
    // a file, such as the plan itself, is not said to be missing
    const aFile = await maestro(["blame", "./plan.yaml"], dir);
    assert.equal(aFile.code, 2);
    assert.match(aFile.stderr, /E113 \.\/plan\.yaml is not a run directory \(it is a file\)/);
    // no store at all: .maestro-runs in the current folder is searched
    rmSync(join(dir, ".maestro"), { recursive: true });
    assert.equal(await runOf("last"), id(newer!));
    assert.equal(await runOf("last~1"), id(older!));
    // a prefix both names share is ambiguous
    let common = 0;
    while (older![common] === newer![common]) common++;
    const ambiguous = await maestro(["blame", older!.slice(0, common)], dir);
    assert.equal(ambiguous.code, 2);
    assert.match(ambiguous.stderr, /E141 run ".*" is ambiguous: /);
  });
});

interface CleanupJson {
  dry_run: boolean;
  deleted: { run_id: string; run_dir: string; bytes: number; dir_missing: boolean }[];
  kept: { run_id: string; reason: string }[];
  problems: string[];
}

interface RunsJson {
  runs: { run_id: string; run_dir: string; plan_name: string }[];
}

Deno.test("maestro cleanup keeps the newest N per plan, and --dry-run deletes nothing", async () => {
  const quick = "name: quick\ntasks:\n  - id: a\n    command: 'true'\n";
  const other = "name: other\ntasks:\n  - id: b\n    command: 'true'\n";
  await withDir({ "plan.yaml": quick, "other.yaml": other }, async (dir) => {
    for (let i = 0; i < 4; i++) await maestro(["run", "plan.yaml"], dir);
    await maestro(["run", "other.yaml"], dir);
    const before = await json<RunsJson>(["runs"], dir);
    assert.equal(before.runs.length, 5);
    const quickRuns = before.runs.filter((r) => r.plan_name === "quick"); // newest first

    const dry = await json<CleanupJson>(["cleanup", "--keep", "2", "--dry-run"], dir);
    assert.equal(dry.dry_run, true);
    assert.deepEqual(
      dry.deleted.map((d) => d.run_id),
      [quickRuns[3]!.run_id, quickRuns[2]!.run_id],
      "the two oldest runs of quick, oldest first; other has one run only",
    );
    assert.ok(dry.deleted.every((d) => d.bytes > 0 && existsSync(d.run_dir)));
    assert.equal((await json<RunsJson>(["runs"], dir)).runs.length, 5, "dry run: rows kept");
    const dryText = await maestro(["cleanup", "--keep", "2", "--dry-run"], dir);
    assert.match(dryText.stdout, /would delete 2 runs \(.*\); dry run: nothing deleted/);

    const done = await json<CleanupJson>(["cleanup", "--keep", "2"], dir);
    assert.equal(done.deleted.length, 2);
    assert.ok(done.deleted.every((d) => !existsSync(d.run_dir)));
    const after = await json<RunsJson>(["runs"], dir);
    assert.deepEqual(
      after.runs.map((r) => r.run_id).sort(),
      [
        quickRuns[0]!.run_id,
        quickRuns[1]!.run_id,
        before.runs.find((r) => r.plan_name === "other")!.run_id,
      ]
        .sort(),
    );
    assert.equal(runDirs(dir).length, 3);

    // --older-than alone: nothing is 1 day old; 0 days with --plan deletes that plan's runs
    assert.equal(
      (await json<CleanupJson>(["cleanup", "--older-than", "1"], dir)).deleted.length,
      0,
    );
    const gone = await json<CleanupJson>(["cleanup", "--older-than", "0", "--plan", "other"], dir);
    assert.equal(gone.deleted.length, 1);
    assert.equal((await json<RunsJson>(["runs"], dir)).runs.length, 2);

    const usage = await maestro(["cleanup"], dir);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /give '--keep <n>'/);
    assert.equal((await maestro(["cleanup", "--keep", "-1"], dir)).code, 2);
  });
});

Deno.test("maestro cleanup never deletes a running run, a run a kept run resumed, or a foreign folder", async () => {
  const slow = "name: slow\ntasks:\n  - id: wait\n    command: 'sleep 30'\n";
  const resumable = `name: res
fail_fast: false
tasks:
  - id: ok
    command: "echo ok"
  - id: flip
    command: "test -f flag"
`;
  await withDir({ "slow.yaml": slow, "res.yaml": resumable }, async (dir) => {
    // a resumed chain: run 1 fails, run 2 resumes it (reusing ok's log)
    await maestro(["run", "res.yaml"], dir);
    writeFileSync(join(dir, "flag"), "");
    assert.equal((await maestro(["run", "res.yaml", "--resume-last"], dir)).code, 0);
    const chain = await json<CleanupJson>(["cleanup", "--keep", "1", "--plan", "res"], dir);
    assert.deepEqual(chain.deleted, []);
    assert.equal(chain.kept.length, 1);
    assert.match(chain.kept[0]!.reason, /was resumed from it/);

    // a run in progress, seen through the real process
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--no-prompt",
        join(ROOT, "cli.ts"),
        "run",
        "slow.yaml",
        "--output",
        "text",
      ],
      cwd: dir,
      env: { NO_COLOR: "1", MAESTRO_DB_URL: "" },
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    try {
      let running: RunsJson["runs"][number] | undefined;
      for (let i = 0; i < 100 && !running; i++) {
        await new Promise((ok) => setTimeout(ok, 100));
        const runs = await maestro(["runs", "--json", "--plan", "slow"], dir);
        if (runs.code === 0) running = (JSON.parse(runs.stdout) as RunsJson).runs[0];
      }
      assert.ok(running, "the slow run shows in the store");
      const report = await json<CleanupJson>(["cleanup", "--keep", "0", "--plan", "slow"], dir);
      assert.deepEqual(report.deleted, []);
      assert.deepEqual(report.kept.map((k) => [k.run_id, k.reason]), [[
        running.run_id,
        "still running",
      ]]);
      assert.ok(existsSync(running.run_dir));
    } finally {
      child.kill("SIGINT");
      await child.status;
    }

    // a row that points at a folder that is not that run's: refused, reported, exit 1
    const decoy = join(dir, "precious");
    mkdirSync(decoy);
    writeFileSync(join(decoy, "keep.txt"), "do not delete");
    const store = await openStore({ kind: "file", path: join(dir, ".maestro", "maestro.db") });
    try {
      await store.write([{
        sql: "UPDATE runs SET run_dir = ? WHERE plan_name = 'slow'",
        args: [decoy],
      }]);
    } finally {
      store.close();
    }
    const refused = await maestro(["cleanup", "--keep", "0", "--plan", "slow", "--json"], dir);
    assert.equal(refused.code, 1, refused.stderr);
    const doc = JSON.parse(refused.stdout) as CleanupJson;
    assert.deepEqual(doc.deleted, []);
    assert.match(doc.problems[0]!, /precious: not deleted: the directory's name is not the run's/);
    assert.ok(existsSync(join(decoy, "keep.txt")));
  });
});

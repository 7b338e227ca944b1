/**
 * End-to-end tests of `maestro run` and `maestro verify`: each drives the real CLI on a small
 * plan written to a temporary folder and inspects exit codes, artifacts and processes.
 */
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CliResult, processesWith, runCli } from "../helpers.ts";

const CLI = new URL("../../cli.ts", import.meta.url).pathname;

/** Runs `maestro <args>` in `cwd` (stdin is not a terminal). */
function maestro(args: string[], cwd: string): Promise<CliResult> {
  return runCli(args, { cwd });
}

async function withPlan(yaml: string, fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "maestro-e2e-"));
  try {
    await writeFile(join(dir, "plan.yaml"), yaml);
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function runDirs(dir: string): Promise<string[]> {
  const root = join(dir, ".maestro-runs");
  return (await readdir(root)).sort().map((name) => join(root, name));
}

async function json<T = Record<string, unknown>>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, "utf8")) as T;
}

interface Manifest {
  success: boolean;
  interrupted: boolean;
  resumed_from: string | null;
  task_results: Record<string, { status: string; message: string; exit_code: number | null }>;
}

/** Starts `maestro run plan.yaml` in `dir` in the background (to signal or kill it). */
function startRun(
  dir: string,
  output: "piped" | "null",
  env: Record<string, string> = {},
): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-prompt", CLI, "run", "plan.yaml"],
    cwd: dir,
    env,
    stdout: output,
    stderr: output,
  }).spawn();
}

async function waitFor(check: () => Promise<boolean> | boolean, ms = 8000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("condition not reached in time");
}

Deno.test("a successful run writes every artifact with the reference keys and verifies", async () => {
  await withPlan(
    `name: ok-plan
max_parallel: 2
tasks:
  - id: a
    command: echo hello-a
  - id: lib/b.x
    depends_on: [a]
    command: echo "a said {{ a.stdout_tail }} with {{ a.exit_code }}"
`,
    async (dir) => {
      const run = await maestro(["run", "plan.yaml"], dir);
      assert.equal(run.code, 0, run.stderr);
      const [path] = await runDirs(dir);
      assert.match(path!, /\/\d{8}_\d{6}_\d{6}_[0-9a-f]{6}_ok-plan$/);
      const files = (await readdir(path!)).sort();
      assert.deepEqual(files, [
        "a.log",
        "a.result.json",
        "events.jsonl",
        "lib__b.x.log",
        "lib__b.x.result.json",
        "run_manifest.json",
        "run_summary.md",
      ]);
      const manifest = await json(join(path!, "run_manifest.json"));
      assert.deepEqual(Object.keys(manifest).slice(0, 8), [
        "plan_name",
        "run_id",
        "run_path",
        "started_at",
        "finished_at",
        "success",
        "execution_profile",
        "task_results",
      ]);
      const b = await json(join(path!, "lib__b.x.result.json"));
      assert.deepEqual(Object.keys(b).slice(0, 6), [
        "task_id",
        "status",
        "exit_code",
        "started_at",
        "finished_at",
        "duration_sec",
      ]);
      assert.equal(b.stdout_tail, "a said hello-a with 0");
      const log = await readFile(join(path!, "a.log"), "utf8");
      assert.match(
        log,
        /^task=a\nstarted_at=.+\+00:00\nworkdir=.+\ncommand=echo hello-a\n\nhello-a\n\nstatus=success\nmessage=ok\n$/,
      );
      const verify = await maestro(["verify", path!], dir);
      assert.equal(verify.code, 0, verify.stdout);
    },
  );
});

Deno.test("a failed dependency skips dependents transitively and every task is in the manifest", async () => {
  await withPlan(
    `name: fail-plan
fail_fast: false
tasks:
  - id: a
    command: exit 3
  - id: b
    depends_on: [a]
    command: echo b
  - id: c
    depends_on: [b]
    command: echo c
  - id: d
    depends_on: [a]
    when: "{{ a.status }} == failed"
    command: echo d
  - id: e
    depends_on: [a]
    when: "{{ a.exit_code }} == 0"
    command: echo e
  - id: f
    command: exit 1
    allow_failure: true
  - id: g
    depends_on: [f]
    command: echo g
`,
    async (dir) => {
      const run = await maestro(["run", "plan.yaml"], dir);
      assert.equal(run.code, 1);
      const [path] = await runDirs(dir);
      const { task_results: r } = await json<Manifest>(join(path!, "run_manifest.json"));
      assert.deepEqual(Object.keys(r), ["a", "b", "c", "d", "e", "f", "g"]);
      assert.equal(r.a!.status, "failed");
      assert.equal(r.a!.message, "Task failed with exit code 3");
      assert.equal(r.b!.message, "Skipped because dependency failed: a");
      assert.equal(r.c!.status, "skipped");
      assert.equal(r.c!.message, "Skipped because dependency failed: b");
      assert.equal(r.d!.status, "success");
      assert.equal(r.e!.message, "Condition not met: {{ a.exit_code }} == 0");
      assert.equal(r.f!.status, "soft_failed");
      assert.equal(r.g!.status, "success");
    },
  );
});

Deno.test("a timeout kills the task's whole process group", async () => {
  const marker = `maestro-e2e-timeout-${crypto.randomUUID().slice(0, 8)}`;
  await withPlan(
    `name: timeout-plan
defaults:
  env:
    E2E_MARK: ${marker}
tasks:
  - id: slow
    timeout_sec: 1
    command: "sleep 30 & sleep 30; echo ${marker}"
`,
    async (dir) => {
      const started = Date.now();
      const run = await maestro(["run", "plan.yaml"], dir);
      assert.equal(run.code, 1);
      assert.ok(Date.now() - started < 10_000);
      const [path] = await runDirs(dir);
      const result = await json(join(path!, "slow.result.json"));
      assert.equal(result.exit_code, 124);
      assert.equal(result.message, "Task timed out after 1s");
      assert.deepEqual(processesWith(marker), [], "a process of the task survived");
    },
  );
});

Deno.test("retries rerun a task until verify_command passes and record the failed attempts", async () => {
  await withPlan(
    `name: retry-plan
tasks:
  - id: flaky
    max_retries: 2
    retry_delay_sec: 0
    command: echo x >> count.txt
    verify_command: "test $(wc -l < count.txt) -ge 2 || { echo only-one-line; exit 4; }"
`,
    async (dir) => {
      const run = await maestro(["run", "plan.yaml"], dir);
      assert.equal(run.code, 0, run.stdout + run.stderr);
      const [path] = await runDirs(dir);
      const result = await json<{
        status: string;
        retry_count: number;
        failure_history: Array<{ category: string; verify_tail: string }>;
      }>(join(path!, "flaky.result.json"));
      assert.equal(result.status, "success");
      assert.equal(result.retry_count, 1);
      assert.equal(result.failure_history.length, 1);
      assert.equal(result.failure_history[0]!.category, "verify_failed");
      assert.match(result.failure_history[0]!.verify_tail, /only-one-line/);
      const log = await readFile(join(path!, "flaky.log"), "utf8");
      assert.match(log, /\[verify_command\] exit_code=4\nRetrying \(1\/2\)\.\.\.\n\[retry 1\/2\]/);
    },
  );
});

Deno.test("editing one byte of a result or one event line makes verify fail and name it", async () => {
  await withPlan(
    `name: tamper-plan
tasks:
  - id: a
    command: echo a
  - id: b
    command: echo b
`,
    async (dir) => {
      assert.equal((await maestro(["run", "plan.yaml"], dir)).code, 0);
      const [path] = await runDirs(dir);
      const resultFile = join(path!, "b.result.json");
      const original = await readFile(resultFile, "utf8");
      await writeFile(resultFile, original.replace('"success"', '"sucdess"'));
      const first = await maestro(["verify", path!], dir);
      assert.equal(first.code, 1);
      assert.match(first.stdout, /b\.result\.json does not match/);
      await writeFile(resultFile, original);
      assert.equal((await maestro(["verify", path!], dir)).code, 0);

      const eventsFile = join(path!, "events.jsonl");
      const lines = (await readFile(eventsFile, "utf8")).split("\n");
      lines[2] = lines[2]!.replace('"task_id":"', '"task_id":"x');
      await writeFile(eventsFile, lines.join("\n"));
      const second = await maestro(["verify", path!, "--json"], dir);
      assert.equal(second.code, 1);
      const report = JSON.parse(second.stdout);
      assert.equal(report.chain_status, "broken");
      assert.equal(report.problems[0].line, 3);
    },
  );
});

Deno.test("SIGINT cancels the run: exit 130, unfinished tasks cancelled, no process left", async () => {
  const marker = `maestro-e2e-sigint-${crypto.randomUUID().slice(0, 8)}`;
  await withPlan(
    `name: sigint-plan
max_parallel: 2
defaults:
  env:
    E2E_MARK: ${marker}
tasks:
  - id: long1
    command: "sleep 30 & sleep 31; echo ${marker}"
  - id: long2
    command: "sleep 32; echo ${marker}"
  - id: after
    depends_on: [long1]
    command: echo after
`,
    async (dir) => {
      const child = startRun(dir, "piped");
      await waitFor(() => processesWith(marker).length >= 2);
      Deno.kill(child.pid, "SIGINT");
      const out = await child.output();
      assert.equal(out.code, 130);
      const [path] = await runDirs(dir);
      const manifest = await json<Manifest>(join(path!, "run_manifest.json"));
      assert.equal(manifest.interrupted, true);
      for (const id of ["long1", "long2", "after"]) {
        assert.equal(manifest.task_results[id]!.status, "cancelled", id);
        const result = await json(join(path!, `${id}.result.json`));
        assert.equal(result.status, "cancelled");
      }
      await waitFor(() => processesWith(marker).length === 0, 3000);
      assert.equal((await maestro(["verify", path!], dir)).code, 0);
    },
  );
});

// Two ways a kill -9 can leave a task's processes behind, and what resume does about them.
// Through Deno's spawn (no spawn server: tasks with a stdin, machines without cc) the task's
// direct child dies with maestro but its background job is orphaned: resume must stop it.
// Through the spawn server, the server sees maestro's pipe close and kills every task's whole
// process group: nothing is left, and resume still reruns exactly the unfinished tasks.
for (const spawnServer of [false, true]) {
  const how = spawnServer ? "through the spawn server, nothing outlives it" : "orphans are stopped";
  Deno.test(`after kill -9, --resume-last reruns only unfinished tasks; ${how}`, async () => {
    await killAndResume(spawnServer);
  });
}

async function killAndResume(spawnServer: boolean): Promise<void> {
  const marker = `maestro-e2e-kill-${crypto.randomUUID().slice(0, 8)}`;
  await withPlan(
    `name: kill-plan
max_parallel: 2
defaults:
  env:
    E2E_MARK: ${marker}
tasks:
  - id: quick
    command: echo quick >> quick.txt
  - id: stuck
    depends_on: [quick]
    command: "if [ -f resumed ]; then echo done; else sleep 30 & sleep 31; echo ${marker}; fi"
  - id: last
    depends_on: [stuck]
    command: echo last
`,
    async (dir) => {
      const child = startRun(dir, "null", spawnServer ? {} : { MAESTRO_SPAWN_SERVER: "off" });
      // sh and its two sleeps
      await waitFor(() => processesWith(marker).length >= 3);
      Deno.kill(child.pid, "SIGKILL");
      await child.status;
      if (spawnServer) {
        await waitFor(() => processesWith(marker).length === 0, 3000);
        assert.deepEqual(processesWith(marker), [], "a task process outlived maestro");
      } else {
        // the direct child dies with maestro (parent-death signal); the background sleep is orphaned
        await waitFor(() => processesWith(marker).length <= 2, 3000);
        assert.ok(
          processesWith(marker).length > 0,
          "nothing orphaned: the resume check proves nothing",
        );
      }
      await writeFile(join(dir, "resumed"), "");
      const [killed] = await runDirs(dir);
      const spools = () => [...Deno.readDirSync(killed!)].filter((e) => e.name.includes(".spool-"));
      assert.equal(spools().length, 1, "the killed run's manifest spool is left behind");
      const resume = await maestro(["run", "plan.yaml", "--resume-last"], dir);
      assert.equal(resume.code, 0, resume.stdout + resume.stderr);
      if (!spawnServer) assert.match(resume.stdout, /stopped process group/);
      // the manifest spool, and the result file made ahead for the task that was running
      assert.match(resume.stdout, /removed 2 temp file\(s\) left in /);
      assert.deepEqual(spools(), [], "resume sweeps the dead run's temp files");
      assert.deepEqual(
        [...Deno.readDirSync(killed!)].filter((e) => e.name.includes(".tmp-")),
        [],
      );
      assert.deepEqual(processesWith(marker), []);
      assert.equal(await readFile(join(dir, "quick.txt"), "utf8"), "quick\n", "quick ran twice");
      const [first, second] = await runDirs(dir);
      const manifest = await json<Manifest>(join(second!, "run_manifest.json"));
      assert.equal(manifest.resumed_from, first);
      assert.equal(manifest.task_results.quick!.message, "Resumed from prior run (success)");
      assert.equal(manifest.task_results.stuck!.status, "success");
      assert.equal(manifest.task_results.last!.status, "success");
      const verify = await maestro(["verify", first!], dir);
      assert.equal(verify.code, 0, verify.stdout);
      assert.match(verify.stdout, /did not finish/);
    },
  );
}

// A process that left its task's group (setsid) survives even the spawn server's cleanup;
// the run id in its environment still ties it to the killed run.
for (const wait of [false, true]) {
  const how = wait ? "--wait-orphans waits for it" : "resume stops it";
  Deno.test(`after kill -9, a process that left its task's group is found; ${how}`, async () => {
    const marker = `maestro-e2e-setsid-${crypto.randomUUID().slice(0, 8)}`;
    await withPlan(
      `name: detach
defaults:
  env:
    E2E_MARK: ${marker}
tasks:
  - id: bg
    command: "if [ -f resumed ]; then echo done; else setsid sleep 3 & sleep 30; fi"
`,
      async (dir) => {
        const child = startRun(dir, "null");
        await waitFor(() => processesWith(marker).length >= 3);
        Deno.kill(child.pid, "SIGKILL");
        await child.status;
        // the server kills the task's group; the setsid sleep is in a group of its own
        await waitFor(() => processesWith(marker).length === 1, 3000);
        await writeFile(join(dir, "resumed"), "");
        const started = Date.now();
        const args = ["run", "plan.yaml", "--resume-last", ...(wait ? ["--wait-orphans"] : [])];
        const resume = await maestro(args, dir);
        assert.equal(resume.code, 0, resume.stdout + resume.stderr);
        assert.deepEqual(processesWith(marker), []);
        if (wait) {
          assert.match(resume.stdout, /waiting for process group \d+ left by bg/);
          assert.ok(Date.now() - started >= 1000, "the resume did not wait");
        } else {
          assert.match(resume.stdout, /stopped process group \d+ left by bg/);
        }
      },
    );
  });
}

Deno.test("an invalid plan exits 2 and an engine task whose CLI is missing fails clearly", async () => {
  await withPlan(
    `name: bad\ntasks:\n  - id: a\n    depends_on: [zzz]\n    command: "true"\n`,
    async (dir) => {
      assert.equal((await maestro(["run", "plan.yaml"], dir)).code, 2);
    },
  );
  await withPlan(
    // PATH without the CLI, even on a machine that has gemini installed
    `name: eng\ntasks:\n  - id: ai\n    engine: gemini\n    env: { PATH: /nonexistent }\n    prompt: hi\n`,
    async (dir) => {
      const run = await maestro(["run", "plan.yaml"], dir);
      assert.equal(run.code, 1);
      const [path] = await runDirs(dir);
      const result = await json(join(path!, "ai.result.json"));
      assert.match(
        String(result.message),
        /^gemini failed \(cli_missing\): .*npm install -g @google\/gemini-cli/,
      );
    },
  );
});

Deno.test("secrets are masked in logs, results and events before they are written", async () => {
  await withPlan(
    `name: secret-plan
secrets: [MY_TOKEN]
defaults:
  env:
    MY_TOKEN: s3cr3t-value-42
tasks:
  - id: leak
    command: echo "token is $MY_TOKEN"
`,
    async (dir) => {
      const run = await maestro(["run", "plan.yaml", "--output", "jsonl", "-v"], dir);
      assert.equal(run.code, 0);
      assert.ok(!run.stdout.includes("s3cr3t-value-42"));
      const [path] = await runDirs(dir);
      for (const name of await readdir(path!)) {
        const text = await readFile(join(path!, name), "utf8");
        assert.ok(!text.includes("s3cr3t-value-42"), `${name} leaks the secret`);
      }
      assert.match(await readFile(join(path!, "leak.log"), "utf8"), /token is \*\*\*/);
    },
  );
});

/**
 * End-to-end tests of the task result cache: the real CLI (`maestro run`, `explain`, `status`,
 * `verify`) on plans in a temporary folder, with the real libSQL store beside the plan.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type CliResult, runCli, tempPlanDir } from "../helpers.ts";

const PLAN = `name: cached
fail_fast: false
tasks:
  - id: compile
    command: cat src/main.txt
    inputs: ["src/**"]
  - id: package
    depends_on: [compile]
    command: echo "packaged {{ compile.stdout_tail }}"
    cache: true
  - id: version
    command: cat VERSION
  - id: stamp
    depends_on: [version]
    command: echo stamped
    cache: true
  - id: fresh
    command: echo always
    inputs: ["src/**"]
    cache: false
  - id: broken
    command: "echo failing; exit 4"
    cache: true
`;

interface ResultFile {
  status: string;
  message: string;
  from_cache?: boolean;
  task_hash: string | null;
  stdout_tail: string;
  log_path: string | null;
  cache?: { run_id: string; kind: string };
}

function withPlan(fn: (dir: string) => Promise<void>) {
  return async () => {
    const dir = tempPlanDir({ "plan.yaml": PLAN, "src/main.txt": "v1", VERSION: "1.0" });
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

function maestro(args: string[], cwd: string): Promise<CliResult> {
  return runCli(args, { cwd });
}

/** The newest run directory and its task results. */
function lastRun(dir: string): { path: string; results: Record<string, ResultFile> } {
  const root = join(dir, ".maestro-runs");
  const name = readdirSync(root).sort().at(-1)!;
  const path = join(root, name);
  const manifest = JSON.parse(readFileSync(join(path, "run_manifest.json"), "utf8"));
  return { path, results: manifest.task_results };
}

function fromCache(results: Record<string, ResultFile>): string[] {
  return Object.entries(results).filter(([, r]) => r.from_cache === true).map(([id]) => id);
}

async function run(dir: string, ...extra: string[]): Promise<CliResult> {
  const result = await maestro(["run", "plan.yaml", ...extra], dir);
  // `broken` fails on purpose: exit 1
  assert.equal(result.code, 1, result.stderr + result.stdout);
  assert.doesNotMatch(result.stderr, /warning|error/i, result.stderr);
  return result;
}

Deno.test(
  "maestro run: an unchanged plan's second run restores cached tasks (from_cache, Cache hit [key12])",
  withPlan(async (dir) => {
    await run(dir);
    const first = lastRun(dir).path;
    assert.ok(existsSync(join(dir, ".maestro", "maestro.db")));
    const second = await run(dir);
    const { path, results } = lastRun(dir);
    assert.deepEqual(fromCache(results).sort(), ["compile", "package", "stamp"]);
    const compile = results["compile"]!;
    assert.match(compile.message, /^Cache hit \[([0-9a-f]{12})\]$/);
    assert.equal(compile.message.slice(11, 23), compile.task_hash!.slice(0, 12));
    assert.equal(compile.stdout_tail, "v1");
    // the terminal shows the same message, and the result file on disk says so too
    assert.match(second.stdout, /✓ compile success \(\d+\.\ds\): Cache hit \[[0-9a-f]{12}\]/);
    const onDisk = JSON.parse(readFileSync(join(path, "compile.result.json"), "utf8"));
    assert.equal(onDisk.from_cache, true);
    // the log is restored in the run directory, and nothing else is written for a hit
    assert.match(readFileSync(join(path, "compile.log"), "utf8"), /^task=compile\n/);
    const files = readdirSync(path).filter((f) => f.startsWith("compile"));
    assert.deepEqual(files.sort(), ["compile.log", "compile.result.json"]);
    // no byte copied: the restored log is the first run's file (a hard link), as is the stored one
    assert.equal(statSync(join(path, "compile.log")).ino, statSync(join(first, "compile.log")).ino);
    assert.equal(statSync(join(first, "compile.log")).nlink, 3);
    // the summary and the event log say it too, and the run verifies
    assert.match(
      readFileSync(join(path, "run_summary.md"), "utf8"),
      /\| compile \| success \(cache hit\) \|/,
    );
    const events = readFileSync(join(path, "events.jsonl"), "utf8").trim().split("\n")
      .map((line) => JSON.parse(line));
    const complete = events.find((e) => e.event === "task_complete" && e.task_id === "compile");
    assert.equal(complete.from_cache, true);
    assert.equal(complete.cache_key, compile.task_hash);
    const verify = await maestro(["verify", path], dir);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  }),
);

Deno.test(
  "a stored log edited through a run's link (same size) is not restored; explain agrees",
  withPlan(async (dir) => {
    await run(dir);
    const first = lastRun(dir).path;
    // every hit's log is a hard link of the stored file: this edit reaches the store
    const log = join(first, "compile.log");
    const text = readFileSync(log, "utf8");
    assert.ok(text.includes("v1\n"));
    writeFileSync(log, text.replace("v1\n", "XX\n"));
    const explain = await maestro(["explain", "plan.yaml", "--json"], dir);
    assert.equal(explain.code, 0, explain.stderr);
    const tasks = JSON.parse(explain.stdout).tasks as Array<{ id: string; state: string }>;
    assert.equal(tasks.find((t) => t.id === "compile")!.state, "miss");
    await run(dir);
    const { path, results } = lastRun(dir);
    assert.equal(results["compile"]!.from_cache, false);
    assert.match(readFileSync(join(path, "compile.log"), "utf8"), /\nv1\n/);
    const verify = await maestro(["verify", path], dir);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  }),
);

Deno.test(
  "maestro run: shell tasks without inputs:, cache: false and failed tasks are not cached",
  withPlan(async (dir) => {
    await run(dir);
    const second = await run(dir);
    const { results } = lastRun(dir);
    assert.equal(results["version"]!.from_cache, undefined);
    assert.equal(results["fresh"]!.from_cache, undefined);
    assert.equal(results["broken"]!.from_cache, false);
    assert.equal(results["broken"]!.status, "failed");
    assert.match(second.stdout, /✗ broken failed .*Task failed with exit code 4/);
  }),
);

Deno.test(
  "maestro run --no-cache runs every task; the next run hits what it stored",
  withPlan(async (dir) => {
    await run(dir);
    await run(dir, "--no-cache");
    const bypassed = lastRun(dir);
    assert.deepEqual(fromCache(bypassed.results), []);
    await run(dir);
    const { results } = lastRun(dir);
    assert.deepEqual(fromCache(results).sort(), ["compile", "package", "stamp"]);
    assert.equal(results["compile"]!.cache?.run_id, bypassed.path.split("/").at(-1)!.slice(0, 29));
  }),
);

Deno.test(
  "maestro run --no-store runs without the cache and creates no store",
  withPlan(async (dir) => {
    await run(dir, "--no-store");
    await run(dir, "--no-store");
    assert.deepEqual(fromCache(lastRun(dir).results), []);
    assert.equal(existsSync(join(dir, ".maestro")), false);
  }),
);

Deno.test(
  "editing an inputs: file: the task and its dependents miss, and explain names the file",
  withPlan(async (dir) => {
    await run(dir);
    writeFileSync(join(dir, "src", "main.txt"), "v2");
    const explain = await maestro(["explain", "plan.yaml"], dir);
    assert.equal(explain.code, 0, explain.stderr);
    assert.match(explain.stdout, /^compile +miss +input src\/main\.txt changed$/m);
    assert.match(explain.stdout, /^package +miss +upstream compile will re-run$/m);
    assert.match(explain.stdout, /^stamp +hit +Cache hit \[[0-9a-f]{12}\]/m);
    assert.match(explain.stdout, /^fresh +off +cache: false$/m);
    const json = await maestro(["explain", "plan.yaml", "--json"], dir);
    const doc = JSON.parse(json.stdout);
    const compile = doc.tasks.find((t: { id: string }) => t.id === "compile");
    assert.deepEqual(compile.changes, [{ kind: "input", name: "src/main.txt", change: "changed" }]);
    const one = await maestro(["explain", "plan.yaml", "--task", "compile"], dir);
    assert.match(one.stdout, /task compile: miss/);
    assert.match(one.stdout, /- input src\/main\.txt changed/);
    assert.match(one.stdout, /input src\/main\.txt: [0-9a-f]{16}/);
    await run(dir);
    const { results } = lastRun(dir);
    assert.deepEqual(fromCache(results), ["stamp"]);
    assert.equal(results["package"]!.stdout_tail, "packaged v2");
  }),
);

Deno.test(
  "a changed upstream output propagates: its dependent misses, and explain says which upstream",
  withPlan(async (dir) => {
    await run(dir);
    // `version` is not cached (no inputs:): it runs every time; its output feeds stamp's key
    writeFileSync(join(dir, "VERSION"), "2.0");
    const only = await maestro(["run", "plan.yaml", "--only", "version"], dir);
    assert.equal(only.code, 0, only.stderr);
    const explain = await maestro(["explain", "plan.yaml", "--task", "stamp", "--json"], dir);
    const stamp = JSON.parse(explain.stdout).task;
    assert.equal(stamp.state, "miss");
    assert.equal(stamp.reason, "upstream version changed (output)");
    assert.match(stamp.assumptions[0], /^version is not cached: assumed to give the same result/);
    await run(dir);
    const { results } = lastRun(dir);
    assert.equal(results["stamp"]!.from_cache, false);
    assert.equal(results["package"]!.from_cache, true);
    const other = await maestro(["explain", "plan.yaml", "--task", "stampp"], dir);
    assert.equal(other.code, 2);
    assert.match(other.stderr, /E114 no task "stampp".*\n.*did you mean "stamp"/);
  }),
);

Deno.test(
  "maestro status lists the stale tasks and why, runs nothing",
  withPlan(async (dir) => {
    const never = await maestro(["status", "plan.yaml"], dir);
    assert.equal(never.code, 0, never.stderr);
    assert.match(never.stdout, /^ {2}compile +no cached result yet$/m);
    assert.equal(existsSync(join(dir, ".maestro")), false, "status created a store");
    await run(dir);
    const runs = readdirSync(join(dir, ".maestro-runs")).length;
    writeFileSync(join(dir, "src", "new.txt"), "new");
    const status = await maestro(["status", "plan.yaml"], dir);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /^plan cached: 5 of 6 tasks would run$/m);
    assert.match(status.stdout, /^ {2}compile +input src\/new\.txt added$/m);
    assert.match(status.stdout, /^ {2}package +upstream compile will re-run$/m);
    assert.match(status.stdout, /^ {2}broken +no cached result yet$/m);
    assert.match(status.stdout, /^up to date \(1\): stamp$/m);
    const json = JSON.parse((await maestro(["status", "plan.yaml", "--json"], dir)).stdout);
    assert.deepEqual(json.stale.map((t: { id: string }) => t.id), ["compile", "package", "broken"]);
    assert.deepEqual(json.uncached.map((t: { id: string }) => t.id), ["version", "fresh"]);
    assert.deepEqual(json.fresh, ["stamp"]);
    assert.equal(readdirSync(join(dir, ".maestro-runs")).length, runs, "status ran the plan");
  }),
);

/**
 * End to end through the real CLI: budgets (`max_cost_usd`, `budget_warning_pct`,
 * `budget_mode: hard`, `budget_period`), `maestro estimate` and `maestro budget`, with a fake
 * `claude` first on PATH that prints claude's stream-json result with a `total_cost_usd` taken
 * from its prompt (`cost=0.5 sleep=1`), and the run store in a real libSQL file beside the plan.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { existsSync } from "node:fs";

const CLI = new URL("../../cli.ts", import.meta.url).pathname;

type Event = Record<string, unknown> & { event: string };

interface Result {
  status: string;
  message: string;
  cost_usd: number | null;
}

/** A fake claude: sleeps and costs what its prompt (the last argument) says; logs each call. */
const FAKE_CLAUDE = `#!/bin/sh
for last; do :; done
cost=$(printf '%s' "$last" | sed -n 's/.*cost=\\([0-9.]*\\).*/\\1/p')
nap=$(printf '%s' "$last" | sed -n 's/.*sleep=\\([0-9.]*\\).*/\\1/p')
printf '%s\\n' "$last" >> CALLS_FILE
[ -n "$nap" ] && sleep "$nap"
printf '%s\\n' '{"type":"system","subtype":"init","session_id":"s-1","model":"claude-sonnet-4-5"}'
printf '{"type":"result","subtype":"success","is_error":false,"num_turns":1,"result":"done","session_id":"s-1","total_cost_usd":%s,"usage":{"input_tokens":10,"output_tokens":5}}\\n' "\${cost:-0}"
`;

interface Sandbox {
  dir: string;
  env: Record<string, string>;
  calls: string;
}

async function sandbox(): Promise<Sandbox> {
  const dir = await Deno.makeTempDir({ prefix: "maestro-budget-e2e-" });
  const bin = join(dir, "bin");
  await Deno.mkdir(bin);
  const calls = join(dir, "calls.txt");
  // the engine's env is an allowlist: the log's path is written into the script
  await Deno.writeTextFile(join(bin, "claude"), FAKE_CLAUDE.replace("CALLS_FILE", `'${calls}'`));
  await Deno.chmod(join(bin, "claude"), 0o755);
  const home = Deno.env.get("HOME") ?? "/root";
  return {
    dir,
    calls,
    env: {
      PATH: `${bin}:/usr/bin:/bin`,
      HOME: dir,
      NO_COLOR: "1",
      MAESTRO_DB_URL: "",
      DENO_DIR: Deno.env.get("DENO_DIR") ?? join(home, ".cache/deno"),
    },
  };
}

async function maestro(box: Sandbox, args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-prompt", CLI, ...args],
    cwd: box.dir,
    clearEnv: true,
    env: box.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

/** Writes `plan.yaml`, runs it (text output) and reads the newest run directory back. */
async function run(box: Sandbox, yaml: string, args: string[] = []) {
  await Deno.writeTextFile(join(box.dir, "plan.yaml"), yaml);
  const out = await maestro(box, ["run", "plan.yaml", "--output", "text", ...args]);
  const runs = join(box.dir, ".maestro-runs");
  const dirs = [...Deno.readDirSync(runs)].map((e) => e.name).sort();
  const path = join(runs, dirs.at(-1)!);
  const result = async (id: string) =>
    JSON.parse(await Deno.readTextFile(join(path, `${id}.result.json`))) as Result;
  const events = (await Deno.readTextFile(join(path, "events.jsonl"))).trim().split("\n")
    .map((line) => JSON.parse(line) as Event);
  const manifest = JSON.parse(await Deno.readTextFile(join(path, "run_manifest.json")));
  return { ...out, result, events, manifest };
}

async function calls(box: Sandbox): Promise<string[]> {
  try {
    // the calls that ran a prompt (`claude --version` probes are not tasks)
    return (await Deno.readTextFile(box.calls)).trim().split("\n")
      .filter((line) => line !== "" && line !== "--version");
  } catch {
    return [];
  }
}

async function withSandbox(fn: (box: Sandbox) => Promise<void>): Promise<void> {
  const box = await sandbox();
  try {
    await fn(box);
  } finally {
    await Deno.remove(box.dir, { recursive: true });
  }
}

Deno.test("maestro run does not start a task whose estimate would cross max_cost_usd; history changes the estimate", async () => {
  await withSandbox(async (box) => {
    // claude without a model is estimated at sonnet's rates: $0.21; after a's $0.20, b's
    // estimate does not fit in $0.30
    const plan = (limit: string) =>
      `name: pre
${limit}fail_fast: false
tasks:
  - { id: a, engine: claude, prompt: "task a cost=0.2", cache: false }
  - { id: b, engine: claude, prompt: "task b cost=0.05", depends_on: [a], cache: false }
  - { id: c, command: "echo c", depends_on: [b] }
`;
    const first = await run(box, plan("max_cost_usd: 0.3\n"));
    assert.equal(first.code, 1, first.stderr);
    assert.equal((await first.result("a")).status, "success");
    const b = await first.result("b");
    assert.equal(b.status, "skipped");
    assert.match(
      b.message,
      /^Budget: estimated \$0\.21 \(20k\+100k cached\+8k out tokens at claude sonnet\) would exceed max_cost_usd \$0\.30: \$0\.20 spent$/,
    );
    assert.equal((await first.result("c")).message, "Skipped because dependency failed: b");
    assert.deepEqual(await calls(box), ["task a cost=0.2"], "b never started");
    assert.match(first.stdout, /- b skipped: Budget: estimated \$0\.21/);
    assert.equal(first.manifest.budget.tasks_stopped, 1);

    // without a budget the plan runs whole, and the store learns that b costs $0.05
    const free = await run(box, plan(""));
    assert.equal(free.code, 0, free.stderr);
    // now b's estimate is its history (median of 1 run: $0.05) and it fits
    const again = await run(box, plan("max_cost_usd: 0.3\n"));
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.equal((await again.result("b")).status, "success");
    assert.equal(again.manifest.budget.spent, 0.25);
    assert.equal(again.manifest.total_cost_usd, 0.25);
  });
});

Deno.test("maestro run stops dispatching when the spend crosses the limit, and warns once", async () => {
  await withSandbox(async (box) => {
    const out = await run(
      box,
      `name: cross
max_cost_usd: 1
budget_warning_pct: 0.5
fail_fast: false
tasks:
  - { id: a, engine: claude, prompt: "cost=0.3" }
  - { id: b, engine: claude, prompt: "cost=0.3", depends_on: [a] }
  - { id: c, engine: claude, prompt: "cost=0.5", depends_on: [b] }
  - { id: d, command: "echo d", depends_on: [c] }
  - { id: e, engine: claude, prompt: "cost=0.1", depends_on: [c] }
`,
    );
    assert.equal(out.code, 1, out.stderr);
    const warnings = out.events.filter((e) => e.event === "budget_warning");
    assert.equal(warnings.length, 1);
    assert.deepEqual([warnings[0]!.spent, warnings[0]!.limit, warnings[0]!.pct], [0.6, 1, 0.5]);
    assert.equal(out.stdout.match(/budget warning/g)?.length, 1);
    assert.match(
      out.stdout,
      /maestro: budget warning: \$0\.60 of \$1\.00 spent \(50% of max_cost_usd\)/,
    );
    assert.match(
      out.stdout,
      /maestro: budget exceeded: \$1\.10 of \$1\.00 after c; no more tasks start/,
    );
    for (const id of ["d", "e"]) {
      const r = await out.result(id);
      assert.equal(r.status, "skipped");
      assert.equal(r.message, "Budget exceeded ($1.10 / $1.00 limit)");
    }
    assert.equal((await calls(box)).length, 3);
    assert.equal(out.manifest.budget_exceeded, true);
    assert.equal(out.manifest.success, false);
    assert.match(out.stdout, /^FAILED 3 ok .* \$1\.10 — budget exceeded$/m);
    const summary = await Deno.readTextFile(join(out.manifest.run_path, "run_summary.md"));
    assert.match(
      summary,
      /\| Budget \| \$1\.1 of \$1 \(per run, soft\); warning at 50%; exceeded; 2 task\(s\) stopped \|/,
    );
    assert.match(summary, /\| c \| success \| [\d.]+s \| \$0\.5 \| 15 \| claude \|/);
  });
});

Deno.test("maestro run with budget_mode: hard cancels a running engine task", async () => {
  await withSandbox(async (box) => {
    const started = performance.now();
    const out = await run(
      box,
      `name: hard
max_cost_usd: 0.5
budget_mode: hard
max_parallel: 2
fail_fast: false
tasks:
  - { id: quick, engine: claude, prompt: "cost=0.6 sleep=0.5" }
  - { id: slow, engine: claude, prompt: "cost=0.01 sleep=60" }
`,
    );
    assert.ok(performance.now() - started < 30_000, "slow was cancelled, not waited for");
    assert.equal(out.code, 1, out.stderr);
    const slow = await out.result("slow");
    assert.equal(slow.status, "cancelled");
    assert.equal(
      slow.message,
      "Cancelled: budget exceeded ($0.60 / $0.50 limit, budget_mode: hard)",
    );
    assert.match(out.stdout, /running engine tasks are cancelled/);
    assert.match(out.stdout, /^FAILED .* 1 cancelled .* — budget exceeded$/m);
  });
});

Deno.test("a daily budget in the store's ledger blocks a second run; budget and estimate report it", async () => {
  await withSandbox(async (box) => {
    const yaml = `name: daily
max_cost_usd: 0.5
budget_period: daily
fail_fast: false
tasks:
  - { id: a, engine: claude, prompt: "cost=0.4", cache: false }
  - { id: b, command: "echo b" }
`;
    const first = await run(box, yaml);
    assert.equal(first.code, 0, first.stdout + first.stderr);
    const start = first.events.find((e) => e.event === "budget_start")!;
    assert.deepEqual([start.period, start.spent, start.ledger], ["daily", 0, "store"]);

    // $0.40 of $0.50 spent today: a is estimated at $0.21 and does not fit any more
    const second = await run(box, yaml);
    assert.equal(second.code, 1);
    assert.match(
      (await second.result("a")).message,
      /would exceed max_cost_usd \$0\.50: \$0\.40 spent \(daily budget since \d{4}-\d\d-\d\d 00:00\)$/,
    );
    assert.equal((await second.result("b")).status, "success");
    assert.match(second.stdout, /maestro: budget \$0\.50 daily: \$0\.40 already spent since/);
    assert.equal((await calls(box)).length, 1);

    // maestro budget: today's spend, per plan
    const text = await maestro(box, ["budget"]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^today +\d{4}-\d\d-\d\d 00:00 +\$0\.40$/m);
    assert.match(text.stdout, /^daily +\$0\.40 +\$0\.40 +\$0\.40 +1$/m);
    const json = JSON.parse((await maestro(box, ["budget", "--json", "--plan", "daily"])).stdout);
    assert.equal(json.plan, "daily");
    assert.deepEqual(
      json.periods.map((p: { period: string; spent_usd: number }) => [p.period, p.spent_usd]),
      [["daily", 0.4], ["weekly", 0.4], ["monthly", 0.4]],
    );
    assert.deepEqual(json.plans.map((p: { plan_name: string }) => p.plan_name), ["daily"]);
    const none = JSON.parse((await maestro(box, ["budget", "--json", "--plan", "nope"])).stdout);
    assert.deepEqual(none.plans, []);

    // maestro estimate: history for a, shell for b, and the period's state
    const estimate = await maestro(box, ["estimate", "plan.yaml"]);
    assert.equal(estimate.code, 0, estimate.stderr);
    assert.match(
      estimate.stdout,
      /^a +claude +\(default\) +\$0\.40 +history: median of 1 successful run$/m,
    );
    assert.match(estimate.stdout, /^b +shell +- +\$0\.00 +shell$/m);
    assert.match(estimate.stdout, /^TOTAL +\$0\.40$/m);
    assert.match(
      estimate.stdout,
      /Budget: max_cost_usd \$0\.50 daily: \$0\.40 spent today .* \$0\.10 left \(soft\); the estimate does not fit/,
    );
    const doc = JSON.parse((await maestro(box, ["estimate", "plan.yaml", "--json"])).stdout);
    assert.equal(doc.plan, "daily");
    assert.equal(doc.total_usd, 0.4);
    assert.deepEqual(
      doc.tasks.map((t: { task_id: string; source: string }) => [t.task_id, t.source]),
      [
        ["a", "history"],
        ["b", "shell"],
      ],
    );
    assert.deepEqual(
      [
        doc.budget.limit,
        doc.budget.period,
        doc.budget.spent,
        doc.budget.remaining,
        doc.budget.fits,
      ],
      [0.5, "daily", 0.4, 0.1, false],
    );
  });
});

Deno.test("maestro estimate without a store prices tasks; maestro budget without a store is E120", async () => {
  await withSandbox(async (box) => {
    await Deno.writeTextFile(
      join(box.dir, "plan.yaml"),
      `name: fresh
max_cost_usd: 1
tasks:
  - { id: a, engine: claude, model: opus, prompt: hi }
  - { id: b, engine: codex, prompt: hi }
`,
    );
    const out = await maestro(box, ["estimate", "plan.yaml"]);
    assert.equal(out.code, 0, out.stderr);
    assert.match(
      out.stdout,
      /^a +claude +opus +\$0\.35 +pricing: 20k\+100k cached\+8k out tokens at claude opus$/m,
    );
    assert.match(out.stdout, /^b +codex +\(default\) +\$0\.154 +pricing: .* at codex default$/m);
    assert.match(out.stdout, /^TOTAL +\$0\.504$/m);
    assert.match(out.stdout, /no run store yet/);
    assert.match(out.stdout, /Budget: max_cost_usd \$1\.00 per run \(soft\); the estimate fits/);
    const budget = await maestro(box, ["budget"]);
    assert.equal(budget.code, 2);
    assert.match(budget.stderr, /E120 no run store found/);
    // a store named on the command line must exist: a typo is not "no history"
    const typo = await maestro(box, ["estimate", "plan.yaml", "--db", "typo.db"]);
    assert.equal(typo.code, 1, typo.stdout);
    assert.match(typo.stderr, /E122 cannot open the run store typo\.db: no such file/);
    assert.equal(existsSync(join(box.dir, "typo.db")), false);
  });
});

/**
 * `deno run -A bench/runs_bench.ts`: how fast `maestro runs` answers with a large history.
 *
 * Fills a fresh libSQL store file (in a temp folder) with `--runs=10000` finished runs of 20
 * plans, each with its task totals, through the store's own statements (as the indexer writes
 * them), then times, interleaved round by round with Deno's start-up floor (`deno run` of an
 * empty file):
 *
 * - `maestro runs --db <file>` (the newest 20, a table);
 * - `maestro runs --json --db <file>`;
 * - `maestro runs --plan plan-7 --status failed --db <file>` (a filtered query).
 *
 * End-to-end wall time of the command (process start to exit), median and min of
 * `--rounds=10`, is what the "answers in under 200 ms" is about. `--keep` keeps the
 * store file (its folder is printed) for profiling.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { interleaved, stats } from "./measure.ts";
import { openStore } from "../lib/store/store.ts";
import { mergeRows, refreshRunTotals, upsertRun, upsertTask } from "../lib/store/statements.ts";
import type { RunRecord, TaskRecord } from "../lib/store/records.ts";

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const CLI = join(ROOT, "cli.ts");
const DENO = Deno.execPath();

/** The same `deno run` flags as the `maestro` task in deno.json. */
const MAESTRO = [DENO, "run", "-A", "--no-prompt", "--v8-flags=--optimize-for-size", CLI];

/** A run id for the i-th run: one minute apart, newest last. */
function runId(i: number): string {
  const at = new Date(Date.UTC(2026, 0, 1) + i * 60_000);
  const stamp = at.toISOString().replace(/[-:]/g, "").replace("T", "_").slice(0, 15);
  return `${stamp}_000000_${i.toString(16).padStart(6, "0")}`;
}

/** Writes `count` finished runs (three tasks each) into the store at `file`. */
async function fillStore(file: string, count: number): Promise<void> {
  const store = await openStore({ kind: "file", path: file });
  try {
    const statuses = ["success", "success", "success", "failed"] as const;
    for (let start = 0; start < count; start += 500) {
      const sql = [];
      const tasks = [];
      for (let i = start; i < Math.min(count, start + 500); i++) {
        const id = runId(i);
        const started = new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString();
        const status = statuses[i % statuses.length]!;
        const run: RunRecord = {
          run_id: id,
          plan_name: `plan-${i % 20}`,
          plan_path: `/work/plans/plan-${i % 20}.yaml`,
          plan_hash: null,
          status,
          started_at: started.replace("Z", "000+00:00"),
          finished_at: started.replace("Z", "000+00:00"),
          duration_sec: 12.5,
          tasks_total: 3,
          run_dir: `/work/plans/.maestro-runs/${id}_plan-${i % 20}`,
          resumed_from: null,
        };
        sql.push(upsertRun(run, started));
        for (const task of ["build", "test", "deploy"]) {
          const rows: TaskRecord = {
            run_id: id,
            task_id: task,
            plan_name: run.plan_name,
            status: task === "deploy" && status === "failed" ? "failed" : "success",
            engine: "shell",
            model: null,
            attempts: 1,
            exit_code: 0,
            duration_sec: 4,
            tokens_input: 1000,
            tokens_cached: 0,
            tokens_output: 200,
            tokens_total: 1200,
            cost_usd: 0.01,
            cost_source: "priced",
            started_at: null,
            finished_at: null,
            error: null,
            resumed: false,
          };
          tasks.push(upsertTask(rows));
        }
      }
      const totals = [];
      for (let i = start; i < Math.min(count, start + 500); i++) {
        totals.push(refreshRunTotals(runId(i)));
      }
      await store.write([...sql, ...mergeRows(tasks), ...totals]);
    }
  } finally {
    store.close();
  }
}

const args = parseArgs({
  args: Deno.args,
  options: {
    runs: { type: "string", default: "10000" },
    rounds: { type: "string", default: "10" },
    keep: { type: "boolean", default: false },
  },
});
const runs = Number(args.values.runs);
const rounds = Number(args.values.rounds);
const scratch = mkdtempSync(join(tmpdir(), "maestro-runs-bench-"));
try {
  const db = join(scratch, "maestro.db");
  const filled = performance.now();
  await fillStore(db, runs);
  console.log(`store: ${runs} runs written in ${(performance.now() - filled).toFixed(0)} ms`);
  const empty = join(scratch, "empty.ts");
  writeFileSync(empty, "");
  const commands = [
    { name: "deno run (empty file)", argv: [DENO, "run", "-A", "--no-prompt", empty] },
    { name: "maestro runs", argv: [...MAESTRO, "runs", "--db", db] },
    { name: "maestro runs --json", argv: [...MAESTRO, "runs", "--json", "--db", db] },
    {
      name: "maestro runs --plan --status",
      argv: [...MAESTRO, "runs", "--plan", "plan-7", "--status", "failed", "--db", db],
    },
  ];
  // one warm-up round: Deno's caches, the page cache
  await interleaved(commands, 1, scratch);
  const samples = await interleaved(commands, rounds, scratch);
  console.log(`load average: ${Deno.loadavg().map((l) => l.toFixed(2)).join(" ")}`);
  console.log(`| command (${runs} runs, ${rounds} rounds) | median ms | min ms | exit |`);
  console.log("| --- | ---: | ---: | ---: |");
  for (const [name, list] of samples) {
    const s = stats(list.map((x) => x.wallMs));
    const codes = [...new Set(list.map((x) => x.code))].join(",");
    console.log(`| ${name} | ${s.median.toFixed(0)} | ${s.min.toFixed(0)} | ${codes} |`);
  }
} finally {
  if (args.values.keep) console.log(`kept: ${scratch}`);
  else rmSync(scratch, { recursive: true, force: true });
}

/**
 * Read commands over run directories: `maestro report` (one self-contained HTML page),
 * `maestro diff` (two runs compared, exit 1 on regressions) and `maestro blame` (root causes
 * vs the tasks they took down). `<run>` arguments are resolved by lib/inspect/run_ref.ts; the
 * store is opened only when an argument is not a directory.
 *
 * @module
 */
import { resolve } from "../path.ts";
import { EXIT, MaestroError } from "../errors.ts";
import { writeTextAtomic } from "../run/artifacts.ts";
import { type BlameReport, blameRun } from "../inspect/blame.ts";
import { DEFAULT_THRESHOLDS, diffRuns, type RunDiff, type TaskDiff } from "../inspect/diff.ts";
import { type LogExcerpt, readLogExcerpt } from "../inspect/log_text.ts";
import { reportData } from "../inspect/report_data.ts";
import { renderReportHtml } from "../inspect/report_html.ts";
import { RunResolver } from "../inspect/run_ref.ts";
import { loadRunView, RunDirError, type RunView } from "../inspect/run_view.ts";
import { UsageError } from "./args.ts";
import { displayPath, paint, printJson } from "./output.ts";
import { formatDuration } from "./store_commands.ts";

/** Options every command taking `<run>` arguments shares. */
export interface RunRefOptions {
  /** `--db`: a store path or URL. */
  db?: string;
  /** `--plan`: `last` is the newest run of this plan. */
  plan?: string;
  /** `--json`: one document. */
  json?: boolean;
}

/** Logs shown in full up to this size; above it, head and tail (per log). */
const LOG_MAX_BYTES = 256 * 1024;
/** Never less than this per log, however many tasks. */
const LOG_MIN_BYTES = 16 * 1024;
/** All logs of a page together stay around this size. */
const LOGS_BUDGET_BYTES = 8 * 1024 * 1024;

async function loadRuns(refs: readonly string[], options: RunRefOptions): Promise<RunView[]> {
  const resolver = new RunResolver({ db: options.db, plan: options.plan });
  try {
    const views: RunView[] = [];
    for (const ref of refs) {
      const { dir } = await resolver.resolve(ref);
      try {
        views.push(loadRunView(dir));
      } catch (error) {
        if (error instanceof RunDirError) throw new MaestroError("E143", error.message);
        throw error;
      }
    }
    return views;
  } finally {
    resolver.close();
  }
}

function kib(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** Options of `maestro report`. */
export interface ReportCommandOptions extends RunRefOptions {
  /** `-o`: the file to write, `-` for stdout. @default {"<run-dir>/report.html"} */
  output?: string;
}

/** `maestro report <run>`: writes one self-contained HTML page. */
export async function reportCommand(ref: string, options: ReportCommandOptions): Promise<number> {
  const [run] = await loadRuns([ref], options);
  const data = reportData(run!);
  const withLogs = run!.tasks.filter((t) => t.result?.log_path);
  const perLog = Math.max(
    LOG_MIN_BYTES,
    Math.min(LOG_MAX_BYTES, Math.floor(LOGS_BUDGET_BYTES / Math.max(1, withLogs.length))),
  );
  const logs = new Map<string, LogExcerpt | null>();
  for (const task of withLogs) logs.set(task.id, readLogExcerpt(task.result!.log_path!, perLog));
  const html = renderReportHtml(data, logs);
  if (options.output === "-") {
    if (options.json) throw new UsageError("report: '--json' cannot be used with '-o -'");
    await Deno.stdout.write(new TextEncoder().encode(html));
    return EXIT.ok;
  }
  const output = resolve(options.output ?? `${run!.dir}/report.html`);
  let bytes: number;
  try {
    bytes = writeTextAtomic(output, html).length;
  } catch (error) {
    throw new MaestroError(
      "E144",
      `cannot write the report to ${output}: ${(error as Error).message}`,
      { hint: "pass -o <file> in a folder you can write to, or -o - for stdout" },
    );
  }
  if (options.json) {
    printJson({ output, bytes, ...data });
    return EXIT.ok;
  }
  console.log(
    `${paint("✓", "green")} wrote ${displayPath(output)} (${data.tasks.length} task${
      data.tasks.length === 1 ? "" : "s"
    }, ${kib(bytes)}): run ${run!.runId} of plan ${run!.planName}, ${run!.status}`,
  );
  return EXIT.ok;
}

/** Options of `maestro diff`. */
export interface DiffCommandOptions extends RunRefOptions {
  /** `--duration-threshold`: percent (text as given). */
  durationThreshold?: string;
  /** `--cost-threshold`: percent (text as given). */
  costThreshold?: string;
}

function percent(text: string | undefined, flag: string, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0 || text.trim() === "") {
    throw new UsageError(
      `diff: option '--${flag}' expects a number of percent >= 0, got '${text}'`,
    );
  }
  return value;
}

function statusText(status: string | undefined): string {
  if (status === undefined) return "-";
  const color = status === "success"
    ? "green"
    : status === "failed"
    ? "red"
    : status === "soft_failed"
    ? "yellow"
    : "dim";
  return paint(status, color);
}

function deltaText(a: number | null, b: number | null, unit: "s" | "$"): string {
  if (a === null && b === null) return "-";
  const f = (n: number | null) =>
    n === null ? "-" : unit === "s" ? `${n.toFixed(2)}s` : `$${n.toFixed(4)}`;
  if (a === null || b === null) return `${f(a)} → ${f(b)}`;
  const d = b - a;
  const pct = a > 0 ? ` ${d >= 0 ? "+" : ""}${Math.round(d / a * 100)}%` : "";
  return `${f(a)} → ${f(b)}${pct}`;
}

function notable(d: TaskDiff, diff: RunDiff): boolean {
  if (d.change !== "unchanged" || d.regressions.length > 0 || d.fixed) return true;
  if (d.cost_delta_usd !== null && Math.abs(d.cost_delta_usd) >= diff.thresholds.min_cost_usd) {
    return true;
  }
  const a = d.a?.duration_sec ?? 0;
  const delta = Math.abs(d.duration_delta_sec ?? 0);
  return delta >= diff.thresholds.min_duration_sec &&
    delta > a * diff.thresholds.duration_pct / 100;
}

function printDiff(diff: RunDiff): void {
  const head = (label: string, s: RunDiff["a"]) =>
    `${label} ${s.run_id}  ${s.plan_name}  ${statusText(s.status)}  ${
      formatDuration(s.duration_sec)
    }  ${s.cost_usd === null ? "-" : `$${s.cost_usd.toFixed(4)}`}  ${displayPath(s.run_dir)}`;
  console.log(head("A", diff.a));
  console.log(head("B", diff.b));
  if (diff.a.plan_name !== diff.b.plan_name) {
    console.log(paint(`note: the runs are of different plans`, "yellow"));
  }
  const rows = diff.tasks.filter((d) => notable(d, diff));
  if (rows.length > 0) {
    const cells = rows.map((d) => [
      d.task_id,
      d.change === "added" ? "(added)" : d.a!.status,
      d.change === "removed" ? "(removed)" : d.b!.status,
      deltaText(d.a?.duration_sec ?? null, d.b?.duration_sec ?? null, "s"),
      deltaText(d.a?.cost_usd ?? null, d.b?.cost_usd ?? null, "$"),
      d.regressions.length > 0 ? `REGRESSION ${d.regressions.join(", ")}` : d.fixed ? "fixed" : "",
    ]);
    const header = ["TASK", "A", "B", "DURATION", "COST", ""];
    const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
    const line = (c: string[], color: boolean) =>
      c.map((cell, i) => {
        const padded = cell.padEnd(widths[i]!);
        if (!color) return padded;
        if ((i === 1 || i === 2) && !cell.startsWith("(")) {
          return statusText(cell) + padded.slice(cell.length);
        }
        if (i === 5 && cell.startsWith("REGRESSION")) return paint(padded, "red");
        if (i === 5 && cell === "fixed") return paint(padded, "green");
        return padded;
      }).join("  ").trimEnd();
    console.log("");
    console.log(line(header, false));
    for (const c of cells) console.log(line(c, true));
  }
  const quiet = diff.tasks.length - rows.length;
  const c = diff.counts;
  console.log("");
  if (quiet > 0) console.log(`${quiet} task${quiet === 1 ? "" : "s"} without notable change`);
  // how a cache hit was compared: without it a $0 → $0.30 change would read as a regression
  for (const d of diff.tasks) {
    for (const note of d.notes) console.log(paint(`note: ${d.task_id}: ${note}`, "yellow"));
  }
  const summary =
    `${c.regressions} regression${c.regressions === 1 ? "" : "s"}, ${c.fixed} fixed, ` +
    `${c.changed} changed, ${c.added} added, ${c.removed} removed`;
  console.log(c.regressions > 0 ? paint(`✖ ${summary}`, "red") : paint(`✓ ${summary}`, "green"));
  for (const r of diff.regressions) {
    console.log(`  - ${r.task_id} (${r.kinds.join(", ")}): ${r.detail}`);
  }
}

/** `maestro diff <a> <b>`: exit 1 when B regressed. */
export async function diffCommand(
  refA: string,
  refB: string,
  options: DiffCommandOptions,
): Promise<number> {
  const durationPct = percent(
    options.durationThreshold,
    "duration-threshold",
    DEFAULT_THRESHOLDS.durationPct,
  );
  const costPct = percent(options.costThreshold, "cost-threshold", DEFAULT_THRESHOLDS.costPct);
  const [a, b] = await loadRuns([refA, refB], options);
  const diff = diffRuns(a!, b!, { durationPct, costPct });
  if (options.json) printJson(diff);
  else printDiff(diff);
  return diff.regressions.length > 0 ? EXIT.failed : EXIT.ok;
}

function printBlame(report: BlameReport): void {
  const r = report.run;
  console.log(`run ${r.run_id} of plan ${r.plan_name}: ${statusText(r.status)}`);
  const byId = new Map(report.affected.map((a) => [a.task_id, a]));
  for (const root of report.root_causes) {
    const attempts = `${root.attempts} attempt${root.attempts === 1 ? "" : "s"}`;
    const extra = [
      root.exit_code !== null ? `exit ${root.exit_code}` : null,
      attempts,
      root.category,
      formatDuration(root.duration_sec),
    ].filter(Boolean).join(", ");
    console.log("");
    console.log(`${paint("✗", "red")} ${paint(root.task_id, "bold")} failed (${extra})`);
    console.log(`    ${root.message}`);
    for (const line of root.error_lines) {
      if (line !== root.message) console.log(`    ${paint("│", "dim")} ${line}`);
    }
    if (root.log_path) console.log(`    log: ${displayPath(root.log_path)}`);
    if (root.affected.length > 0) {
      const list = root.affected.map((id) => `${id} (${byId.get(id)?.status ?? "?"})`);
      console.log(`    took down ${root.affected.length}: ${list.join(", ")}`);
    }
  }
  const interrupted = report.affected.filter((a) => a.caused_by.length === 0);
  if (interrupted.length > 0) {
    console.log("");
    console.log(
      `${paint("-", "yellow")} ${interrupted.length} task${
        interrupted.length === 1 ? "" : "s"
      } stopped by the interruption or a circuit breaker: ${
        interrupted.map((a) => a.task_id).join(", ")
      }`,
    );
  }
  for (const soft of report.soft_failed) {
    console.log("");
    console.log(`${paint("~", "yellow")} ${soft.task_id} soft-failed (allowed): ${soft.message}`);
    for (const line of soft.error_lines) console.log(`    ${paint("│", "dim")} ${line}`);
  }
  console.log("");
  const n = report.root_causes.length;
  const m = report.affected.length;
  console.log(
    n === 0 && m === 0
      ? paint("✓ no task failed", "green")
      : `${n} root cause${n === 1 ? "" : "s"}, ${m} task${m === 1 ? "" : "s"} affected`,
  );
}

/** `maestro blame <run>`: exit 1 when the run has a root-cause failure. */
export async function blameCommand(ref: string, options: RunRefOptions): Promise<number> {
  const [run] = await loadRuns([ref], options);
  const report = blameRun(run!);
  if (options.json) printJson(report);
  else printBlame(report);
  return report.root_causes.length > 0 ? EXIT.failed : EXIT.ok;
}

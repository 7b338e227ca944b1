/**
 * `maestro reindex`: (re)builds the store from run directories, the source of truth. Each run
 * is one write transaction of upserts, so reindexing is idempotent and can run while other
 * runs write to the same store.
 *
 * @module
 */
import { isDirectory, pathExists } from "../fs.ts";
import { basename, dirname, join, resolve } from "../path.ts";
import type { InStatement } from "@libsql/client";
import { isRunDir, readRunDir } from "./run_dir.ts";
import { refreshRunTotals, replaceAttempts, upsertRun, upsertTask } from "./statements.ts";
import type { Store } from "./store.ts";
import { STORE_DIR } from "./location.ts";
import { ledgerRowsFromEvents, upsertLedgerRow } from "./ledger.ts";
import { RUN_FILES } from "../run/artifacts.ts";

/** What a reindex did. */
export interface ReindexReport {
  /** Run directories indexed. */
  runs: number;
  /** Task rows written. */
  tasks: number;
  /** One line per directory or file that could not be indexed (fully). */
  problems: string[];
}

/**
 * Expands paths into run directories: a run directory stands for itself; any other folder
 * stands for the run directories directly inside it (a run root such as `.maestro-runs`).
 *
 * @param paths folders, absolute or relative to the current folder
 * @returns the run directories (sorted, without duplicates), and paths that held none
 */
export async function collectRunDirs(
  paths: readonly string[],
): Promise<{ dirs: string[]; problems: string[] }> {
  const dirs = new Set<string>();
  const problems: string[] = [];
  for (const path of paths.map((p) => resolve(p))) {
    if (!isDirectory(path)) {
      problems.push(`${path}: not a folder`);
      continue;
    }
    if (isRunDir(path)) {
      dirs.add(path);
      continue;
    }
    let found = 0;
    const entries: Deno.DirEntry[] = [];
    for await (const entry of Deno.readDir(path)) entries.push(entry);
    for (const entry of entries.sort(byName)) {
      const child = join(path, entry.name);
      if (entry.isDirectory && isRunDir(child)) {
        dirs.add(child);
        found++;
      }
    }
    if (found === 0) problems.push(`${path}: no run directories in it`);
  }
  return { dirs: [...dirs].sort(), problems };
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function byName(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/**
 * The folders `maestro reindex` refreshes when given none: every run directory the store
 * already knows that still exists, plus, for a store at `<folder>/.maestro/maestro.db`, the
 * default run root `<folder>/.maestro-runs`.
 *
 * @param store the open store
 * @returns folders to pass to {@linkcode collectRunDirs}, and known run directories that are gone
 */
export async function defaultReindexPaths(
  store: Store,
): Promise<{ paths: string[]; missing: string[] }> {
  const paths: string[] = [];
  const missing: string[] = [];
  for (const row of await store.read("SELECT DISTINCT run_dir FROM runs ORDER BY run_dir")) {
    const dir = row["run_dir"];
    if (typeof dir !== "string") continue;
    if (pathExists(dir)) paths.push(dir);
    else missing.push(dir);
  }
  if (store.location.kind === "file" && basename(dirname(store.location.path)) === STORE_DIR) {
    const root = join(dirname(dirname(store.location.path)), ".maestro-runs");
    if (pathExists(root)) paths.push(root);
  }
  return { paths, missing };
}

/**
 * Indexes run directories: one transaction per run, upserting the run, its tasks and their
 * attempts.
 *
 * @param store the open store
 * @param dirs absolute paths of run directories
 * @param options called after each run (progress)
 * @returns counts and problems
 */
export async function reindexRunDirs(
  store: Store,
  dirs: readonly string[],
  options: { onRun?: (dir: string, tasks: number) => void } = {},
): Promise<ReindexReport> {
  const report: ReindexReport = { runs: 0, tasks: 0, problems: [] };
  for (const dir of dirs) {
    let snapshot;
    try {
      snapshot = await readRunDir(dir);
    } catch (error) {
      report.problems.push(describeError(error));
      continue;
    }
    const now = new Date().toISOString();
    const statements: InStatement[] = [upsertRun(snapshot.run, now)];
    for (const rows of snapshot.tasks) {
      statements.push(upsertTask(rows.task));
      statements.push(...replaceAttempts(rows.task.run_id, rows.task.task_id, rows.attempts));
    }
    statements.push(refreshRunTotals(snapshot.run.run_id));
    // the spend ledger, numbered as the live indexer numbers it (ledger.ts)
    const events = await Deno.readTextFile(join(dir, RUN_FILES.events)).catch(() => "");
    const ledger = ledgerRowsFromEvents(events, {
      runId: snapshot.run.run_id,
      planName: snapshot.run.plan_name,
    });
    statements.push(...ledger.map(upsertLedgerRow));
    try {
      await store.write(statements);
    } catch (error) {
      report.problems.push(`${dir}: cannot write to the store: ${describeError(error)}`);
      continue;
    }
    report.runs++;
    report.tasks += snapshot.tasks.length;
    report.problems.push(...snapshot.problems);
    options.onRun?.(dir, snapshot.tasks.length);
  }
  return report;
}

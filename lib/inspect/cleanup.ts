/**
 * `maestro cleanup`: deletes old run directories and their rows in the run store.
 *
 * Which runs: those the store knows (of the plan `--plan` names, if given) that are beyond the
 * newest `keep` of their plan **and** started more than `olderThanDays` days ago (each given
 * criterion must hold; at least one is required). Never deleted, whatever the criteria:
 *
 * - a run still going: no manifest, and a live process has its events.jsonl open or carries
 *   its `MAESTRO_RUN_ID` (lib/inspect/liveness.ts); where that cannot be told (no /proc), no
 *   run without a manifest is deleted;
 * - a run that a kept run was resumed from (the kept run's reused tasks point at its logs), and
 *   so on down the chain;
 * - anything that is not exactly the run's directory: the path must be absolute, its name must
 *   start with the run id, it must be a real folder (not a symbolic link) holding that run's
 *   events.jsonl or manifest. Only that one folder is removed, never its parent.
 *
 * Rows go after their directory (one transaction per batch): if removing a directory fails its
 * rows stay, so the store never forgets a run that is still on disk. Rows whose directory is
 * already gone are removed too. Other tables (cache entries, the budget ledger) are not touched.
 *
 * @module
 */
import { pathExists, readDirNamesSync } from "../fs.ts";
import { basename, dirname, isAbsolute, join } from "../path.ts";
import { RUN_FILES } from "../run/artifacts.ts";
import type { Store } from "../store/store.ts";
import { type LiveScan, runLiveness, scanLiveRuns } from "./liveness.ts";

/** Criteria of {@linkcode cleanupRuns}. */
export interface CleanupOptions {
  /** Keep the newest N runs of each plan. */
  keep?: number;
  /** Only runs that started more than this many days ago. */
  olderThanDays?: number;
  /** Only runs of this plan. */
  plan?: string;
  /** List, delete nothing. @default {false} */
  dryRun?: boolean;
  /** The current time (tests). @default {new Date()} */
  now?: Date;
}

/** A run deleted (or that would be, with `dryRun`). */
export interface CleanedRun {
  /** Run id. */
  run_id: string;
  /** Plan name. */
  plan_name: string;
  /** Status as `maestro runs` shows it (a killed run: `incomplete`). */
  status: string;
  /** ISO-8601 start. */
  started_at: string;
  /** The run directory. */
  run_dir: string;
  /** Its size in bytes (0 when already gone). */
  bytes: number;
  /** The directory was already gone: only the rows are removed. */
  dir_missing: boolean;
}

/** A run the criteria selected but that was kept. */
export interface KeptRun {
  /** Run id. */
  run_id: string;
  /** Plan name. */
  plan_name: string;
  /** The run directory. */
  run_dir: string;
  /** Why it was kept. */
  reason: string;
}

/** What {@linkcode cleanupRuns} did. */
export interface CleanupReport {
  /** Nothing was deleted. */
  dry_run: boolean;
  /** The criteria. */
  criteria: { keep: number | null; older_than_days: number | null; plan: string | null };
  /** Runs deleted (or to delete), oldest first. */
  deleted: CleanedRun[];
  /** Runs selected but kept (still running, resumed by a kept run). */
  kept: KeptRun[];
  /** Σ bytes of the deleted directories. */
  freed_bytes: number;
  /** Directories that could not or must not be removed (their rows are kept). */
  problems: string[];
}

interface Row {
  run_id: string;
  plan_name: string;
  status: string;
  started_at: string;
  run_dir: string;
  resumed_from: string | null;
}

/** `YYYY-MM-DDTHH:MM:SS.ffffff+00:00`: the form `started_at` has in the store. */
function storeTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, ".$1000+00:00");
}

async function readJsonRows(
  store: Store,
  sql: string,
  args: (string | number)[],
): Promise<unknown[][]> {
  const rows = await store.read(sql, args);
  const text = rows[0]?.["rows"];
  return typeof text === "string" ? JSON.parse(text) as unknown[][] : [];
}

function rowOf(r: unknown[]): Row {
  const s = (i: number) => (typeof r[i] === "string" ? r[i] as string : "");
  return {
    run_id: s(0),
    plan_name: s(1),
    status: s(2),
    started_at: s(3),
    run_dir: s(4),
    resumed_from: typeof r[5] === "string" ? r[5] as string : null,
  };
}

/** The run id a run directory's own files name (events.jsonl's first line, else the manifest). */
function runIdOnDisk(dir: string): string | null {
  try {
    const file = Deno.openSync(join(dir, RUN_FILES.events), { read: true });
    try {
      const head = new Uint8Array(64 * 1024);
      const n = file.readSync(head) ?? 0;
      const text = new TextDecoder().decode(head.subarray(0, n));
      const first = JSON.parse(text.split("\n", 1)[0]!);
      if (first?.event === "run_start" && typeof first.run_id === "string") return first.run_id;
    } finally {
      file.close();
    }
  } catch { /* no readable first line */ }
  try {
    const manifest = JSON.parse(Deno.readTextFileSync(join(dir, RUN_FILES.manifest)));
    if (typeof manifest?.run_id === "string") return manifest.run_id;
  } catch { /* none */ }
  return null;
}

/** Why a directory must not be removed as this run's, or null when it may. */
function unsafeReason(row: Row): string | null {
  const dir = row.run_dir;
  if (!isAbsolute(dir)) return "its directory is not an absolute path";
  if (dirname(dir) === dir || dirname(dir) === "/") return "its directory is a top-level folder";
  if (!basename(dir).startsWith(row.run_id)) return "the directory's name is not the run's";
  const info = Deno.lstatSync(dir);
  if (info.isSymlink) return "its directory is a symbolic link";
  if (!info.isDirectory) return "its path is not a directory";
  const onDisk = runIdOnDisk(dir);
  if (onDisk === null) return "the directory holds no readable events.jsonl or manifest";
  if (onDisk !== row.run_id) return `the directory holds run ${onDisk}`;
  return null;
}

function sizeOf(dir: string): number {
  let total = 0;
  const stack = [dir];
  while (stack.length > 0) {
    const at = stack.pop()!;
    let names: string[];
    try {
      names = readDirNamesSync(at);
    } catch {
      continue;
    }
    for (const name of names) {
      const path = join(at, name);
      try {
        const info = Deno.lstatSync(path);
        if (info.isDirectory) stack.push(path);
        else total += info.size;
      } catch { /* gone */ }
    }
  }
  return total;
}

const BATCH = 400;

async function deleteRows(store: Store, ids: readonly string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += BATCH) {
    const batch = ids.slice(i, i + BATCH);
    const marks = batch.map(() => "?").join(", ");
    await store.write(
      ["attempts", "task_results", "runs"].map((table) => ({
        sql: `DELETE FROM ${table} WHERE run_id IN (${marks})`,
        args: [...batch],
      })),
    );
  }
}

/**
 * Selects and deletes old runs.
 *
 * @param store the open store
 * @param options criteria and `dryRun`
 * @returns what was (or would be) deleted, kept, and the problems
 */
export async function cleanupRuns(store: Store, options: CleanupOptions): Promise<CleanupReport> {
  const keep = options.keep;
  const days = options.olderThanDays;
  if (keep === undefined && days === undefined) {
    throw new TypeError("Cannot clean up: give 'keep' or 'olderThanDays'");
  }
  const now = options.now ?? new Date();
  const cutoff = days === undefined ? null : new Date(now.getTime() - days * 86_400_000);
  const ranked = `SELECT run_id, plan_name, status, started_at, run_dir, resumed_from,
      ROW_NUMBER() OVER (PARTITION BY plan_name ORDER BY started_at DESC, run_id DESC) AS n
    FROM runs ${options.plan !== undefined ? "WHERE plan_name = ?" : ""}`;
  const condition = [
    keep !== undefined ? "n > ?" : null,
    cutoff !== null ? "started_at < ?" : null,
  ].filter(Boolean).join(" AND ");
  const args: (string | number)[] = options.plan !== undefined ? [options.plan] : [];
  const selectArgs = [...args];
  if (keep !== undefined) selectArgs.push(keep);
  if (cutoff !== null) selectArgs.push(storeTime(cutoff));
  // one JSON value instead of one row object per run: the client builds row objects slowly
  // (about 25 µs each), which made a dry run over 10 000 runs take a second
  const selected = (await readJsonRows(
    store,
    `SELECT json_group_array(json_array(run_id, plan_name, status, started_at, run_dir,
       resumed_from)) AS rows FROM (SELECT * FROM (${ranked}) WHERE ${condition}
       ORDER BY started_at, run_id)`,
    selectArgs,
  )).map(rowOf)
    // string order matches time order for the store's own format; check the rest by value
    .filter((row) => cutoff === null || !(Date.parse(row.started_at) >= cutoff.getTime()));
  // runs that stay and were resumed from another: the chain they reuse stays too
  const stay = (await readJsonRows(
    store,
    `SELECT json_group_array(json_array(run_id, resumed_from)) AS rows FROM (${ranked})
     WHERE resumed_from IS NOT NULL AND NOT (${condition})`,
    selectArgs,
  )).map(([by, dir]) => ({ by: String(by), dir: String(dir) }));

  const kept: KeptRun[] = [];
  const keptIds = new Set<string>();
  const keepRun = (row: Row, reason: string) => {
    if (keptIds.has(row.run_id)) return;
    keptIds.add(row.run_id);
    kept.push({ run_id: row.run_id, plan_name: row.plan_name, run_dir: row.run_dir, reason });
  };
  const byDir = new Map(selected.map((row) => [row.run_dir, row]));
  const queue = [...stay];
  while (queue.length > 0) {
    const { by, dir } = queue.pop()!;
    const row = byDir.get(dir);
    if (!row || keptIds.has(row.run_id)) continue;
    keepRun(row, `run ${by}, which is kept, was resumed from it and reuses its logs`);
    if (row.resumed_from) queue.push({ by: row.run_id, dir: row.resumed_from });
  }

  let scan: LiveScan | undefined;
  const lazyScan = () => (scan ??= scanLiveRuns());
  const deleted: CleanedRun[] = [];
  const problems: string[] = [];
  // `shown`: the status `maestro runs` gives it (a killed run's row still says running)
  const removable: { row: Row; missing: boolean; shown: string }[] = [];
  for (const row of selected) {
    if (keptIds.has(row.run_id)) continue;
    if (!pathExists(row.run_dir)) {
      removable.push({ row, missing: true, shown: row.status });
      continue;
    }
    const liveness = runLiveness(row.run_dir, row.run_id, lazyScan);
    if (liveness === "running") {
      keepRun(row, "still running");
      continue;
    }
    if (liveness === "unknown") {
      keepRun(row, "no manifest, and whether it still runs cannot be told here");
      continue;
    }
    let unsafe: string | null;
    try {
      unsafe = unsafeReason(row);
    } catch (error) {
      unsafe = error instanceof Error ? error.message : String(error);
    }
    if (unsafe) {
      problems.push(`${row.run_dir}: not deleted: ${unsafe}`);
      continue;
    }
    const shown = row.status === "running" && liveness === "stopped" ? "incomplete" : row.status;
    removable.push({ row, missing: false, shown });
  }

  const gone: string[] = [];
  for (const { row, missing, shown } of removable) {
    const bytes = missing ? 0 : sizeOf(row.run_dir);
    if (!options.dryRun && !missing) {
      try {
        Deno.removeSync(row.run_dir, { recursive: true });
      } catch (error) {
        problems.push(`${row.run_dir}: cannot delete: ${(error as Error).message}`);
        continue;
      }
    }
    gone.push(row.run_id);
    deleted.push({
      run_id: row.run_id,
      plan_name: row.plan_name,
      status: shown,
      started_at: row.started_at,
      run_dir: row.run_dir,
      bytes,
      dir_missing: missing,
    });
  }
  if (!options.dryRun) await deleteRows(store, gone);
  return {
    dry_run: options.dryRun === true,
    criteria: { keep: keep ?? null, older_than_days: days ?? null, plan: options.plan ?? null },
    deleted,
    kept,
    freed_bytes: deleted.reduce((sum, d) => sum + d.bytes, 0),
    problems,
  };
}

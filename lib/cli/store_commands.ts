/**
 * Commands that read or rebuild the run store: `maestro runs` (history) and `maestro reindex`
 * (rebuild from run directories). Loaded only when one of them runs: the store's libSQL client
 * is never on the path of `validate` or `--version`.
 *
 * @module
 */
import { EXIT, MaestroError } from "../errors.ts";
import { displayLocation } from "../store/location.ts";
import type { RunStatus } from "../store/records.ts";
import { importLater } from "../import_later.ts";
import { storeForRead, storeForReindex } from "../store/resolve.ts";
import { listRuns, type RunSummary } from "../store/runs_query.ts";
import { openStore, type Store } from "../store/store.ts";
import { UsageError } from "./args.ts";
import { localTime, paint, printJson } from "./output.ts";

/** Options of `maestro runs`. */
export interface RunsCommandOptions {
  /** `--db`: a store path or URL. */
  db?: string;
  /** `--plan`: only this plan's runs. */
  plan?: string;
  /** `--status`: only runs with this status. */
  status?: RunStatus;
  /** `--limit`: how many (text as given). */
  limit?: string;
  /** `--json`: one document. */
  json?: boolean;
}

/** Read commands wait longer than a run's indexer: blocking the event loop is harmless here. */
const READ_BUSY_TIMEOUT_MS = 1_000;

function parseLimit(text: string | undefined): number {
  if (text === undefined) return 20;
  const limit = Number(text);
  if (!Number.isInteger(limit) || limit < 1) {
    throw new UsageError(`runs: option '--limit' expects a whole number >= 1, got '${text}'`);
  }
  return limit;
}

/** `1.2s`, `3m05s`, `1h02m`, or `-`. */
export function formatDuration(seconds: number | null): string {
  if (seconds === null) return "-";
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const whole = Math.round(seconds);
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = whole % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, "0")}m` : `${m}m${String(s).padStart(2, "0")}s`;
}

function statusCell(status: RunStatus): string {
  const color = status === "success"
    ? "green"
    : status === "failed"
    ? "red"
    : status === "running"
    ? "bold"
    : "yellow";
  return paint(status, color);
}

/** The history table: one line per run, columns padded to their widest cell. */
export function runsTable(runs: readonly RunSummary[]): string {
  const header = [
    "RUN",
    "PLAN",
    "STATUS",
    "STARTED",
    "DURATION",
    "OK",
    "FAILED",
    "SKIPPED",
    "COST",
  ];
  const rows = runs.map((run) => [
    run.run_id,
    run.plan_name,
    run.status,
    localTime(run.started_at),
    formatDuration(run.duration_sec),
    String(run.tasks.success + run.tasks.soft_failed),
    String(run.tasks.failed),
    String(run.tasks.skipped + run.tasks.cancelled),
    run.cost_usd === null ? "-" : `$${run.cost_usd.toFixed(4)}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[], colorStatus: boolean) =>
    cells.map((cell, i) => {
      const padded = cell.padEnd(widths[i]!);
      return colorStatus && i === 2
        ? statusCell(cell as RunStatus) + padded.slice(cell.length)
        : padded;
    }).join("  ").trimEnd();
  return [line(header, false), ...rows.map((r) => line(r, true))].join("\n");
}

async function open(location: Parameters<typeof openStore>[0], create: boolean): Promise<Store> {
  return await openStore(location, { busyTimeoutMs: READ_BUSY_TIMEOUT_MS, create });
}

/** `maestro runs`: history, newest first. */
export async function runsCommand(options: RunsCommandOptions): Promise<number> {
  const limit = parseLimit(options.limit);
  const location = storeForRead({ db: options.db });
  // reading never creates a file: a mistyped --db path is an error, not a new empty store
  const store = await open(location, false);
  try {
    const runs = await listRuns(store, { plan: options.plan, status: options.status, limit })
      .catch((error: unknown) => {
        throw new MaestroError(
          "E122",
          `cannot read the run store ${displayLocation(location)}: ${
            error instanceof Error ? error.message : String(error)
          }`,
          { hint: "`maestro reindex` rebuilds it from the run directories" },
        );
      });
    if (options.json) {
      printJson({ store: displayLocation(location), runs });
      return EXIT.ok;
    }
    if (runs.length === 0) {
      const filters = [options.plan && `plan ${options.plan}`, options.status].filter(Boolean);
      console.log(
        `no runs in ${displayLocation(location)}${
          filters.length ? ` (${filters.join(", ")})` : ""
        }`,
      );
      return EXIT.ok;
    }
    console.log(runsTable(runs));
    return EXIT.ok;
  } finally {
    store.close();
  }
}

/** Options of `maestro reindex`. */
export interface ReindexCommandOptions {
  /** `--db`: a store path or URL. */
  db?: string;
}

/** `maestro reindex [dirs…]`: rebuild or refresh the store from run directories. */
export async function reindexCommand(
  paths: readonly string[],
  options: ReindexCommandOptions,
): Promise<number> {
  const location = storeForReindex({ db: options.db });
  // reindex reads results and manifests (engines' pricing included): `maestro runs` needs none
  const { collectRunDirs, defaultReindexPaths, reindexRunDirs } = await importLater<
    typeof import("../store/reindex.ts")
  >(new URL("../store/reindex.ts", import.meta.url));
  let collected: { dirs: string[]; problems: string[] } | undefined;
  if (paths.length > 0) {
    // checked before the store is touched: a typo creates nothing
    collected = await collectRunDirs(paths);
    if (collected.dirs.length === 0) {
      throw new MaestroError("E124", `no run directories found in ${paths.join(", ")}`, {
        exitCode: EXIT.invalid,
        hint:
          "pass run directories (they hold events.jsonl) or folders of them, e.g. .maestro-runs",
      });
    }
  }
  const store = await open(location, true);
  try {
    const problems: string[] = [];
    // known runs whose directory was deleted: worth saying, not a failure (rows are kept)
    const notes: string[] = [];
    if (!collected) {
      const defaults = await defaultReindexPaths(store);
      collected = await collectRunDirs(defaults.paths);
      notes.push(...defaults.missing.map((dir) => `${dir}: run directory no longer exists`));
    }
    problems.push(...collected.problems);
    const report = await reindexRunDirs(store, collected.dirs);
    problems.push(...report.problems);
    console.log(
      `indexed ${report.runs} run${report.runs === 1 ? "" : "s"} (${report.tasks} task${
        report.tasks === 1 ? "" : "s"
      }) into ${displayLocation(location)}`,
    );
    for (const note of notes) {
      console.error(`  ${paint("note:", "dim")} ${note} (its rows are kept)`);
    }
    for (const problem of problems) console.error(`  ${paint("warning:", "yellow")} ${problem}`);
    return problems.length > 0 ? EXIT.failed : EXIT.ok;
  } finally {
    store.close();
  }
}

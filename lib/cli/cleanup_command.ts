/**
 * `maestro cleanup [--keep N] [--older-than DAYS] [--plan NAME] [--dry-run] [--json]`: deletes
 * old run directories and their store rows (lib/inspect/cleanup.ts says which, and which never).
 *
 * @module
 */
import { EXIT, MaestroError } from "../errors.ts";
import { type CleanupReport, cleanupRuns } from "../inspect/cleanup.ts";
import { displayLocation } from "../store/location.ts";
import { storeForRead } from "../store/resolve.ts";
import { openStore } from "../store/store.ts";
import { UsageError } from "./args.ts";
import { displayPath, localTime, paint, printJson } from "./output.ts";

/** Options of `maestro cleanup`. */
export interface CleanupCommandOptions {
  /** `--keep`: newest runs kept per plan (text as given). */
  keep?: string;
  /** `--older-than`: days (text as given). */
  olderThan?: string;
  /** `--plan`: only this plan's runs. */
  plan?: string;
  /** `--dry-run`: list, delete nothing. */
  dryRun?: boolean;
  /** `--json`: one document. */
  json?: boolean;
  /** `--db`: a store path or URL. */
  db?: string;
}

function parseCount(text: string | undefined, flag: string, integer: boolean): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (
    text.trim() === "" || !Number.isFinite(value) || value < 0 ||
    (integer && !Number.isInteger(value))
  ) {
    throw new UsageError(
      `cleanup: option '--${flag}' expects ${
        integer ? "a whole number" : "a number"
      } >= 0, got '${text}'`,
    );
  }
  return value;
}

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}

function printReport(report: CleanupReport): void {
  const n = report.deleted.length;
  const runs = `${n} run${n === 1 ? "" : "s"}`;
  if (n === 0) {
    console.log("nothing to delete");
  } else {
    console.log(
      report.dry_run
        ? `would delete ${runs} (${size(report.freed_bytes)}); dry run: nothing deleted`
        : `deleted ${runs} (${size(report.freed_bytes)}) and their rows in the store`,
    );
    const cells = report.deleted.map((d) => [
      d.run_id,
      d.plan_name,
      d.status,
      localTime(d.started_at),
      d.dir_missing ? "(gone)" : size(d.bytes),
      displayPath(d.run_dir),
    ]);
    const widths = cells[0]!.map((_, i) => Math.max(...cells.map((c) => c[i]!.length)));
    // one write: a console.log per line costs seconds for thousands of runs
    console.log(
      cells.map((c) => `  ${c.map((x, i) => x.padEnd(widths[i]!)).join("  ").trimEnd()}`).join(
        "\n",
      ),
    );
  }
  for (const k of report.kept) {
    console.log(`${paint("kept", "yellow")} ${k.run_id} (${k.plan_name}): ${k.reason}`);
  }
  for (const p of report.problems) console.error(`  ${paint("warning:", "yellow")} ${p}`);
}

/** `maestro cleanup`: exit 0; 1 when a directory could not (or must not) be deleted. */
export async function cleanupCommand(options: CleanupCommandOptions): Promise<number> {
  const keep = parseCount(options.keep, "keep", true);
  const olderThanDays = parseCount(options.olderThan, "older-than", false);
  if (keep === undefined && olderThanDays === undefined) {
    throw new UsageError(
      "cleanup: give '--keep <n>' (newest runs kept per plan) and/or '--older-than <days>'",
    );
  }
  const location = storeForRead({ db: options.db });
  const store = await openStore(location, { busyTimeoutMs: 1_000, create: false });
  try {
    const report = await cleanupRuns(store, {
      keep,
      olderThanDays,
      plan: options.plan,
      dryRun: options.dryRun,
    }).catch((error: unknown) => {
      if (error instanceof MaestroError) throw error;
      throw new MaestroError(
        "E122",
        `cannot clean up the run store ${displayLocation(location)}: ${
          error instanceof Error ? error.message : String(error)
        }`,
        { hint: "`maestro reindex` rebuilds it from the run directories" },
      );
    });
    if (options.json) printJson({ store: displayLocation(location), ...report });
    else printReport(report);
    return report.problems.length > 0 ? EXIT.failed : EXIT.ok;
  } finally {
    store.close();
  }
}

/**
 * Is a run still going? A finished run has `run_manifest.json`. One without it was killed, or
 * is still running: maestro keeps the run's `events.jsonl` open for appending until the end,
 * and every task process carries `MAESTRO_RUN_ID=<run>` in its environment. On Linux both are
 * visible in /proc (for the processes this user may inspect); elsewhere nothing can be told,
 * and a run without a manifest is taken as possibly running.
 *
 * @module
 */
import { pathExists } from "../fs.ts";
import { join } from "../path.ts";
import { environOf, otherProcessIds } from "../proc.ts";
import { RUN_FILES } from "../run/artifacts.ts";

/** What the live processes hold. */
export interface LiveScan {
  /** Whether /proc could be read (otherwise nothing is known). */
  known: boolean;
  /** events.jsonl files some process has open. */
  openEventLogs: Set<string>;
  /** `MAESTRO_RUN_ID` values of live processes. */
  runIds: Set<string>;
}

/** Scans /proc once: the event logs open and the run ids in the environments of live processes. */
export function scanLiveRuns(): LiveScan {
  const scan: LiveScan = { known: false, openEventLogs: new Set(), runIds: new Set() };
  const pids = otherProcessIds();
  if (!pids) return scan;
  scan.known = true;
  for (const pid of pids) {
    for (const entry of environOf(pid) ?? []) {
      if (entry.startsWith("MAESTRO_RUN_ID=")) scan.runIds.add(entry.slice(15));
    }
    let fds: string[];
    try {
      fds = Array.from(Deno.readDirSync(`/proc/${pid}/fd`), (e) => e.name);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const target = Deno.readLinkSync(`/proc/${pid}/fd/${fd}`);
        if (target.endsWith(`/${RUN_FILES.events}`)) scan.openEventLogs.add(target);
      } catch { /* closed meanwhile */ }
    }
  }
  return scan;
}

/** Whether a run is finished, running, or cannot be told apart from a killed one. */
export type Liveness = "finished" | "running" | "unknown" | "stopped";

/**
 * Whether a run directory's run is still going.
 *
 * @param dir the run directory
 * @param runId its run id
 * @param scan a {@linkcode scanLiveRuns} result (taken lazily when needed and not given)
 * @returns `finished` (manifest), `running`, `stopped` (killed: nothing holds it), or `unknown`
 */
export function runLiveness(dir: string, runId: string, scan: () => LiveScan): Liveness {
  if (pathExists(join(dir, RUN_FILES.manifest))) return "finished";
  const live = scan();
  if (!live.known) return "unknown";
  return holdsEventLog(live, dir) || live.runIds.has(runId) ? "running" : "stopped";
}

/**
 * Whether a live process (the run's maestro) has the run's events.jsonl open: the run itself
 * is still going, not only processes it left behind.
 *
 * @param live a {@linkcode scanLiveRuns} result
 * @param dir the run directory
 */
export function holdsEventLog(live: LiveScan, dir: string): boolean {
  const log = join(dir, RUN_FILES.events);
  let real = log;
  try {
    real = Deno.realPathSync(log);
  } catch { /* no event log */ }
  return live.openEventLogs.has(log) || live.openEventLogs.has(real);
}

/**
 * `maestro run <plan...>`: load, run, report, and map the outcome to an exit code (0 success,
 * 1 run failed, 2 invalid plan or usage, 130 interrupted). The first SIGINT/SIGTERM cancels the
 * run gracefully (running process groups get TERM, then KILL); a second one kills every process
 * group at once and exits 130.
 *
 * Output: `--output live` (the default when stdout is a terminal and no `--output` was given)
 * draws the live view (lib/term/live.ts); on a pipe it falls back to `text`.
 *
 * Store: each run (not `--dry-run`, not `--no-store`) is indexed in the run store (`--db`, else
 * `MAESTRO_DB_URL`, else `.maestro/maestro.db` beside the plan; lib/store). A store problem is
 * one warning line and never changes the exit code: the run directory has everything.
 *
 * @module
 */
import { importLater } from "../import_later.ts";
import { EXIT, MaestroError } from "../errors.ts";
import type { LoadedPlan, TaskIR } from "../plan/ir.ts";
import { loadPlan } from "../plan/load.ts";
import type { EventSubscriber } from "../run/events.ts";
import { killGroup } from "../run/process.ts";
import { jsonlReporter, planTextReporters, textReporter, textSink } from "../run/reporter.ts";
import { findLastRun, runPlanName } from "../run/resume.ts";
import { excludedTasks, type Selection } from "../run/selection.ts";
import { resolve } from "../path.ts";
import { holdsEventLog, scanLiveRuns } from "../inspect/liveness.ts";
import { type RunManifest, runPlan } from "../run/run_plan.ts";
import { issueLines } from "./output.ts";
import { EXECUTION_PROFILES } from "../run/engine_executor.ts";
import type { ExecutionProfile } from "../../engines/types.ts";
import { parseSetValues } from "./plan_commands.ts";
import { explicitStore, storeForRun } from "../store/resolve.ts";
import type { RunIndexer } from "../store/indexer.ts";
import type { CacheBackend } from "../run/cache.ts";

/** Options of `maestro run`, as the command line gives them. */
export interface RunCommandOptions {
  dryRun?: boolean;
  maxParallel?: string;
  only?: string[];
  skip?: string[];
  tags?: string[];
  skipTags?: string[];
  set?: string[];
  runDir?: string;
  output?: "text" | "jsonl" | "live";
  autoApprove?: boolean;
  maskSecrets?: boolean;
  parallel?: boolean;
  resume?: string;
  resumeLast?: boolean;
  /** `--wait-orphans`: wait for the resumed run's live processes instead of stopping them. */
  waitOrphans?: boolean;
  verbose?: boolean;
  /** `--execution-profile plan|safe|yolo`: how much engine agents may do unasked. */
  executionProfile?: string;
  /** `--db <path|url>`: the run store (else MAESTRO_DB_URL, else beside each plan). */
  db?: string;
  /** false with `--no-store`: do not index the run. @default {true} */
  store?: boolean;
  /** false with `--no-cache`: look no task result up (docs/cache.md). @default {true} */
  cache?: boolean;
}

/** A comma-separated list flag; a flag given with nothing in it is a usage error. */
function ids(flag: string, values: readonly string[] | undefined): string[] | undefined {
  // repeatable flags come as [] when absent
  if (values === undefined || values.length === 0) return undefined;
  const list = values.flatMap((v) => v.split(",")).map((v) => v.trim()).filter(Boolean);
  if (list.length === 0) throw usage(`${flag} needs at least one name (got "${values.join(",")}")`);
  return list;
}

/**
 * The run directory a resume continues, checked before anything runs: it must be a run
 * directory, and a run of this plan (a run of another plan would hand its results to tasks that
 * only share their ids).
 */
function resumeSource(plan: LoadedPlan, options: RunCommandOptions): string | undefined {
  const path = options.resumeLast
    ? lastRunOf(plan, options.runDir)
    : options.resume === undefined
    ? undefined
    : namedRunOf(plan, options.resume);
  if (path === undefined) return undefined;
  // its maestro still writes events.jsonl: resuming would stop that run's tasks as orphans
  if (holdsEventLog(scanLiveRuns(), path)) {
    throw new MaestroError("E117", `${options.resume ?? path} is still running`, {
      hint: "wait for it to end (or stop it with Ctrl-C), then resume",
      exitCode: EXIT.invalid,
    });
  }
  return path;
}

/** `--resume-last`: findLastRun already took only runs that record this plan. */
function lastRunOf(plan: LoadedPlan, runDir: string | undefined): string {
  const root = runDir ?? plan.ir.run_dir;
  const last = findLastRun(root, plan.ir.name);
  if (!last) {
    throw new MaestroError("E112", `no earlier run of plan "${plan.ir.name}" under ${root}`, {
      exitCode: EXIT.invalid,
    });
  }
  return last;
}

/** `--resume <dir>`: a run directory, of this plan. */
function namedRunOf(plan: LoadedPlan, dir: string): string {
  const path = resolve(dir);
  const planName = runPlanName(path);
  if (planName === undefined) {
    throw new MaestroError("E113", `${dir} is not a run directory (no events.jsonl)`, {
      hint: "pass a folder under the plan's run_dir, or use --resume-last",
      exitCode: EXIT.invalid,
    });
  }
  if (planName !== null && planName !== plan.ir.name) {
    throw new MaestroError(
      "E115",
      `${dir} is a run of plan "${planName}", not of "${plan.ir.name}"`,
      {
        hint: "resume a run of this plan (see `maestro runs`), or use --resume-last",
        exitCode: EXIT.invalid,
      },
    );
  }
  return path;
}

function usage(message: string): MaestroError {
  return new MaestroError("E111", message, { exitCode: EXIT.invalid });
}

async function ask(question: string): Promise<boolean> {
  const encoder = new TextEncoder();
  Deno.stderr.writeSync(encoder.encode(question));
  const buffer = new Uint8Array(256);
  const n = await Deno.stdin.read(buffer);
  const answer = n ? new TextDecoder().decode(buffer.subarray(0, n)).trim().toLowerCase() : "";
  return answer === "y" || answer === "yes";
}

/** Serialises approval prompts: two parallel tasks never ask at once. */
function ttyApprover(): ((task: TaskIR) => Promise<boolean>) | undefined {
  if (!Deno.stdin.isTerminal()) return undefined;
  let queue = Promise.resolve(false);
  return (task) => {
    const message = typeof task.approval_message === "string" ? ` ${task.approval_message}` : "";
    queue = queue.then(() => ask(`Approve task '${task.id}'?${message} [y/N] `));
    return queue;
  };
}

/** The terminal view chosen by the options: what it subscribes, and how it is told things. */
interface View {
  subscriber: EventSubscriber;
  /** The text view of plans run with `--parallel`: each plan's lines marked with its name. */
  forPlan?: (plan: string) => EventSubscriber;
  /** A message for the user (printed above a live frame, else on stderr). */
  notice: (text: string) => void;
  /** Leaves the terminal as it found it. */
  stop: () => void;
}

/**
 * `jsonl`, `text`, or `live`. Live needs a terminal on stdout (plain text otherwise) and is the
 * default there; `-v` (every output line) asks for the scrolling text view.
 */
async function view(options: RunCommandOptions): Promise<View> {
  const notice = (text: string) => console.error(text);
  if (options.output === "jsonl") return { subscriber: jsonlReporter(), notice, stop: () => {} };
  const wantsLive = options.output === "live" ||
    (options.output === undefined && options.verbose !== true);
  if (wantsLive && Deno.stdout.isTerminal()) {
    // log-update and its width tables cost ≈ 35 ms to load: only a terminal pays for them
    const { createLiveView } = await importLater<typeof import("../term/live.ts")>(
      new URL("../term/live.ts", import.meta.url),
    );
    return createLiveView();
  }
  const verbose = options.verbose === true;
  const sink = textSink();
  return {
    subscriber: textReporter(sink, verbose),
    forPlan: planTextReporters(sink, verbose),
    notice,
    stop: () => {},
  };
}

/** Wires SIGINT/SIGTERM to the controller; returns a function that removes the listeners. */
function handleSignals(
  controller: AbortController,
  groups: Set<number>,
  output: View,
): () => void {
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  let count = 0;
  const handler = () => {
    count++;
    if (count === 1) {
      output.notice("maestro: cancelling (send the signal again to kill at once)");
      controller.abort();
      return;
    }
    for (const pgid of groups) killGroup(pgid, "SIGKILL");
    output.stop();
    Deno.exit(EXIT.interrupted);
  };
  for (const signal of signals) Deno.addSignalListener(signal, handler);
  return () => {
    for (const signal of signals) Deno.removeSignalListener(signal, handler);
  };
}

/**
 * The run's store indexer (lib/store/indexer.ts, loaded only when a run is indexed). Store
 * trouble never fails the run: it is one warning line, with the command that catches up.
 */
async function runIndexer(
  plan: LoadedPlan,
  db: string | undefined,
  output: View,
): Promise<RunIndexer> {
  const { createRunIndexer } = await importLater<typeof import("../store/indexer.ts")>(
    new URL("../store/indexer.ts", import.meta.url),
  );
  return createRunIndexer(storeForRun(plan.source, { db }), {
    planPath: plan.source,
    onWarning: (message) => output.notice(`maestro: warning: ${message}`),
  });
}

/**
 * The run's task result cache, in the same store (lib/store/cache_store.ts, loaded only when a
 * run uses the store). Store trouble disables the cache with one warning line.
 */
async function runCache(
  plan: LoadedPlan,
  db: string | undefined,
  output: View,
): Promise<CacheBackend> {
  const { createCacheStore } = await importLater<typeof import("../store/cache_store.ts")>(
    new URL("../store/cache_store.ts", import.meta.url),
  );
  return createCacheStore(storeForRun(plan.source, { db }), {
    onWarning: (message) => output.notice(`maestro: warning: ${message}`),
    probeVersion: async (path) => {
      const { probeVersion } = await importLater<typeof import("./doctor_checks.ts")>(
        new URL("./doctor_checks.ts", import.meta.url),
      );
      return (await probeVersion(path)).version;
    },
  });
}

function exitCodeOf(manifest: RunManifest): number {
  if (manifest.interrupted) return EXIT.interrupted;
  return manifest.success ? EXIT.ok : EXIT.failed;
}

/** `maestro run <plan...>`. */
export async function runCommand(paths: string[], options: RunCommandOptions): Promise<number> {
  const set = parseSetValues(options.set);
  if (typeof set === "string") throw usage(set);
  const maxParallel = options.maxParallel === undefined ? undefined : Number(options.maxParallel);
  if (maxParallel !== undefined && !(Number.isInteger(maxParallel) && maxParallel >= 1)) {
    throw usage(`--max-parallel expects a whole number >= 1, got "${options.maxParallel}"`);
  }
  if ((options.resume || options.resumeLast) && paths.length > 1) {
    throw usage("--resume and --resume-last take exactly one plan");
  }
  if (options.resume && options.resumeLast) throw usage("use either --resume or --resume-last");
  if (options.waitOrphans && !options.resume && !options.resumeLast) {
    throw usage("--wait-orphans goes with --resume or --resume-last");
  }
  const profile = options.executionProfile ?? "plan";
  if (!(EXECUTION_PROFILES as readonly string[]).includes(profile)) {
    throw usage(`--execution-profile expects plan, safe or yolo, got "${profile}"`);
  }
  const indexing = options.store !== false && options.dryRun !== true;
  // a bad --db / MAESTRO_DB_URL is a usage error before anything runs (no libSQL loaded)
  if (indexing) explicitStore({ db: options.db });

  const plans: LoadedPlan[] = [];
  for (const path of paths) {
    const outcome = await loadPlan(path, { set });
    for (const w of outcome.warnings) console.error(issueLines(w, "warning"));
    if (!outcome.plan) {
      for (const e of outcome.errors) console.error(issueLines(e, "error"));
      return EXIT.invalid;
    }
    plans.push(outcome.plan);
  }

  // every usage problem of every plan is found before any plan starts
  const selection: Selection = {
    only: ids("--only", options.only),
    skip: ids("--skip", options.skip),
    tags: ids("--tags", options.tags),
    skipTags: ids("--skip-tags", options.skipTags),
  };
  const resumeFrom = new Map<LoadedPlan, string | undefined>();
  for (const plan of plans) {
    excludedTasks(plan.ir.tasks, selection);
    resumeFrom.set(plan, resumeSource(plan, options));
  }

  const controller = new AbortController();
  const groups = new Set<number>();
  const output = await view(options);
  const removeSignals = handleSignals(controller, groups, output);
  const trackGroups: EventSubscriber = ({ event }) => {
    if (event.event === "task_attempt") groups.add(event.pgid);
  };
  // plans run side by side in the text view: say which plan each line is about
  const marked = options.parallel === true && plans.length > 1;
  const runOne = async (plan: LoadedPlan): Promise<number> => {
    const subscriber = (marked ? output.forPlan?.(plan.ir.name) : undefined) ??
      output.subscriber;
    const store = indexing ? await runIndexer(plan, options.db, output) : undefined;
    // the cache lives in the store: --no-store (or a dry run) runs without it
    const cache = indexing ? await runCache(plan, options.db, output) : undefined;
    // max_cost_usd: cost history and the spend ledger from the store (docs/cost.md)
    const budget = indexing && typeof plan.ir.max_cost_usd === "number"
      ? await (await importLater<typeof import("./budget_commands.ts")>(
        new URL("./budget_commands.ts", import.meta.url),
      ))
        .budgetSources(plan, storeForRun(plan.source, { db: options.db }))
      : undefined;
    const manifest = await runPlan(plan, {
      signal: controller.signal,
      maxParallel,
      dryRun: options.dryRun,
      runDir: options.runDir,
      set,
      ...selection,
      autoApprove: options.autoApprove,
      approve: ttyApprover(),
      maskSecrets: options.maskSecrets,
      resumeFrom: resumeFrom.get(plan),
      waitOrphans: options.waitOrphans === true,
      executionProfile: profile as ExecutionProfile,
      onEvent: (record) => {
        trackGroups(record);
        subscriber(record);
      },
      store,
      budget: budget?.options,
      cache,
      noCache: options.cache === false,
    }).finally(async () => {
      await Promise.all([store?.close(), cache?.close()]);
      budget?.close();
    });
    return exitCodeOf(manifest);
  };

  try {
    const codes: number[] = [];
    if (options.parallel) {
      // every plan ends (cancelled on Ctrl-C) before the first error is reported
      const settled = await Promise.allSettled(plans.map(runOne));
      const failure = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
      const ended = settled.filter((s) => s.status === "fulfilled").map((s) => s.value);
      if (failure) {
        if (!ended.includes(EXIT.interrupted)) throw failure.reason;
        const reason = failure.reason;
        console.error(`maestro: ${reason instanceof Error ? reason.message : String(reason)}`);
      }
      codes.push(...ended);
    } else for (const plan of plans) codes.push(await runOne(plan));
    if (codes.includes(EXIT.interrupted)) return EXIT.interrupted;
    return codes.some((c) => c !== EXIT.ok) ? EXIT.failed : EXIT.ok;
  } finally {
    output.stop();
    removeSignals();
  }
}

/**
 * Indexing a run in the store as it happens: an event-bus subscriber that queues what
 * happened and writes it in batches, off the scheduler's path.
 *
 * - The subscriber only records the event in memory (constant time, never throws). A timer
 *   flushes the queue: one write transaction per flush, however many tasks finished.
 * - The store is opened by the first flush, scheduled as soon as the first task process has
 *   started (`task_attempt`): loading libSQL and its native addon (tens of milliseconds of
 *   synchronous work) then overlaps that process instead of delaying the first spawn.
 * - A task's row is built from its `<task>.result.json`, which the runtime writes before it
 *   emits `task_complete` (and hands over as text, so the file is not read back); the run's
 *   final row from `run_manifest.json`. These are the files `maestro reindex` reads, so live
 *   and reindexed rows agree.
 * - A busy database is waited for with timers (retry.ts), never by blocking the event loop;
 *   during the run a flush that stays busy is put back and tried again later. `close()`
 *   (awaited by runPlan before it returns) flushes the rest, waiting up to `closeDeadlineMs`.
 * - If the store fails (cannot be opened or reached, disk full, schema too new), indexing stops,
 *   `onWarning` is called once with the reason and the `maestro reindex` command that catches
 *   up, and the run goes on: the run directory has everything.
 *
 * @module
 */
import { join } from "../path.ts";
import { RUN_FILES, type RunManifest, taskFiles } from "../run/artifacts.ts";
import type { EventRecord, EventSubscriber } from "../run/events.ts";
import type { RunSink } from "../run/run_plan.ts";
import { displayLocation, type StoreLocation } from "./location.ts";
import {
  type DispatchInfo,
  firstLine,
  manifestFacts,
  type RunRecord,
  runRecordOf,
  startedAtFromRunId,
  type TaskRows,
  taskRows,
} from "./records.ts";
import { isBusyError } from "./retry.ts";
import { readArtifactJson } from "./run_dir.ts";
import {
  deleteAttempts,
  mergeRows,
  refreshRunTotals,
  replaceAttempts,
  upsertRun,
  upsertTask,
} from "./statements.ts";
import { openStore, type Store } from "./store.ts";
import { type LedgerRow, spendOf, upsertLedgerRow } from "./ledger.ts";
import type { InStatement } from "@libsql/client";

/** Options of {@linkcode createRunIndexer}. */
export interface RunIndexerOptions {
  /** The plan file (kept in the run's row; the run directory does not record it). */
  planPath?: string;
  /** Told once, when the store falls behind (the message includes the command that fixes it). */
  onWarning?: (message: string) => void;
  /** Milliseconds between flushes while the run goes on. @default {200} */
  flushIntervalMs?: number;
  /** How long `close()` waits for a busy store before giving up. @default {30000} */
  closeDeadlineMs?: number;
}

/** How indexing went. */
export interface IndexerStatus {
  /** Task rows written. */
  tasks: number;
  /** Whether the run's final row was written. */
  finished: boolean;
  /** Why the store is behind the run directory, or null when it is not. */
  behind: string | null;
}

type Op =
  | { kind: "start"; run: RunRecord }
  | { kind: "task"; taskId: string; resumed: boolean; fallback: TaskRows }
  | { kind: "end"; success: boolean; durationSec: number }
  | { kind: "spend"; row: LedgerRow };

/** Per-flush busy wait while the run goes on: a busy store is tried again at the next flush. */
const RUN_WRITE_DEADLINE_MS = 2_000;

/** The live indexer of one run; a {@linkcode RunSink} for `runPlan`'s `store` option. */
export class RunIndexer implements RunSink {
  /** Give this to the event bus (runPlan does, through its `store` option). */
  readonly subscriber: EventSubscriber;
  readonly #location: StoreLocation;
  readonly #options: RunIndexerOptions;
  #queue: Op[] = [];
  #run:
    | { runId: string; planName: string; runDir: string; tasks: number; resumedFrom: string | null }
    | undefined;
  #ignored = false;
  readonly #dispatch = new Map<string, DispatchInfo>();
  readonly #indexed = new Set<string>();
  /** The run's final row, from the manifest the run handed over (finished()). */
  #finalRow: RunRecord | undefined;
  /** Result files' content as the run wrote them, until their task's rows are flushed. */
  readonly #results = new Map<string, string>();
  /** Ledger rows numbered so far (the spend ledger, ledger.ts). */
  #entries = 0;
  #store: Promise<Store> | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #chain: Promise<void> = Promise.resolve();
  #closing: Promise<void> | undefined;
  #status: IndexerStatus = { tasks: 0, finished: false, behind: null };

  /**
   * Creates an indexer; nothing is opened until the run starts.
   *
   * @param location the store
   * @param options plan file, warning callback, timings
   */
  constructor(location: StoreLocation, options: RunIndexerOptions = {}) {
    this.#location = location;
    this.#options = options;
    this.subscriber = (record) => this.#receive(record);
  }

  /** Keeps a result file's content for the flush (saves reading the file back). */
  result(taskId: string, json: string): void {
    if (this.#run && !this.#ignored && this.#status.behind === null) {
      this.#results.set(taskId, json);
    }
  }

  /**
   * Keeps the run's final row from its manifest's top-level fields, so that closing the run
   * does not read and parse `run_manifest.json` (O(tasks): 12 MB for 8 000 tasks, the largest
   * allocation of a big run) when every task's rows already came from its events.
   */
  finished(manifest: RunManifest): void {
    const run = this.#run;
    if (!run || this.#ignored || manifest.run_id !== run.runId) return;
    this.#finalRow = runRecordOf(manifest, {
      runDir: run.runDir,
      planPath: this.#options.planPath ?? null,
      tasksTotal: run.tasks,
    });
  }

  /** How indexing went so far. */
  get status(): IndexerStatus {
    return { ...this.#status };
  }

  #receive({ event }: EventRecord): void {
    if (this.#ignored || this.#status.behind !== null || this.#closing) return;
    try {
      switch (event.event) {
        case "run_start": {
          // a dry run has no run directory (nothing to index); an indexer serves one run
          if (event.run_path === "" || this.#run) {
            this.#ignored = this.#run === undefined;
            return;
          }
          this.#run = {
            runId: event.run_id,
            planName: event.plan,
            runDir: event.run_path,
            tasks: event.tasks,
            resumedFrom: event.resumed_from,
          };
          this.#queue.push({
            kind: "start",
            run: {
              run_id: event.run_id,
              plan_name: event.plan,
              plan_path: this.#options.planPath ?? null,
              plan_hash: null,
              status: "running",
              started_at: startedAtFromRunId(event.run_id) ?? new Date().toISOString(),
              finished_at: null,
              duration_sec: null,
              tasks_total: event.tasks,
              run_dir: event.run_path,
              resumed_from: event.resumed_from,
            },
          });
          return;
        }
        case "task_attempt":
          // a process is running: load libSQL and open the store now, while it runs (the
          // load is synchronous work; before the first spawn it would delay the run instead)
          if (this.#store === undefined && this.#run) this.#schedule(0);
          return;
        case "task_start":
          this.#dispatch.set(event.task_id, { engine: event.engine, model: event.model });
          return;
        case "task_complete":
        case "task_skip": {
          if (!this.#run) return;
          const resumed = event.event === "task_complete" && event.resumed === true;
          const fallback = this.#fallbackRows(event);
          this.#queue.push({ kind: "task", taskId: event.task_id, resumed, fallback });
          this.#schedule();
          return;
        }
        case "attempt_usage":
        case "side_call": {
          // each cost goes to the spend ledger as it happens (budget_period, maestro budget)
          const spend = this.#run && spendOf(event);
          if (!spend) return;
          this.#queue.push({
            kind: "spend",
            row: {
              ...spend,
              run_id: this.#run!.runId,
              plan_name: this.#run!.planName,
              entry: ++this.#entries,
            },
          });
          this.#schedule();
          return;
        }
        case "run_complete":
          if (!this.#run) return;
          this.#queue.push({
            kind: "end",
            success: event.success,
            durationSec: event.duration_sec,
          });
          this.#schedule();
          return;
      }
    } catch (error) {
      this.#giveUp(error);
    }
  }

  /** A task's rows from its event alone, used when its result file cannot be read. */
  #fallbackRows(
    event: Extract<EventRecord["event"], { event: "task_complete" | "task_skip" }>,
  ): TaskRows {
    const run = this.#run!;
    const complete = event.event === "task_complete" ? event : undefined;
    const message = complete ? complete.message : event.event === "task_skip" ? event.reason : "";
    return {
      task: {
        run_id: run.runId,
        task_id: event.task_id,
        plan_name: run.planName,
        status: event.status,
        engine: this.#dispatch.get(event.task_id)?.engine ?? null,
        model: this.#dispatch.get(event.task_id)?.model ?? null,
        attempts: complete && complete.resumed !== true ? 1 : 0,
        exit_code: complete?.exit_code ?? null,
        duration_sec: complete?.duration_sec ?? 0,
        tokens_input: null,
        tokens_cached: null,
        tokens_output: null,
        tokens_total: complete?.tokens ?? null,
        cost_usd: complete?.cost_usd ?? null,
        cost_source: null,
        started_at: null,
        finished_at: null,
        error: event.status === "success" ? null : firstLine(message) || null,
        resumed: complete?.resumed === true,
      },
      attempts: [],
    };
  }

  #schedule(delay: number = this.#options.flushIntervalMs ?? 200): void {
    if (this.#timer !== undefined || this.#closing) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#chain = this.#chain.then(() => this.#flush(false));
    }, delay);
  }

  #open(): Promise<Store> {
    this.#store ??= openStore(this.#location, {
      // short native waits: they block the event loop (see retry.ts)
      busyTimeoutMs: 20,
      retry: { deadlineMs: this.#options.closeDeadlineMs ?? 30_000 },
    });
    return this.#store;
  }

  /** Reads the artifacts behind the queued operations and builds one transaction. */
  async #statements(ops: readonly Op[]): Promise<{ sql: InStatement[]; tasks: string[] }> {
    const run = this.#run!;
    const sql: InStatement[] = [];
    const tasks: string[] = [];
    const now = new Date().toISOString();
    // task and attempt rows of the whole flush go in one multi-row statement per table
    const taskUpserts: InStatement[] = [];
    const attemptInserts: InStatement[] = [];
    const addTask = (rows: TaskRows) => {
      taskUpserts.push(upsertTask(rows.task));
      // replaceAttempts = one DELETE, then one INSERT per attempt
      attemptInserts.push(
        ...replaceAttempts(rows.task.run_id, rows.task.task_id, rows.attempts).slice(1),
      );
      tasks.push(rows.task.task_id);
    };
    const taskRowsOf = await Promise.all(ops.map(async (op) => {
      if (op.kind !== "task") return undefined;
      const file = taskFiles(run.runDir, op.taskId).result;
      const written = this.#results.get(op.taskId);
      this.#results.delete(op.taskId);
      try {
        const value = written === undefined ? await readArtifactJson(file) : JSON.parse(written);
        return taskRows(value, {
          runId: run.runId,
          planName: run.planName,
          file,
          dispatch: this.#dispatch.get(op.taskId),
          resumed: op.resumed,
        });
      } catch {
        // the event's facts are better than nothing; reindex reads the file again later
        return op.fallback;
      }
    }));
    for (const [i, op] of ops.entries()) {
      if (op.kind === "start") sql.push(upsertRun(op.run, now));
      else if (op.kind === "task") addTask(taskRowsOf[i]!);
      else if (op.kind === "spend") sql.push(upsertLedgerRow(op.row));
      else sql.push(...await this.#endStatements(op, now, new Set(tasks), addTask));
    }
    sql.push(
      ...mergeRows(taskUpserts),
      ...deleteAttempts(run.runId, tasks),
      ...mergeRows(attemptInserts),
      refreshRunTotals(run.runId),
    );
    return { sql, tasks };
  }

  /** The run's final row from its manifest, plus any task the events did not bring. */
  async #endStatements(
    op: Extract<Op, { kind: "end" }>,
    now: string,
    batch: ReadonlySet<string>,
    addTask: (rows: TaskRows) => void,
  ): Promise<InStatement[]> {
    const run = this.#run!;
    const missing = run.tasks - this.#indexed.size -
      [...batch].filter((id) => !this.#indexed.has(id)).length;
    if (this.#finalRow && missing <= 0) return [upsertRun(this.#finalRow, now)];
    const file = join(run.runDir, RUN_FILES.manifest);
    try {
      const facts = manifestFacts(await readArtifactJson(file), {
        runDir: run.runDir,
        planPath: this.#options.planPath ?? null,
        file,
      });
      for (const [id, value] of facts.results) {
        if (this.#indexed.has(id) || batch.has(id)) continue;
        try {
          addTask(taskRows(value, {
            runId: run.runId,
            planName: run.planName,
            file: `${file} (task_results.${id})`,
            dispatch: this.#dispatch.get(id),
          }));
        } catch {
          // one unreadable entry does not keep the run's row out; reindex reports it
        }
      }
      return [upsertRun(facts.run, now)];
    } catch {
      // no readable manifest: close the run from run_complete's facts
      const startedAt = startedAtFromRunId(run.runId);
      return [upsertRun({
        run_id: run.runId,
        plan_name: run.planName,
        plan_path: this.#options.planPath ?? null,
        plan_hash: null,
        status: op.success ? "success" : "failed",
        started_at: startedAt ?? now,
        finished_at: now,
        duration_sec: op.durationSec,
        tasks_total: run.tasks,
        run_dir: run.runDir,
        resumed_from: run.resumedFrom,
      }, now)];
    }
  }

  async #flush(final: boolean): Promise<void> {
    if (this.#status.behind !== null || this.#queue.length === 0) return;
    const ops = this.#queue;
    this.#queue = [];
    try {
      const store = await this.#open();
      const { sql, tasks } = await this.#statements(ops);
      await store.write(sql, {
        deadlineMs: final ? this.#options.closeDeadlineMs ?? 30_000 : RUN_WRITE_DEADLINE_MS,
      });
      for (const id of tasks) this.#indexed.add(id);
      this.#status.tasks = this.#indexed.size;
      if (ops.some((op) => op.kind === "end")) this.#status.finished = true;
    } catch (error) {
      if (!final && isBusyError(error)) {
        // still busy: keep the work, in order, for the next flush
        this.#queue = [...ops, ...this.#queue];
        this.#schedule();
        return;
      }
      this.#giveUp(error);
    }
  }

  #giveUp(error: unknown): void {
    if (this.#status.behind !== null) return;
    const where = displayLocation(this.#location);
    const message = error instanceof Error ? error.message : String(error);
    // "cannot open the run store <where>: why" would name the store twice in the warning
    const reason = firstLine(message.replace(`cannot open the run store ${where}: `, ""));
    this.#status.behind = reason;
    this.#queue = [];
    this.#results.clear();
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const runDir = this.#run?.runDir;
    const fix = runDir
      ? `maestro reindex --db ${where} ${runDir}`
      : `maestro reindex --db ${where}`;
    this.#options.onWarning?.(
      `run store ${where} is behind: ${reason} (the run itself is not affected; \`${fix}\` catches up)`,
    );
  }

  /**
   * Writes everything queued and closes the store. Never rejects; idempotent. After it, the
   * store holds the run (or {@linkcode status} says why it is behind).
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#timer !== undefined) clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#chain = this.#chain.then(() => this.#flush(true));
      await this.#chain;
      const store = await this.#store?.catch(() => undefined);
      store?.close();
    })();
    return this.#closing;
  }
}

/**
 * An indexer for one run: pass it as `runPlan(plan, { store })`. Nothing is opened until the
 * run starts (a dry run opens nothing).
 *
 * @param location the store (see resolve.ts for how the CLI picks it)
 * @param options plan file, warning callback, timings
 * @returns the indexer
 */
export function createRunIndexer(
  location: StoreLocation,
  options: RunIndexerOptions = {},
): RunIndexer {
  return new RunIndexer(location, options);
}

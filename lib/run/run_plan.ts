/**
 * `runPlan`: the library entry point of the runtime. It wires the parts together: selection,
 * secret masking, the run directory, the event bus and its hash-chained log, resume, the
 * scheduler, the task pipeline, and the closing artifacts (manifest, summary, run_complete).
 * `group:` tasks are flattened first (groups.ts): their sub-plans run inside this run, under
 * namespaced ids.
 *
 * @module
 */
import { EXIT, MaestroError } from "../errors.ts";
import { dirname, join, resolve } from "../path.ts";
import type { LoadedPlan, PlanIR, TaskIR } from "../plan/ir.ts";
import { withoutProvenance } from "../plan/ir.ts";
import { renderTemplate } from "../plan/template.ts";
import { NO_MASK } from "../security/mask.ts";
import { planMasker } from "./plan_masker.ts";
import {
  buildManifest,
  createRunDir,
  dropPreopened,
  fileHashSync,
  makeRunId,
  preopenAtomic,
  RUN_FILES,
  type RunManifest,
  sha256Hex,
  taskFiles,
  writeTextAtomic,
} from "./artifacts.ts";
import { canonicalJson } from "./canonical_json.ts";
import {
  commandInvocation,
  commandText,
  ENV_ALLOWLIST,
  SYSTEM_ENV,
  taskEnvironment,
} from "./env.ts";
import { EventBus, EventLog, type EventSubscriber, maskDeep } from "./events.ts";
import { ManifestSpool, streamedEntry, writeStreamedManifest } from "./manifest_writer.ts";
import { isoMicros, makeResult, nowMicros, type TaskResult } from "./result.ts";
import { TaskFacts } from "./task_facts.ts";
import {
  readPriorRun,
  reusableResults,
  stopOrphans,
  stopRunProcesses,
  sweepLeftovers,
  waitForOrphans,
} from "./resume.ts";
import { schedule, type SkipReason } from "./scheduler.ts";
import type { GroupOutcome } from "./groups.ts";
import { excludedTasks, type Selection } from "./selection.ts";
import { flattenGroups } from "./groups.ts";
import { renderSummary } from "./summary.ts";
import { prepareSpawning } from "./process.ts";
import { type EngineRegistry, runTask } from "./task.ts";
import type { ExecutionProfile } from "../../engines/types.ts";
import { builtinEngines, dryRunInvocation } from "./engine_executor.ts";
import { withCustomEngines } from "./custom_engines.ts";
import { flatTaskLookup, templateReaders } from "./vars.ts";
import { ContextRun } from "../context/run_context.ts";
import { circuitBreakerConfig, EngineCircuits, RunCircuit } from "./circuit_breaker.ts";
import { EngineRoute } from "./engine_route.ts";
import { BudgetGuard, type BudgetOptions } from "./budget_guard.ts";
import type { CacheBackend } from "./cache.ts";
import { RunCache } from "./cache_run.ts";

export type { RunManifest, TaskGraphEntry } from "./artifacts.ts";
export type { EventRecord, EventSubscriber, RunEvent, TaskStatus } from "./events.ts";
export type { FailureRecord, TaskResult } from "./result.ts";
export type { Selection } from "./selection.ts";
export type { BudgetOptions, ManifestBudget, SpendLedger } from "./budget_guard.ts";
export type { EngineExecutor, EngineRegistry } from "./task.ts";

/** Options of {@linkcode runPlan}. */
export interface RunPlanOptions extends Selection {
  /** Aborting cancels the run: no more dispatching, running process groups terminated. */
  signal?: AbortSignal;
  /** Overrides the plan's `max_parallel`. */
  maxParallel?: number;
  /** Resolve and report every task without running anything or writing files. */
  dryRun?: boolean;
  /** Overrides the plan's `run_dir` (the root that run directories are created in). */
  runDir?: string;
  /** `--set KEY=VALUE` template values (they override every other variable). */
  set?: Record<string, string>;
  /** Approve every `requires_approval` task. */
  autoApprove?: boolean;
  /** Asks a human; without it (and without autoApprove) approval is denied. */
  approve?: (task: TaskIR) => Promise<boolean>;
  /** Mask env values whose names look secret, besides the plan's `secrets:`. */
  maskSecrets?: boolean;
  /** An earlier run directory: reuse its succeeded tasks, run the rest. */
  resumeFrom?: string;
  /** With `resumeFrom`: wait for the earlier run's live processes to end instead of stopping them. */
  waitOrphans?: boolean;
  /** Receives every event (including the unlogged task_output). */
  onEvent?: EventSubscriber;
  /**
   * Engine adapters by name. @default {builtinEngines} The plan's custom engines (`engines:`)
   * are looked up first; other names without an adapter fail with E102.
   */
  engines?: EngineRegistry;
  /** Execution profile of engine tasks (seed-behaviour §3). @default {"plan"} */
  executionProfile?: ExecutionProfile;
  /** Milliseconds between TERM and KILL when stopping a process group. @default {2000} */
  graceMs?: number;
  /** The environment tasks inherit from (allowlisted). @default {Deno.env.toObject()} */
  parentEnv?: Record<string, string>;
  /**
   * Indexes the run in a run store as it happens (`createRunIndexer` of lib/store). None by
   * default: a library call creates no database unless asked (the CLI asks). `runPlan` awaits
   * `store.close()` before returning, so the store is current when the manifest is returned.
   */
  store?: RunSink;
  /**
   * What `max_cost_usd` needs from the run store: task cost history (estimates) and the spend
   * ledger (`budget_period`). Without it, estimates come from pricing and a period budget
   * applies to this run only (docs/cost.md).
   */
  budget?: BudgetOptions;
  /**
   * The task result cache (`createCacheStore` of lib/store). None by default, like `store`;
   * `runPlan` awaits its `close()` before returning (docs/cache.md).
   */
  cache?: CacheBackend;
  /** `--no-cache`: look nothing up (fresh results are still stored). */
  noCache?: boolean;
}

/** A subscriber with slow work to finish (a store): {@linkcode runPlan} awaits its `close()`. */
export interface RunSink {
  /** Receives every event in order; it must return at once and never throw. */
  subscriber: EventSubscriber;
  /** Finishes the queued work; it must never reject (the sink reports its own problems). */
  close(): Promise<void>;
  /**
   * Receives each task's result file content as written, before its `task_complete` or
   * `task_skip` event, so the sink need not read the file back. Must return at once.
   */
  result?(taskId: string, json: string): void;
  /**
   * Receives the run's manifest once it is written, before `run_complete`; the sink may read
   * its top-level fields only (its `task_results` are read back from the file on access).
   */
  finished?(manifest: RunManifest): void;
}

function planOf(plan: PlanIR | LoadedPlan): PlanIR {
  return "ir" in plan && typeof plan.ir === "object" ? (plan as LoadedPlan).ir : plan as PlanIR;
}

/**
 * E118: a file of the run directory could not be written (a full disk, a lost permission).
 * The run stops dispatching and ends with it; what was written stays for `--resume`.
 */
function runDirWriteError(path: string, error: unknown): MaestroError {
  if (error instanceof MaestroError) return error;
  const why = error instanceof Error ? error.message : String(error);
  return new MaestroError("E118", `cannot write ${path}: ${why}`, {
    hint: "free some space (or fix the permissions), then `maestro run <plan> --resume-last` " +
      "goes on from the tasks that finished",
    exitCode: EXIT.failed,
  });
}

/**
 * Runs a plan to completion and returns its manifest. Every task of the plan ends with a final
 * status in the manifest, whatever happens; the returned manifest is also written to
 * `<run_path>/run_manifest.json` (except for dry runs, which write nothing). After a real run,
 * the returned manifest's `task_results` and `task_graph` are read back from that file on
 * first access: the run does not keep every result in memory.
 *
 * @param plan a lowered plan, or what `loadPlan` returned
 * @param options limits, filters, resume, cancellation and observers
 * @throws {MaestroError} E102 before the run starts when a custom engine module of the plan
 *   cannot be imported or does not export an engine
 */
export async function runPlan(
  plan: PlanIR | LoadedPlan,
  options: RunPlanOptions = {},
): Promise<RunManifest> {
  const ir = planOf(plan);
  const signal = options.signal ?? new AbortController().signal;
  const parentEnv = options.parentEnv ?? Deno.env.toObject();
  const flat = flattenGroups(ir.tasks);
  const tasks = flat.tasks;
  // the plan's custom engines are imported (and checked) before anything is written
  const engines = await withCustomEngines(tasks, options.engines ?? builtinEngines);
  const mask = planMasker(ir, tasks, parentEnv, options.maskSecrets === true);
  // selection names top-level tasks; an excluded group passes its reason to its members
  const excluded = excludedTasks(ir.tasks, options);
  const startMicros = nowMicros();
  const started = performance.now();
  const runId = makeRunId(startMicros);
  const dryRun = options.dryRun === true;
  const runRoot = options.runDir ? resolve(options.runDir) : ir.run_dir;
  // the spawn helper (compiled once per machine) is found or built while the run dir is made
  const [runPath] = await Promise.all([
    dryRun ? "" : createRunDir(runRoot, runId, ir.name),
    dryRun ? undefined : prepareSpawning(),
  ]);
  const bus = new EventBus(ir.name, {
    log: dryRun ? undefined : new EventLog(join(runPath, RUN_FILES.events)),
    // without secrets, events need no masked copy
    mask: mask === NO_MASK ? undefined : mask,
  });
  if (options.onEvent) bus.subscribe(options.onEvent);
  if (options.store) bus.subscribe(options.store.subscriber);
  const maxParallel = Math.max(1, options.maxParallel ?? ir.max_parallel);
  const vars = { plan: ir, set: options.set ?? {} };
  // `circuit_breaker:`: per-engine breakers for the attempts, the run breaker for the results
  const breaker = dryRun ? undefined : circuitBreakerConfig(ir.circuit_breaker);
  const circuits = breaker && new EngineCircuits(breaker, bus);
  const runCircuit = breaker &&
    new RunCircuit(breaker, bus, { autoApprove: options.autoApprove, approve: options.approve });

  // hashed before any task runs: the copy and the canonical JSON of the whole plan are not
  // added to the end of the run, when the most memory is in use
  const planHash = sha256Hex(canonicalJson(withoutProvenance(ir)));
  const prior = options.resumeFrom ? readPriorRun(resolve(options.resumeFrom)) : undefined;
  bus.emit("run_start", {
    run_id: runId,
    plan: ir.name,
    goal: ir.goal,
    tasks: tasks.length,
    max_parallel: maxParallel,
    run_path: runPath,
    resumed_from: prior?.path ?? null,
  });
  const preset = new Map<string, TaskResult>();
  if (prior) {
    if (prior.partialLastLine) bus.emit("partial_line_ignored", { from_run: prior.path });
    const leftovers = sweepLeftovers(prior.path);
    if (leftovers.length > 0) {
      bus.emit("leftovers_removed", { from_run: prior.path, files: leftovers });
    }
    if (options.waitOrphans) {
      await waitForOrphans(
        prior,
        signal,
        (group) =>
          bus.emit("orphan_wait", {
            task_id: group.taskId,
            pgid: group.pgid,
            from_run: prior.path,
          }),
      );
    } else {
      for (const group of stopOrphans(prior)) {
        bus.emit("orphan_stopped", {
          task_id: group.taskId,
          pgid: group.pgid,
          from_run: prior.path,
        });
      }
    }
    for (const [id, result] of reusableResults(prior)) {
      // a group's status is always derived again from its members
      if (!flat.groups.has(id)) preset.set(id, result);
    }
  }
  for (const [id, message] of excluded) {
    if (!preset.has(id)) preset.set(id, makeResult({ task_id: id, status: "skipped", message }));
  }
  // `max_cost_usd`: estimates, the period's spend, budget events (docs/cost.md)
  const budget = dryRun ? undefined : await BudgetGuard.start({
    ir,
    tasks,
    bus,
    runId,
    preset,
    env: parentEnv,
    options: options.budget,
  });

  // results dependents may still read (templates, when:); dropped after their last reader
  const results = new Map<string, TaskResult>();
  const readers = templateReaders(tasks, flat.inner);
  const facts = new TaskFacts(tasks.map((task) => task.id));
  // a dry run writes no manifest file: its results stay in memory for the returned manifest
  const dryResults = dryRun ? new Map<string, TaskResult>() : undefined;
  // a dry run hands the scheduler copies without `when:`; the events still show it
  const whenSources = dryRun
    ? new Map(tasks.map((task) => [task.id, task.when?.source ?? null]))
    : undefined;
  const spool = dryRun
    ? undefined
    : new ManifestSpool(join(runPath, `.${RUN_FILES.manifest}.spool-${Deno.pid}`), tasks.length);
  const lookupFor = (task: TaskIR) => flatTaskLookup(task, flat.inner, vars, results);
  // context_from, output_redact, output_schema, taint (lib/context/)
  const contextRun = dryRun ? undefined : new ContextRun({
    tasks,
    inner: flat.inner,
    plan: ir,
    results,
    engines,
    parentEnv,
    signal,
    bus,
    runRoot,
    noCache: options.noCache === true,
    ...(options.graceMs !== undefined ? { graceMs: options.graceMs } : {}),
  });
  // the task result cache (docs/cache.md): keys, hits, entries
  const cache = dryRun || !options.cache ? undefined : new RunCache({
    backend: options.cache,
    planName: ir.name,
    runId,
    flat,
    engines,
    parentEnv,
    baseDir: dirname(ir !== plan ? (plan as LoadedPlan).source : ir.tasks[0]?.origin.file ?? "."),
    read: options.noCache !== true,
    ...(mask === NO_MASK ? {} : { mask }),
  });
  const groupStarted = new Map<string, { micros: number; at: number }>();
  const openGroup = (task: TaskIR, wave: number) => {
    groupStarted.set(task.id, { micros: nowMicros(), at: performance.now() });
    if (dryRun) return;
    bus.emit("task_start", { task_id: task.id, wave, engine: "group", model: null });
  };
  const groupResult = (task: TaskIR, outcome: GroupOutcome): TaskResult => {
    const start = groupStarted.get(task.id);
    return makeResult({
      task_id: task.id,
      status: outcome.status,
      message: outcome.message,
      started_at: start ? isoMicros(start.micros) : null,
      finished_at: start ? isoMicros() : null,
      duration_sec: start ? Math.round(performance.now() - start.at) / 1000 : 0,
      command: `group ${task.group?.path ?? ""}`,
    });
  };

  const execute = async (task: TaskIR, wave: number): Promise<TaskResult> => {
    const render = (text: string) => renderTemplate(text, lookupFor(task));
    const env = taskEnvironment(
      parentEnv,
      task.env,
      { runId, taskId: task.id, planName: ir.name },
      task.kind === "engine" ? SYSTEM_ENV : ENV_ALLOWLIST,
    );
    if (dryRun) {
      const command = task.command === undefined
        ? undefined
        : typeof task.command === "string"
        ? render(task.command)
        : task.command.map(render);
      const shown = command === undefined
        ? dryRunInvocation(task, {
          engines,
          render,
          goal: ir.goal,
          profile: options.executionProfile ?? "plan",
          env,
          parentEnv,
        })
        : {
          command: commandText(command),
          argv: commandInvocation(command, task.shell, env, task.workdir).argv,
          env,
        };
      bus.emit("dry_run_task", {
        task_id: task.id,
        workdir: task.workdir,
        command: shown.command,
        argv: shown.argv,
        env_keys: Object.keys(shown.env).sort(),
        when: whenSources?.get(task.id) ?? null,
      });
      return makeResult({ task_id: task.id, status: "dry_run", message: "Dry run only" });
    }
    const stop = await runCircuit?.beforeTask();
    if (stop) return makeResult({ task_id: task.id, status: "skipped", message: stop });
    bus.emit("task_start", {
      task_id: task.id,
      wave,
      engine: task.engine ?? "shell",
      // an escalation ladder may set the first attempt's model
      model: task.kind === "engine" ? new EngineRoute(task).current.model : task.model ?? null,
    });
    const files = taskFiles(runPath, task.id);
    const logPath = files.log;
    const goal = flat.inner.get(task.id)?.plan.goal ?? ir.goal;
    // tainted context is never cached (lib/context/)
    const hit = contextRun?.isTainted(task.id)
      ? undefined
      : await cache?.lookup(task, { render, goal, logPath });
    if (hit) {
      runCircuit?.afterTask(task, hit);
      return hit;
    }
    const context = await contextRun!.forTask(task, env, lookupFor(task));
    const result = await runTask({
      task,
      logPath,
      afterSpawn: () => preopenAtomic(files.result),
      env: context.env,
      render: context.render,
      renderPrompt: context.renderPrompt,
      logPreamble: context.logPreamble,
      ...(context.checkOutput ? { checkOutput: context.checkOutput } : {}),
      bus,
      signal: budget?.signalFor(task, signal) ?? signal,
      mask,
      engines,
      goal: flat.inner.get(task.id)?.plan.goal ?? ir.goal,
      profile: options.executionProfile ?? "plan",
      parentEnv,
      graceMs: options.graceMs,
      circuits,
    });
    context.apply(result);
    cache?.mark(task, result);
    runCircuit?.afterTask(task, result);
    budget?.explain(result, signal);
    return result;
  };

  const finalize = (task: TaskIR, result: TaskResult, index: number): Promise<void> => {
    // Mask in place first: dependents rendering templates must never see a secret either.
    if (mask !== NO_MASK) Object.assign(result, maskDeep(result, mask));
    if (readers.readers[index]! > 0) results.set(task.id, result);
    // this task renders nothing more: its dependencies lose a reader
    for (let e = readers.start[index]!; e < readers.start[index + 1]!; e++) {
      const d = readers.reads[e]!;
      if (--readers.readers[d]! === 0) results.delete(tasks[d]!.id);
    }
    facts.record(index, result);
    budget?.settle(result, preset.has(task.id));
    if (dryResults) {
      dryResults.set(task.id, result);
      return Promise.resolve();
    }
    const files = taskFiles(runPath, task.id);
    result.result_path = files.result;
    const json = JSON.stringify(result, null, 2);
    let resultHash: string;
    try {
      resultHash = sha256Hex(writeTextAtomic(files.result, json + "\n"));
    } catch (error) {
      // a full disk, a lost permission: the scheduler stops the run and it ends with E118
      return Promise.reject(runDirWriteError(files.result, error));
    }
    // the manifest's entry, spooled to disk: the manifest is assembled from it at the end
    spool!.add(index, streamedEntry(task.id, json));
    cache?.settle(task, result, json);
    options.store?.result?.(task.id, json);
    const ran = result.log_path === files.log;
    if (result.status === "skipped" || (result.status === "cancelled" && !ran)) {
      bus.emit("task_skip", {
        task_id: task.id,
        status: result.status,
        reason: result.message,
        result_hash: resultHash,
      });
      return Promise.resolve();
    }
    bus.emit("task_complete", {
      task_id: task.id,
      status: result.status,
      exit_code: result.exit_code,
      duration_sec: result.duration_sec,
      cost_usd: result.cost_usd,
      tokens: result.token_usage?.total ?? null,
      failure_category: result.failure_history.at(-1)?.category ?? null,
      message: result.message,
      log_hash: ran ? fileHashSync(files.log) : null,
      result_hash: resultHash,
      ...(preset.has(task.id) ? { resumed: true } : {}),
      ...(result.task_hash ? { cache_key: result.task_hash } : {}),
      ...(result.from_cache ? { from_cache: true } : {}),
    });
    return Promise.resolve();
  };

  const approve = async (task: TaskIR): Promise<boolean> => {
    const message = typeof task.approval_message === "string"
      ? task.approval_message
      : `Task '${task.id}' requires approval`;
    bus.emit("approval_required", { task_id: task.id, message });
    const by = options.autoApprove ? "auto" : options.approve ? "user" : "non_interactive";
    const approved = by === "auto" ? true : by === "user" ? await options.approve!(task) : false;
    bus.emit("approval_response", { task_id: task.id, approved, by });
    return approved;
  };

  let manifest: RunManifest;
  let manifestHash: string | null = null;
  let summaryHash: string | null = null;
  try {
    await schedule({
      // a dry run shows every task: conditions cannot be known without results
      tasks: dryRun ? tasks.map((task) => ({ ...task, when: undefined })) : tasks,
      maxParallel,
      failFast: ir.fail_fast,
      signal,
      preset,
      execute,
      skipResult: (task: TaskIR, reason: SkipReason) =>
        makeResult({ task_id: task.id, status: reason.status, message: reason.message }),
      finalize,
      approve,
      whenLookup: (task) => lookupFor(task),
      groups: flat.groups,
      openGroup,
      groupResult,
      stopReason: (runCircuit || budget) &&
        (() => runCircuit?.stopReason() ?? budget?.stopReason() ?? null),
      admit: budget && ((task, running) => budget.admit(task, running)),
      settling: budget && (() => budget.settling()),
    });
    await budget?.close();
    // what a task started outside its process group (`setsid`: a daemon) ends with the run
    if (!dryRun) {
      for (const group of stopRunProcesses(runId)) {
        bus.emit("orphan_stopped", { task_id: group.taskId, pgid: group.pgid, from_run: runPath });
      }
    }
    const input = {
      plan: { ...ir, tasks },
      planHash,
      runId,
      runPath,
      startedAt: isoMicros(startMicros),
      finishedAt: isoMicros(),
      wallSec: Math.round(performance.now() - started) / 1000,
      resumedFrom: prior?.path ?? null,
      interrupted: signal.aborted,
      executed: !dryRun,
      executionProfile: options.executionProfile ?? "plan",
      ...(budget ? { budget: budget.report() } : {}),
    };
    if (dryResults) {
      manifest = buildManifest({ ...input, results: dryResults });
    } else {
      const manifestPath = join(runPath, RUN_FILES.manifest);
      let written: ReturnType<typeof writeStreamedManifest>;
      try {
        written = writeStreamedManifest(manifestPath, input, facts, spool!);
      } catch (error) {
        throw runDirWriteError(manifestPath, error);
      }
      manifest = written.manifest;
      manifestHash = written.hash;
      options.store?.finished?.(manifest);
      const summary = renderSummary(manifest, tasks, facts);
      const summaryPath = join(runPath, RUN_FILES.summary);
      await Deno.writeTextFile(summaryPath, summary).catch((error) => {
        throw runDirWriteError(summaryPath, error);
      });
      summaryHash = sha256Hex(summary);
    }
  } finally {
    spool?.close();
    // a result file created ahead for a task that never wrote one (an aborted run)
    if (!dryRun) dropPreopened(runPath);
  }
  bus.emit("run_complete", {
    success: manifest.success,
    ok: facts.count("success"),
    soft_failed: facts.count("soft_failed"),
    failed: facts.count("failed"),
    skipped: facts.count("skipped"),
    cancelled: facts.count("cancelled"),
    dry_run: facts.count("dry_run"),
    cost_usd: facts.usage().costUsd,
    tokens: facts.usage().tokens,
    duration_sec: Math.round(performance.now() - started) / 1000,
    manifest_hash: manifestHash,
    summary_hash: summaryHash,
    ...(budget ? { budget_exceeded: budget.report().exceeded } : {}),
  });
  bus.close();
  await options.cache?.close();
  await options.store?.close();
  return manifest;
}

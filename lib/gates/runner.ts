/**
 * The gates of a task, in the reference's order after verify_command: guard_command →
 * `assert:` → `judge:`. The task pipeline (lib/run/task.ts) calls {@linkcode GateRunner.run}
 * after a successful (or soft-failed) attempt whose verify passed; the first gate that fails
 * the attempt stops the others. Every verdict is logged in the task's `.log`, emitted as an
 * event (`gate_result`, `judge_result`), and kept for the result's `gates` list; a judge's
 * LLM calls are side calls (lib/run/side_call.ts) whose tokens and cost are added to the
 * task's result.
 *
 * @module
 */
import type { TaskIR } from "../plan/ir.ts";
import type { EngineRegistry } from "../run/engine_executor.ts";
import type { EventBus } from "../run/events.ts";
import type { LogFile } from "../run/log_file.ts";
import type { GateRecord, TaskResult } from "../run/result.ts";
import {
  addSideCallToResult,
  callEngine,
  cheapestModel,
  type SideCallCache,
  type SideCallResult,
} from "../run/side_call.ts";
import type { Masker } from "../security/mask.ts";
import { clip } from "./clip.ts";
import { gateFeedback } from "./feedback.ts";
import type { JudgeCall } from "./judge.ts";
import type { JudgeConfig } from "./judge_config.ts";
import type { GateOutcome, GateSubject } from "./types.ts";
import { importLater } from "../import_later.ts";

/**
 * The gates themselves (guard, assertions, judge: about a dozen modules), loaded by the first
 * task that has one: most tasks have none, and `maestro run` should not pay for them at start.
 */
function gateModules() {
  const load = <T>(file: string) => importLater<T>(new URL(file, import.meta.url));
  gatesLoaded ??= Promise.all([
    load<typeof import("./guard.ts")>("./guard.ts"),
    load<typeof import("./judge.ts")>("./judge.ts"),
    load<typeof import("./judge_config.ts")>("./judge_config.ts"),
    load<typeof import("./workspace_assertions.ts")>("./workspace_assertions.ts"),
  ]).then(([guard, judge, config, workspace]) => ({ ...guard, ...judge, ...config, ...workspace }));
  return gatesLoaded;
}
let gatesLoaded:
  | Promise<
    & typeof import("./guard.ts")
    & typeof import("./judge.ts")
    & typeof import("./judge_config.ts")
    & typeof import("./workspace_assertions.ts")
  >
  | undefined;

/** Engine of LLM judges on shell tasks that name none (the reference's judge binary). */
export const DEFAULT_JUDGE_ENGINE = "claude";

/** What the gate runner needs from the task's run. */
export interface GateRunnerOptions {
  task: TaskIR;
  /** The task's complete child env. */
  env: Record<string, string>;
  /** Maestro's own env (engine adapters copy provider variables from it). */
  parentEnv: Readonly<Record<string, string>>;
  /** The task's log. */
  log: LogFile;
  bus: EventBus;
  signal: AbortSignal;
  /** The run's secret masker (reasons and feedback are masked). */
  mask: Masker;
  /** Engine adapters by name (judge side calls). */
  engines: EngineRegistry;
  /** What the task was asked (its prompt or description), for LLM judges. */
  instruction?: string;
  /** Milliseconds between TERM and KILL. */
  graceMs?: number;
  /** Reuses identical judge answers. */
  cache?: SideCallCache;
  /** Called with the guard's pid. */
  onStart?: (pid: number) => void;
}

/** Whether a task has any gate. */
export function hasGates(task: TaskIR): boolean {
  return task.guard_command != null || (Array.isArray(task.assert) && task.assert.length > 0) ||
    (task.judge != null && typeof task.judge === "object");
}

/** The engine and model a judge's LLM calls use. */
export function judgeTarget(
  config: JudgeConfig,
  task: Pick<TaskIR, "engine" | "kind">,
): { engine: string; model: string | null } {
  const engine = config.engine ?? (task.kind === "engine" && task.engine ? task.engine : null) ??
    DEFAULT_JUDGE_ENGINE;
  return { engine, model: config.model ?? cheapestModel(engine) ?? null };
}

/** An attempt's gates failed it: what the task pipeline records. */
export interface GateFailure {
  /** The attempt's message. */
  message: string;
  /** failure_history category: guard_failed, assert_failed, judge_failed, judge_error. */
  category: string;
  /** Exit code to record (the guard's; else undefined: keep the main step's). */
  exitCode?: number;
  /** Retry feedback block (masked, within budget). */
  feedback: string;
  /** No further attempt: a judge with `on_fail: fail` (seed-behaviour §8). */
  final: boolean;
}

/** Runs a task's gates and keeps their records. */
export class GateRunner {
  #opts: GateRunnerOptions;
  /** The task's `judge:` as written; made a {@linkcode JudgeConfig} when the gates first run. */
  #judgeSpec: Record<string, unknown> | undefined;
  #records: GateRecord[] = [];
  #calls: { purpose: string; call: SideCallResult }[] = [];
  #lastJudge: GateOutcome | undefined;
  #lastJudgeTarget: { engine: string; model: string | null } | undefined;

  /** @param opts the task's run context */
  constructor(opts: GateRunnerOptions) {
    this.#opts = opts;
    const judge = opts.task.judge;
    if (judge && typeof judge === "object") this.#judgeSpec = judge as Record<string, unknown>;
  }

  /** A runner when the task has gates, else undefined. */
  static forTask(opts: GateRunnerOptions): GateRunner | undefined {
    return hasGates(opts.task) ? new GateRunner(opts) : undefined;
  }

  /** Verdicts so far, in order. */
  get records(): readonly GateRecord[] {
    return this.#records;
  }

  /**
   * Runs the gates on one attempt.
   *
   * @param attempt the 1-based attempt number
   * @param subject the attempt's output, cost and duration
   * @returns undefined when the attempt passes (warnings are recorded), `"cancelled"` when the
   *   run is stopping, else why it fails
   */
  async run(attempt: number, subject: GateSubject): Promise<GateFailure | "cancelled" | undefined> {
    const { task, log } = this.#opts;
    const gates = await gateModules();
    if (task.guard_command != null) {
      const guard = await gates.runGuard({
        command: task.guard_command as string | string[],
        input: subject.output,
        workdir: task.workdir,
        env: this.#opts.env,
        log,
        signal: this.#opts.signal,
        taskTimeoutSec: task.timeout_sec,
        shell: task.shell,
        onStart: this.#opts.onStart,
        graceMs: this.#opts.graceMs,
      });
      if (guard.cancelled) return "cancelled";
      const failed = this.#record(attempt, guard);
      if (failed) return failed;
    }
    if (Array.isArray(task.assert) && task.assert.length > 0) {
      const failed = this.#record(attempt, this.#assertions(task.assert, gates));
      if (failed) return failed;
    }
    if (this.#judgeSpec) {
      const judged = await this.#runJudge(gates.judgeConfig(this.#judgeSpec), subject, gates);
      if (this.#opts.signal.aborted) return "cancelled";
      const failed = this.#record(attempt, judged);
      if (failed) return failed;
    }
    return undefined;
  }

  #assertions(
    specs: unknown[],
    gates: Pick<typeof import("./workspace_assertions.ts"), "evaluateWorkspaceAssertion">,
  ): GateOutcome {
    const checks = specs.map((spec) =>
      gates.evaluateWorkspaceAssertion(
        spec !== null && typeof spec === "object" ? spec as Record<string, unknown> : {},
        this.#opts.task.workdir,
        this.#opts.mask,
      )
    );
    const failing = checks.filter((c) => !c.passed);
    const hard = failing.filter((c) => c.severity !== "warning" && c.severity !== "info");
    const verdict = hard.length > 0 ? "fail" : failing.length > 0 ? "warn" : "pass";
    const reasons = failing.map((c) => `${c.name}: ${c.reason}`);
    return {
      gate: "assert",
      verdict,
      effect: verdict === "fail" ? "fail" : verdict === "warn" ? "warn" : "none",
      score: null,
      threshold: null,
      reasons,
      checks,
      message: hard.length > 0
        ? `assertion failed: ${
          hard.length === 1 ? reasons[0] : `${hard.length} of ${checks.length}; ${reasons[0]}`
        }`
        : "",
      category: "assert_failed",
    };
  }

  async #runJudge(
    config: JudgeConfig,
    subject: GateSubject,
    gates: Pick<typeof import("./judge.ts"), "runJudge"> & { needsLlm(c: JudgeConfig): boolean },
  ): Promise<GateOutcome> {
    const { task } = this.#opts;
    const target = judgeTarget(config, task);
    this.#lastJudgeTarget = gates.needsLlm(config) ? target : undefined;
    const call: JudgeCall = async (request) => {
      const result = await callEngine({
        engine: target.engine,
        model: request.model ?? target.model,
        prompt: request.prompt,
        args: config.args,
        workdir: task.workdir,
        env: this.#opts.env,
        parentEnv: this.#opts.parentEnv,
        signal: this.#opts.signal,
        timeoutSec: request.timeoutSec,
        engines: this.#opts.engines,
        log: this.#opts.log,
        purpose: request.purpose,
        taskId: task.id,
        bus: this.#opts.bus,
        ...(this.#opts.cache ? { cache: this.#opts.cache } : {}),
        ...(this.#opts.graceMs !== undefined ? { graceMs: this.#opts.graceMs } : {}),
      });
      this.#calls.push({ purpose: "judge", call: result });
      return result;
    };
    try {
      return await gates.runJudge(
        config,
        { ...subject, instruction: this.#opts.instruction ?? "" },
        call,
        {
          engine: target.engine,
          defaultModel: target.model,
        },
      );
    } catch (error) {
      // an unknown engine or an invalid invocation: the judge cannot decide
      const reason = (error as Error).message;
      return {
        gate: "judge",
        verdict: "error",
        effect: config.onFail,
        score: null,
        threshold: config.passThreshold,
        reasons: [`judge error: ${reason}`],
        checks: [],
        message: `E107 judge could not decide: ${reason}`,
        category: "judge_error",
        details: { method: config.method },
      };
    }
  }

  /** Logs, emits and keeps one verdict; returns the failure when it fails the attempt. */
  #record(attempt: number, outcome: GateOutcome): GateFailure | undefined {
    const { mask, log, bus, task } = this.#opts;
    // masked before the cut: a cut secret would not be recognised
    const reasons = outcome.reasons.map((r) => clip(mask(r), 500));
    const record: GateRecord = {
      attempt,
      gate: outcome.gate,
      verdict: outcome.verdict,
      score: outcome.score,
      threshold: outcome.threshold,
      effect: outcome.effect,
      reasons,
    };
    if (outcome.checks.length > 0) {
      record.checks = outcome.checks.map((c) => ({ ...c, reason: mask(c.reason) }));
    }
    this.#records.push(record);
    const label = outcome.gate === "guard" ? "guard_command" : outcome.gate;
    log.line(
      `[${label}] verdict=${outcome.verdict}` +
        (outcome.score !== null ? ` score=${outcome.score} threshold=${outcome.threshold}` : "") +
        (outcome.effect !== "none" ? ` effect=${outcome.effect}` : ""),
    );
    for (const reason of reasons) log.line(`[${label}]   ${reason.split("\n")[0]}`);
    if (outcome.gate === "judge") {
      this.#lastJudge = outcome;
      const target = this.#lastJudgeTarget;
      bus.emit("judge_result", {
        task_id: task.id,
        attempt,
        verdict: outcome.verdict,
        score: outcome.score,
        threshold: outcome.threshold,
        effect: outcome.effect,
        method: String(outcome.details?.method ?? "direct"),
        engine: target?.engine ?? null,
        model: target?.model ?? null,
        criteria: outcome.checks.map((c) => ({
          name: c.name,
          type: c.type,
          score: c.score,
          passed: c.passed,
        })),
        reasons,
      });
    } else {
      bus.emit("gate_result", {
        task_id: task.id,
        attempt,
        gate: outcome.gate,
        verdict: outcome.verdict,
        effect: outcome.effect,
        reasons,
      });
    }
    if (outcome.effect !== "fail" && outcome.effect !== "retry") return undefined;
    const failure: GateFailure = {
      message: mask(outcome.message),
      category: outcome.category,
      feedback: gateFeedback(outcome, mask),
      final: outcome.gate === "judge" && outcome.effect === "fail",
    };
    if (outcome.gate === "guard" && outcome.exitCode !== undefined) {
      failure.exitCode = outcome.exitCode;
    }
    return failure;
  }

  /**
   * Adds the gates to a finished task's result: `gates` (every verdict), `judge_result` (the
   * last judge's), the judge calls' tokens and cost, and, for a task that passed with gate
   * warnings on its last attempt, a note in `message` so the warning is never silent.
   */
  applyTo(result: TaskResult): TaskResult {
    if (this.#records.length === 0 && this.#calls.length === 0) return result;
    result.gates = [...this.#records];
    for (const { purpose, call } of this.#calls) addSideCallToResult(result, call, purpose);
    const judge = this.#lastJudge;
    if (judge) {
      const target = this.#lastJudgeTarget;
      result.judge_result = {
        verdict: judge.verdict,
        score: judge.score,
        threshold: judge.threshold,
        effect: judge.effect,
        ...judge.details,
        engine: target?.engine ?? null,
        model: target?.model ?? null,
        criteria: this.#records.filter((r) => r.gate === "judge").at(-1)?.checks ?? [],
        reasons: this.#records.filter((r) => r.gate === "judge").at(-1)?.reasons ?? [],
        cost_usd: result.side_calls?.judge?.cost_usd ?? null,
      };
    }
    const lastAttempt = Math.max(...this.#records.map((r) => r.attempt), 0);
    const warnings = this.#records.filter((r) => r.attempt === lastAttempt && r.effect === "warn");
    if (warnings.length > 0 && (result.status === "success" || result.status === "soft_failed")) {
      const notes = warnings.map((w) => {
        const head = `${w.gate} ${w.verdict}`;
        const reason = (w.reasons[0] ?? "").split("\n")[0]!.slice(0, 200);
        // an error's reason already starts with "judge error:"
        if (reason.startsWith(`${head}:`)) return reason;
        return head +
          (w.score !== null ? ` (score ${w.score.toFixed(2)} < ${w.threshold?.toFixed(2)})` : "") +
          (reason ? `: ${reason}` : "");
      });
      result.message = `${result.message} [gate warning: ${notes.join("; ")}]`;
    }
    return result;
  }
}

/**
 * The plan's `circuit_breaker:`, two breakers under one key.
 *
 * - **Run breaker** (maestro-cli's, seed-behaviour §1.2): counts the run's `failed` and
 *   `soft_failed` tasks; at `max_total_failures` (default 5) it trips. `action: fail` (default)
 *   stops dispatching, like fail_fast: every task not started yet is skipped with the message
 *   below. `action: pause` asks whether to go on: `--auto-approve` goes on, a terminal asks
 *   (new tasks wait for the answer), anything else stops; going on resets the count.
 * - **Engine breakers** (Maestro's addition): per engine, `max_engine_failures` (default 3)
 *   consecutive attempts failing with auth, rate_limit, quota or cli_missing open that engine's
 *   breaker. Any other outcome of an attempt on that engine (success, a verify failure, a
 *   timeout) resets its count. While open, attempts on the engine are not started: they fail
 *   at once as `circuit_open` (a task with a fallback switches to it). Without
 *   `engine_cooldown_sec` the breaker stays open for the rest of the run; with it, the first
 *   attempt after the cooldown is let through as a probe, and its outcome closes or re-opens
 *   the breaker (other attempts keep failing fast meanwhile).
 *
 * Both are on whenever the plan has a `circuit_breaker:` key, and off without it.
 *
 * @module
 */
import type { TaskIR } from "../plan/ir.ts";
import type { EventBus } from "./events.ts";
import type { TaskResult } from "./result.ts";

/** `circuit_breaker:` with its defaults applied. */
export interface CircuitBreakerConfig {
  /** Failed or soft-failed tasks that trip the run breaker. */
  maxTotalFailures: number;
  /** What the run breaker does when it trips. */
  action: "fail" | "pause";
  /** Consecutive engine failures that open an engine's breaker. */
  maxEngineFailures: number;
  /** Seconds before an open engine gets a probe; null: it stays open. */
  engineCooldownSec: number | null;
}

/** Default `max_total_failures` (maestro-cli's). */
export const DEFAULT_MAX_TOTAL_FAILURES = 5;
/** Default `max_engine_failures`. */
export const DEFAULT_MAX_ENGINE_FAILURES = 3;

/** Categories that count toward an engine's breaker: the engine itself is unusable. */
export const ENGINE_DOWN_CATEGORIES: ReadonlySet<string> = new Set([
  "auth",
  "rate_limit",
  "quota",
  "cli_missing",
]);

function positive(value: unknown, fallback: number): number {
  return typeof value === "number" && Number.isFinite(value) && value >= 1 ? value : fallback;
}

/** The plan's `circuit_breaker:` (from the IR), or undefined when the plan has none. */
export function circuitBreakerConfig(value: unknown): CircuitBreakerConfig | undefined {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return undefined;
  const cb = value as Record<string, unknown>;
  const cooldown = cb.engine_cooldown_sec;
  return {
    maxTotalFailures: positive(cb.max_total_failures, DEFAULT_MAX_TOTAL_FAILURES),
    action: cb.action === "pause" ? "pause" : "fail",
    maxEngineFailures: positive(cb.max_engine_failures, DEFAULT_MAX_ENGINE_FAILURES),
    engineCooldownSec: typeof cooldown === "number" && cooldown >= 0 ? cooldown : null,
  };
}

interface EngineState {
  failures: number;
  /** performance.now() when it opened; null while closed. */
  openedAt: number | null;
  /** A probe attempt is running (half-open). */
  probing: boolean;
  /** The last failure that counted: `<category>: <message>`. */
  last: string;
}

/** Per-engine breakers of one run. */
export class EngineCircuits {
  #config: CircuitBreakerConfig;
  #bus: EventBus;
  #states = new Map<string, EngineState>();
  #now: () => number;

  /**
   * @param config the plan's breaker settings
   * @param bus where `engine_circuit_open` / `engine_circuit_closed` go
   * @param now clock in milliseconds (tests move it)
   */
  constructor(
    config: CircuitBreakerConfig,
    bus: EventBus,
    now: () => number = () => performance.now(),
  ) {
    this.#config = config;
    this.#bus = bus;
    this.#now = now;
  }

  #state(engine: string): EngineState {
    let state = this.#states.get(engine);
    if (!state) {
      state = { failures: 0, openedAt: null, probing: false, last: "" };
      this.#states.set(engine, state);
    }
    return state;
  }

  /**
   * Why an attempt on `engine` must not start now, or undefined when it may (a closed breaker,
   * or the probe of a cooled-down one).
   */
  blocked(engine: string): string | undefined {
    const state = this.#states.get(engine);
    if (!state || state.openedAt === null) return undefined;
    const cooldown = this.#config.engineCooldownSec;
    if (cooldown !== null && !state.probing && this.#now() - state.openedAt >= cooldown * 1000) {
      state.probing = true;
      return undefined;
    }
    const when = cooldown === null
      ? "it stays open for the rest of the run"
      : state.probing
      ? "a probe attempt is running"
      : `next probe in ${
        Math.max(0, Math.ceil(cooldown - (this.#now() - state.openedAt) / 1000))
      }s`;
    return `not started: the ${engine} circuit breaker is open after ${state.failures} ` +
      `consecutive engine failures (last: ${state.last}); ${when}`;
  }

  /**
   * Records the outcome of one attempt that ran on `engine`.
   *
   * @param category the failure category, undefined for a success
   * @param message the failure message
   */
  record(engine: string, taskId: string, category?: string, message = ""): void {
    const state = this.#state(engine);
    const wasOpen = state.openedAt !== null;
    state.probing = false;
    if (category === undefined || !ENGINE_DOWN_CATEGORIES.has(category)) {
      state.failures = 0;
      if (wasOpen) {
        state.openedAt = null;
        this.#bus.emit("engine_circuit_closed", { engine, task_id: taskId });
      }
      return;
    }
    state.failures++;
    state.last = `${category}: ${message.length > 300 ? `${message.slice(0, 300)}…` : message}`;
    if (wasOpen) {
      state.openedAt = this.#now(); // the cooldown starts again
      return;
    }
    if (state.failures < this.#config.maxEngineFailures) return;
    state.openedAt = this.#now();
    this.#bus.emit("engine_circuit_open", {
      engine,
      task_id: taskId,
      failures: state.failures,
      category,
      message: state.last,
      cooldown_sec: this.#config.engineCooldownSec,
    });
  }
}

/** Asks a human whether a task may run (the CLI's terminal prompt). */
export type Approver = (task: TaskIR) => Promise<boolean>;

/** The run breaker: counts failed tasks and stops (or pauses) the run. */
export class RunCircuit {
  #config: CircuitBreakerConfig;
  #bus: EventBus;
  #autoApprove: boolean;
  #approve: Approver | undefined;
  #failures = 0;
  #stop: string | null = null;
  #pending: Promise<void> | undefined;

  /**
   * @param config the plan's breaker settings
   * @param bus where `circuit_breaker_tripped` / `circuit_breaker_response` go
   * @param approval `--auto-approve`, and the terminal prompt when there is one
   */
  constructor(
    config: CircuitBreakerConfig,
    bus: EventBus,
    approval: { autoApprove?: boolean; approve?: Approver } = {},
  ) {
    this.#config = config;
    this.#bus = bus;
    this.#autoApprove = approval.autoApprove === true;
    this.#approve = approval.approve;
  }

  /** Why dispatching stopped, or null while the run goes on. */
  stopReason(): string | null {
    return this.#stop;
  }

  /** Waits while the breaker asks whether to go on; then the stop message, or null. */
  async beforeTask(): Promise<string | null> {
    if (this.#pending) await this.#pending;
    return this.#stop;
  }

  /** Counts the final result of a task that ran; trips the breaker at the limit. */
  afterTask(task: TaskIR, result: TaskResult): void {
    if (result.status !== "failed" && result.status !== "soft_failed") return;
    this.#failures++;
    if (this.#stop !== null || this.#pending || this.#failures < this.#config.maxTotalFailures) {
      return;
    }
    const { action, maxTotalFailures } = this.#config;
    this.#bus.emit("circuit_breaker_tripped", {
      task_id: task.id,
      failures: this.#failures,
      max_total_failures: maxTotalFailures,
      action,
    });
    const message = `circuit breaker tripped: ${this.#failures} tasks failed ` +
      `(max_total_failures ${maxTotalFailures}, last '${task.id}')`;
    if (action === "fail") {
      this.#stop = message;
      return;
    }
    const answer = (approved: boolean, by: "auto" | "user" | "non_interactive") => {
      this.#bus.emit("circuit_breaker_response", { approved, by });
      if (approved) this.#failures = 0;
      else this.#stop = message;
    };
    if (this.#autoApprove) return answer(true, "auto");
    if (!this.#approve) return answer(false, "non_interactive");
    const question = {
      ...task,
      approval_message: `${message}. Go on with the run?`,
    };
    this.#pending = this.#approve(question).then(
      (approved) => answer(approved, "user"),
      () => answer(false, "user"),
    ).finally(() => this.#pending = undefined);
  }
}

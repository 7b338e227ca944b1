/**
 * Which engine and model each attempt of an engine task runs on.
 *
 * - `escalation: [haiku, sonnet, opus]` is a ladder of models. The first attempt runs on the
 *   task's `model` (its own rung when the ladder names it), or on the first rung when the task
 *   has no model; every retry climbs one rung, and the top rung is kept. A model that is not on
 *   the ladder climbs to the first rung (seed-behaviour §8: "next model after the current one").
 * - `fallback_engine` / `fallback_model`: after an attempt fails because the engine could not
 *   work ({@linkcode FALLBACK_CATEGORIES}: auth, rate_limit, quota, cli_missing,
 *   model_unavailable, or its circuit breaker being open), the task switches once to the
 *   fallback. A switch of engine drops the task's `args` and `reasoning_effort` (they were
 *   written for the other CLI) and takes `defaults.<fallback engine>`'s model, effort and args
 *   when the plan has them (lowering records them as `fallback_defaults`). The ladder is not
 *   climbed after a switch. A `fallback_model` on the same engine is not tried for auth,
 *   cli_missing or circuit_open: another model cannot help there.
 *
 * @module
 */
import type { TaskIR } from "../plan/ir.ts";

/** Failure category of an attempt refused by an open engine circuit breaker. */
export const CIRCUIT_OPEN = "circuit_open";

/** Failure categories that say the engine, not the agent's work, failed: they trigger the fallback. */
export const FALLBACK_CATEGORIES: ReadonlySet<string> = new Set([
  "auth",
  "rate_limit",
  "quota",
  "cli_missing",
  "model_unavailable",
  CIRCUIT_OPEN,
]);

/** Categories not retried on the same engine: a retry cannot fix them. */
export const NOT_RETRIED: ReadonlySet<string> = new Set(["auth", "cli_missing", CIRCUIT_OPEN]);

/** What one attempt runs on. */
export interface AttemptRoute {
  /** Engine name. */
  engine: string;
  /** Model as the plan names it (alias or id); null: the CLI's default. */
  model: string | null;
}

/** A change of route between two attempts. */
export interface RouteChange {
  /** `fallback`: the engine failed and the task switched; `escalation`: one rung up. */
  kind: "fallback" | "escalation";
  /** The route of the attempt that failed. */
  from: AttemptRoute;
  /** The route of the next attempt. */
  to: AttemptRoute;
}

function text(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

/** The route of an engine task's attempts, changed by failures. */
export class EngineRoute {
  #task: TaskIR;
  #ladder: string[];
  /** Index on the ladder of the current model; -1 when the model is not on it. */
  #rung: number;
  #current: AttemptRoute;
  #fellBack = false;

  /** @param task an engine task */
  constructor(task: TaskIR) {
    this.#task = task;
    this.#ladder = strings(task.escalation);
    const model = text(task.model) ?? null;
    if (this.#ladder.length > 0 && model === null) {
      this.#rung = 0;
      this.#current = { engine: task.engine ?? "", model: this.#ladder[0]! };
    } else {
      this.#rung = model === null ? -1 : this.#ladder.indexOf(model);
      this.#current = { engine: task.engine ?? "", model };
    }
  }

  /** The route of the next (or running) attempt. */
  get current(): AttemptRoute {
    return { ...this.#current };
  }

  /** Whether the task has switched to its fallback. */
  get fellBack(): boolean {
    return this.#fellBack;
  }

  /** The task as the adapter sees it for the current route. */
  attemptTask(): TaskIR {
    const { engine, model } = this.#current;
    const task: TaskIR = { ...this.#task, engine };
    if (model === null) delete task.model;
    else task.model = model;
    if (engine !== this.#task.engine) {
      // args and effort were written for the other CLI
      const defaults = this.#task.fallback_defaults ?? {};
      task.args = strings(defaults.args);
      if (text(defaults.reasoning_effort)) task.reasoning_effort = defaults.reasoning_effort;
      else delete task.reasoning_effort;
    }
    return task;
  }

  /** Where a fallback would go from here, or undefined when there is none (or it is here). */
  fallbackRoute(): AttemptRoute | undefined {
    if (this.#fellBack) return undefined;
    const engine = text(this.#task.fallback_engine) ?? this.#current.engine;
    const switching = engine !== this.#current.engine;
    const defaults = this.#task.fallback_defaults ?? {};
    const model = text(this.#task.fallback_model) ??
      (switching ? text(defaults.model) ?? null : this.#current.model);
    if (engine === this.#current.engine && model === this.#current.model) return undefined;
    return { engine, model };
  }

  /**
   * After a failed attempt: switches to the fallback when `category` says the engine failed
   * and `available(engine)` has an adapter for it.
   *
   * @returns the switch, or undefined when the task stays on its route
   */
  fallBack(
    category: string | undefined,
    available: (engine: string) => boolean,
  ): RouteChange | undefined {
    if (category === undefined || !FALLBACK_CATEGORIES.has(category)) return undefined;
    const to = this.fallbackRoute();
    if (!to || !available(to.engine)) return undefined;
    // another model cannot help an engine that is missing, unauthenticated or shut off
    if (to.engine === this.#current.engine && NOT_RETRIED.has(category)) return undefined;
    const from = this.current;
    this.#current = to;
    this.#fellBack = true;
    return { kind: "fallback", from, to: { ...to } };
  }

  /** Before a retry: one rung up the escalation ladder, or undefined when nothing changes. */
  escalate(): RouteChange | undefined {
    if (this.#fellBack || this.#ladder.length === 0) return undefined;
    const next = Math.min(this.#rung + 1, this.#ladder.length - 1);
    if (next === this.#rung) return undefined;
    this.#rung = next;
    const from = this.current;
    const model = this.#ladder[next]!;
    if (model === from.model) return undefined;
    this.#current = { ...from, model };
    return { kind: "escalation", from, to: this.current };
  }
}

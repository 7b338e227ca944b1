/**
 * What the attempt pipeline says when an engine task changes route (engine_route.ts): the
 * `engine_fallback` / `task_escalation` events and a log line, and which earlier failures the
 * retry feedback of the next attempt mentions.
 *
 * @module
 */
import { FALLBACK_CATEGORIES, type RouteChange } from "./engine_route.ts";
import type { EventBus } from "./events.ts";
import type { LogFile } from "./log_file.ts";
import type { FailureRecord } from "./result.ts";

/**
 * Emits the event of a route change and logs it.
 *
 * @param attempt the attempt about to run on the new route
 * @param failure the failure that made a fallback switch (unused for escalations)
 */
export function announceRouteChange(
  where: { bus: EventBus; log: LogFile; taskId: string },
  attempt: number,
  change: RouteChange,
  failure?: { category: string; message: string },
): void {
  const { from, to } = change;
  if (change.kind === "escalation") {
    where.bus.emit("task_escalation", {
      task_id: where.taskId,
      attempt,
      engine: to.engine,
      from_model: from.model,
      to_model: to.model ?? "",
    });
    where.log.line(`[maestro] escalating ${from.model ?? "(default model)"} -> ${to.model}`);
    return;
  }
  where.bus.emit("engine_fallback", {
    task_id: where.taskId,
    attempt,
    from_engine: from.engine,
    from_model: from.model,
    to_engine: to.engine,
    to_model: to.model,
    category: failure?.category ?? "unknown",
    reason: failure?.message ?? "",
  });
  where.log.line(
    `[maestro] ${from.engine} failed (${failure?.category}): falling back to ` +
      `${to.engine}${to.model ? ` (model ${to.model})` : ""}`,
  );
}

/**
 * The failures (and the output of the last of them) that the retry feedback of the next attempt
 * mentions. After a switch to the fallback, the engine failures are left out: they were the
 * engine's, not the agent's work, and an agent told "Failure category: auth … Please fix the
 * issues" would go looking for a key.
 *
 * @param history every failed attempt so far
 * @param outputs what each of them printed (same order)
 * @param switched whether the next attempt is the first on the fallback
 */
export function feedbackFailures(
  history: readonly FailureRecord[],
  outputs: readonly string[],
  switched: boolean,
): { failures: FailureRecord[]; output: string } {
  const keep = history.map((f) => !switched || !FALLBACK_CATEGORIES.has(f.category));
  return {
    failures: history.filter((_, i) => keep[i]),
    output: outputs.filter((_, i) => keep[i]).at(-1) ?? "",
  };
}

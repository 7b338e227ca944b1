/**
 * What a run remembers of each finished task once its result is on disk: the status, the
 * duration and, for failures, the message — what the summary, the manifest's totals and
 * `run_complete` need. Nine bytes per task instead of a ~1 KB result object.
 *
 * @module
 */
import { TASK_STATUSES } from "../plan/names.ts";
import type { TaskStatus } from "./events.ts";
import { objectKeyOrder } from "./manifest_writer.ts";
import { SUCCESS_LIKE } from "./result.ts";
import type { SummaryResult, SummaryResults } from "./summary.ts";

/** Statuses in a fixed order: a task's status is stored as its position + 1. */
const STATUSES: readonly TaskStatus[] = TASK_STATUSES;

/** Per-task facts by plan index; iterated in the manifest's `task_results` key order. */
export class TaskFacts implements SummaryResults {
  #ids: readonly string[];
  /** STATUSES position + 1; 0 = not recorded. */
  #status: Uint8Array;
  #duration: Float64Array;
  #messages = new Map<number, string>();
  /** Cost and total tokens of the tasks that reported any (engine tasks only: sparse). */
  #usage = new Map<number, { cost: number | null; tokens: number | null }>();
  #byId: Map<string, number> | undefined;
  /** Tasks restored from the cache (docs/cache.md). */
  #cached = new Set<number>();

  /** @param ids every task id, in plan order */
  constructor(ids: readonly string[]) {
    this.#ids = ids;
    this.#status = new Uint8Array(ids.length);
    this.#duration = new Float64Array(ids.length);
  }

  /** Records task `index`'s final result. */
  record(
    index: number,
    result: SummaryResult & {
      cost_usd?: number | null;
      token_usage?: Record<string, number> | null;
      gates?: readonly { effect: string }[];
    },
  ): void {
    const code = STATUSES.indexOf(result.status) + 1;
    if (code === 0) throw new Error(`unknown status ${result.status}`);
    this.#status[index] = code;
    this.#duration[index] = result.duration_sec;
    // the summary lists failures with their message; other messages are not needed
    // and gate warnings (lib/gates/), which must not pass silently
    if (result.status === "failed" || result.gates?.some((g) => g.effect === "warn")) {
      this.#messages.set(index, result.message);
    } else this.#messages.delete(index);
    if (result.from_cache) this.#cached.add(index);
    else this.#cached.delete(index);
    const cost = result.cost_usd ?? null;
    const tokens = result.token_usage?.total ?? null;
    if (cost !== null || tokens !== null) this.#usage.set(index, { cost, tokens });
    else this.#usage.delete(index);
  }

  /** Σ cost_usd and Σ token_usage.total over the tasks that reported them (null: none did). */
  usage(): { costUsd: number | null; tokens: number | null } {
    let costUsd: number | null = null;
    let tokens: number | null = null;
    for (const index of [...this.#usage.keys()].sort((a, b) => a - b)) {
      const u = this.#usage.get(index)!;
      if (u.cost !== null) costUsd = Math.round(((costUsd ?? 0) + u.cost) * 1e9) / 1e9;
      if (u.tokens !== null) tokens = (tokens ?? 0) + u.tokens;
    }
    return { costUsd, tokens };
  }

  #fact(index: number): SummaryResult | undefined {
    const code = this.#status[index]!;
    if (code === 0) return undefined;
    const usage = this.#usage.get(index);
    return {
      task_id: this.#ids[index]!,
      status: STATUSES[code - 1]!,
      duration_sec: this.#duration[index]!,
      message: this.#messages.get(index) ?? "",
      ...(this.#cached.has(index) ? { from_cache: true } : {}),
      ...(usage
        ? {
          cost_usd: usage.cost,
          token_usage: usage.tokens === null ? null : { total: usage.tokens },
        }
        : {}),
    };
  }

  /**
   * The facts of one task (message only for failures and gate warnings), or undefined when not
   * recorded.
   */
  get(id: string): SummaryResult | undefined {
    // only the summary asks by id, once at the end: the map is built then, not per task
    this.#byId ??= new Map(this.#ids.map((taskId, i) => [taskId, i]));
    const index = this.#byId.get(id);
    return index === undefined ? undefined : this.#fact(index);
  }

  /** Recorded facts in the order `Object.values(manifest.task_results)` would list them. */
  *values(): IterableIterator<SummaryResult> {
    for (const index of objectKeyOrder(this.#ids)) {
      const fact = this.#fact(index);
      if (fact) yield fact;
    }
  }

  /** How many recorded tasks have this status. */
  count(status: TaskStatus): number {
    const code = STATUSES.indexOf(status) + 1;
    let n = 0;
    for (const c of this.#status) if (c === code) n++;
    return n;
  }

  /** The manifest's totals, summed in the same order as when results were kept. */
  totals(): {
    succeeded: boolean;
    sequentialSec: number;
    costUsd: number | null;
    tokens: number | null;
  } {
    let succeeded = true;
    let sequentialSec = 0;
    for (const fact of this.values()) {
      if (!SUCCESS_LIKE.has(fact.status)) succeeded = false;
      if (fact.status !== "skipped") sequentialSec += fact.duration_sec;
    }
    return { succeeded, sequentialSec, ...this.usage() };
  }
}

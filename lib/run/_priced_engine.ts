/**
 * A priced fake engine for budget and ledger tests: no CLI, `sh -c` prints one JSON line the
 * parser turns into an EngineResult with a reported cost.
 *
 * @module
 */
import { emptyResult } from "../../engines/common.ts";
import type { Engine, EngineResult } from "../../engines/types.ts";

/** When each attempt started and ended (by task id). */
export type AttemptLog = { id: string; at: number; what: "start" | "end" }[];

/**
 * A priced fake engine. The task's prompt scripts it: `costs=0.7,0.2` (per attempt, the last
 * repeats), `fails=1` (the first N attempts fail), `sleep=0.3` (seconds per attempt). Every
 * attempt's start and end are recorded.
 */
export function pricedEngine(log: AttemptLog = []): Engine {
  const attempts = new Map<string, number>();
  return {
    name: "claude",
    binary: "sh",
    build(task, ctx) {
      const n = (attempts.get(task.id) ?? 0) + 1;
      attempts.set(task.id, n);
      const spec = Object.fromEntries(
        ctx.prompt.split(/\s+/).filter((w) => w.includes("=")).map((w) => w.split("=")),
      ) as Record<string, string>;
      const costs = (spec.costs ?? "0").split(",").map(Number);
      const cost = costs[Math.min(n, costs.length) - 1]!;
      const fail = n <= Number(spec.fails ?? 0);
      const line = JSON.stringify({ text: `${task.id} #${n}`, cost, fail });
      log.push({ id: task.id, at: performance.now(), what: "start" });
      return {
        argv: ["sh", "-c", `sleep ${spec.sleep ?? 0}; printf '%s\\n' '${line}'`],
        env: {},
        warnings: [],
      };
    },
    parser() {
      const out: EngineResult = emptyResult();
      let fail = false;
      return {
        push(line: string) {
          if (!line.startsWith("{")) return;
          const ev = JSON.parse(line) as { text: string; cost: number; fail: boolean };
          out.text = ev.text;
          out.cost_usd = ev.cost;
          out.cost_source = "reported";
          out.tokens = { input: 100, cached: 0, output: 10 };
          fail = ev.fail;
        },
        finish(exit: { exitCode: number }) {
          out.is_error = fail || exit.exitCode !== 0;
          log.push({ id: out.text.split(" ")[0]!, at: performance.now(), what: "end" });
          return out;
        },
      };
    },
    parse: () => emptyResult(),
    classify: () => "unknown",
  };
}

/**
 * Placeholder until the sandboxed TypeScript plan loader lands.
 *
 * @module
 */
import type { PlanSource } from "./load.ts";

/** Evaluates a TS plan module (not implemented yet). */
export function evaluatePlanModule(file: string): Promise<PlanSource> {
  return Promise.resolve({
    data: undefined,
    sourceMap: { file, locate: () => ({ line: 0, column: 0 }) },
    errors: [{
      code: "E082",
      message: "TypeScript plans are not supported yet",
      file,
      line: 0,
      column: 0,
    }],
  });
}

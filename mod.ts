/**
 * Maestro: run AI execution plans. This module is the library face: load a plan (YAML or
 * TypeScript) into the IR, and the types that describe it.
 *
 * @module
 */
export { loadPlan } from "./lib/plan/load.ts";
export type { LoadOutcome, LoadPlanOptions } from "./lib/plan/load.ts";
export type { LoadedPlan, PlanIR, PromptSource, TaskIR, TaskKind } from "./lib/plan/ir.ts";
export { withoutProvenance } from "./lib/plan/ir.ts";
export type { PlanIssue, SourceLocation } from "./lib/errors.ts";
export { MaestroError, PlanError } from "./lib/errors.ts";

/**
 * Maestro: run AI execution plans. This module is the library face: write a plan in
 * TypeScript with {@linkcode plan}, load a plan (YAML or TypeScript) into the IR, and the types
 * that describe both.
 *
 * ```ts
 * import { plan } from "jsr:@maestro/core";
 *
 * export default plan({ name: "demo", maxParallel: 2 })
 *   .task("build", { command: "make" })
 *   .task("test", { dependsOn: ["build"], command: "make test" });
 * ```
 *
 * @module
 */
export { plan, PlanBuilder } from "./lib/plan/builder.ts";
export type {
  CallSite,
  DefaultsOptions,
  EngineDefaultsOptions,
  ImportOptions,
  PlanOptions,
  PlanSites,
  TaskOptions,
  TaskRef,
} from "./lib/plan/builder.ts";
export type { CamelCase, CamelKeys } from "./lib/plan/camel.ts";
export type {
  AuthoredCircuitBreaker,
  AuthoredDefaults,
  AuthoredEngineDefaults,
  AuthoredEngineName,
  AuthoredImport,
  AuthoredJudge,
  AuthoredPlan,
  AuthoredTask,
} from "./lib/plan/authored_types.ts";
export { loadPlan } from "./lib/plan/load.ts";
export type { LoadOutcome, LoadPlanOptions } from "./lib/plan/load.ts";
export type { LoadedPlan, PlanIR, PromptSource, TaskIR, TaskKind } from "./lib/plan/ir.ts";
export { withoutProvenance } from "./lib/plan/ir.ts";
export { ENGINE_NAMES, type EngineName } from "./lib/plan/names.ts";
export type { WhenExpr } from "./lib/plan/when.ts";
export type { PlanIssue, SourceLocation } from "./lib/errors.ts";
export { MaestroError, PlanError } from "./lib/errors.ts";
export {
  type EngineExecutor,
  type EngineRegistry,
  type EventRecord,
  type EventSubscriber,
  type FailureRecord,
  type RunEvent,
  type RunManifest,
  runPlan,
  type RunPlanOptions,
  type RunSink,
  type Selection,
  type TaskGraphEntry,
  type TaskResult,
  type TaskStatus,
} from "./lib/run/run_plan.ts";
export type {
  BuildContext,
  CostSource,
  Engine,
  EngineFailure,
  EngineInvocation,
  EngineResult,
  EngineTaskSpec,
  ExecutionProfile,
  ExitInfo,
  FailureCategory,
  FailureEvidence,
  LineParser,
  ParseContext,
  TokenUsage,
  ToolCall,
} from "./engines/types.ts";
export { FAILURE_CATEGORIES } from "./engines/types.ts";
export type { EventName, EventPayloads } from "./lib/run/events.ts";
export type { BudgetOptions, ManifestBudget, SpendLedger } from "./lib/run/budget_guard.ts";
export type { CostSample, EstimateSource, TaskEstimate } from "./lib/cost/estimate.ts";
export {
  createRunIndexer,
  type IndexerStatus,
  RunIndexer,
  type RunIndexerOptions,
} from "./lib/store/indexer.ts";
export type { CacheBackend, CacheEntry, NewCacheEntry, RecordedResult } from "./lib/run/cache.ts";
export type { CacheComponents, EngineComponent, UpstreamValue } from "./lib/run/cache_key.ts";
export { CacheStore, type CacheStoreOptions, createCacheStore } from "./lib/store/cache_store.ts";
export type { StoreLocation } from "./lib/store/location.ts";
export { storeForRun, type StoreSelection } from "./lib/store/resolve.ts";
export type {
  CacheSource,
  GateRecord,
  SideCallUsage,
  StructuredContext,
} from "./lib/run/result.ts";
export type { BudgetPeriod } from "./lib/cost/period.ts";
export type { ContextRecord } from "./lib/context/runtime.ts";
export type { GraphStats } from "./lib/dag/graph.ts";

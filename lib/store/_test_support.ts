/**
 * Helpers for the store's tests: temp folders and running a small YAML plan for real.
 *
 * @module
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadPlan } from "../plan/load.ts";
import type { LoadedPlan } from "../plan/ir.ts";

/** Runs `fn` with a fresh temp folder, removed afterwards. */
export async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "maestro-store-test-"));
  try {
    await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Writes `plan.yaml` into `dir` and loads it. */
export async function planIn(dir: string, yaml: string): Promise<LoadedPlan> {
  const path = join(dir, "plan.yaml");
  writeFileSync(path, yaml);
  const outcome = await loadPlan(path);
  if (!outcome.plan) throw new Error(JSON.stringify(outcome.errors));
  return outcome.plan;
}

/** A plan with a success, a task failing after one retry, a skipped dependent and a soft failure. */
export const MIXED_PLAN = `name: mixed
max_parallel: 2
fail_fast: false
tasks:
  - id: ok
    command: echo fine
  - id: flaky
    command: "exit 3"
    max_retries: 1
  - id: after
    depends_on: [flaky]
    command: echo never
  - id: soft
    command: "exit 1"
    allow_failure: true
`;

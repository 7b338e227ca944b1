/**
 * A shell task with every IR field at a neutral value, for the runtime's unit tests.
 *
 * @module
 */
import type { TaskIR } from "../plan/ir.ts";

/**
 * Builds a task for tests.
 *
 * @param id the task id
 * @param deps its dependencies
 * @param extra fields to override
 */
export function fixtureTask(id = "t", deps: string[] = [], extra: Partial<TaskIR> = {}): TaskIR {
  return {
    id,
    kind: "shell",
    description: "",
    tags: [],
    depends_on: deps,
    command: "true",
    workdir: "/",
    env: {},
    timeout_sec: 10,
    stdout_tail_lines: 5,
    allow_failure: false,
    max_retries: 0,
    retry_delay_sec: 0,
    retry_strategy: "constant",
    cache: false,
    context_from: [],
    requires_approval: false,
    origin: { file: "t.yaml", line: 1, column: 1 },
    ...extra,
  };
}

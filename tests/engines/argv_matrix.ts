/**
 * Test helper: the "every argv our adapter builds for plan/safe/yolo × allowed_tools is
 * accepted by the real CLI" matrix, one `Deno.test` per profile with and without
 * `allowed_tools`, each with a system prompt and retry feedback. A CLI's parser rejects an
 * unknown or malformed flag with a usage error, so a run that ends with the fake's text proves
 * the argv was accepted.
 *
 * @module
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import type {
  BuildContext,
  EngineInvocation,
  EngineTaskSpec,
  ExecutionProfile,
} from "../../engines/types.ts";
import { FAKE_TEXT } from "../fake_model_server.ts";
import type { RealRun } from "./run_real.ts";

/** What one engine's matrix needs. */
export interface ArgvMatrix {
  /** Engine name, for the test names. */
  engine: string;
  /** Skip (the CLI could not be installed). */
  ignore: boolean;
  /** The task's other fields (args the profiles rewrite, a model, ...). */
  task: Partial<EngineTaskSpec>;
  /** The `allowed_tools` of the "with" half. */
  allowed: string[];
  /** More of the build context (e.g. an env the CLI needs). */
  context?: Partial<BuildContext>;
  /** The file's own scenario: builds the invocation and runs the real CLI at the fake. */
  scenario(
    task: Partial<EngineTaskSpec>,
    context: Partial<BuildContext>,
  ): Promise<{ run: RealRun; inv: EngineInvocation }>;
}

const PROFILES: readonly ExecutionProfile[] = ["plan", "safe", "yolo"];

/** Registers the six tests of one engine's matrix. */
export function argvMatrixTests(matrix: ArgvMatrix): void {
  for (const profile of PROFILES) {
    for (const allowed of [undefined, matrix.allowed]) {
      Deno.test({
        name: `${matrix.engine} accepts the argv built for profile ${profile} ${
          allowed ? "with" : "without"
        } allowed_tools, a system prompt and retry feedback`,
        ignore: matrix.ignore,
        async fn() {
          const task: Partial<EngineTaskSpec> = { ...matrix.task };
          if (allowed) task.allowed_tools = allowed;
          const { run, inv } = await matrix.scenario(task, {
            profile,
            systemPrompt: 'Be brief.\nSay "hi".',
            retryFeedback: "[RETRY FEEDBACK -- Attempt 2/2]\nPlease fix the issues.",
            ...matrix.context,
          });
          assertEquals(run.result.failure, undefined, `${inv.argv.join(" ")}\n${run.stderr}`);
          assertEquals(run.result.text, FAKE_TEXT);
        },
      });
    }
  }
}

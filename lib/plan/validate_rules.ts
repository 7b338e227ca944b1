/**
 * Per-task rules that involve one field and its neighbours: engine fields (E008, W08, W13-W15,
 * W31) and the reference's other cross-field rules (E029, E045, E046, E060-E063, E071, E073,
 * E020, E021, W20).
 *
 * @module
 */
import { resolve } from "../path.ts";
import type { PlanIssue } from "../errors.ts";
import { isDirectory, pathExists } from "../fs.ts";
import type { WorkingTask } from "./lower.ts";
import { issue } from "./validate_common.ts";
import { checkInputs } from "./inputs.ts";
import { type EngineName, isBuiltinEngine } from "./names.ts";
import {
  AGENT_ENGINES,
  looksLikeCategory,
  REASONING_EFFORTS,
  TOOL_CATEGORIES,
  UNSUPPORTED_CATEGORIES,
} from "../../engines/capabilities.ts";
import { didYouMean } from "../errors.ts";
import type { ValidateInput } from "./validate.ts";

/**
 * `allowed_tools` entries a built-in engine cannot take (E105, as its adapter would fail the
 * task at run time): a category it has no equivalent for, or a misspelled category.
 */
function checkAllowedTools(working: WorkingTask, engine: string, errors: PlanIssue[]): void {
  const own = working.task.allowed_tools;
  const tools = own ?? working.defaults?.[engine as EngineName]?.allowed_tools;
  if (!Array.isArray(tools)) return;
  const unsupported = UNSUPPORTED_CATEGORIES[engine] ?? [];
  tools.forEach((entry, i) => {
    if (typeof entry !== "string") return;
    const where = own ? ["allowed_tools", i] : ["engine"];
    if (unsupported.includes(entry)) {
      errors.push(issue(
        working,
        where,
        "E105",
        `${engine} has no equivalent of allowed_tools category "${entry}"`,
        `use read-only, no-shell or git-only, or name the tools ${engine} may use`,
      ));
    } else if (
      looksLikeCategory(entry) && !(TOOL_CATEGORIES as readonly string[]).includes(entry)
    ) {
      const suggestion = didYouMean(entry, [...TOOL_CATEGORIES]);
      errors.push(issue(
        working,
        where,
        "E105",
        `allowed_tools entry "${entry}" is not a category nor a ${engine} tool name`,
        suggestion
          ? `did you mean "${suggestion}"?`
          : `categories: ${TOOL_CATEGORIES.join(", ")}; or name the tools`,
      ));
    }
  });
}

/** Engine fields: reasoning effort, agent, allowed_tools, fallback, escalation, prompt file. */
export function checkEngineFields(
  working: WorkingTask,
  errors: PlanIssue[],
  warnings: PlanIssue[],
): void {
  const { task, defaults } = working;
  if (task.engine == null) return;
  const builtin = isBuiltinEngine(task.engine);
  const engineDefaults = builtin ? defaults?.[task.engine as EngineName] : undefined;
  const effort = task.reasoning_effort ?? engineDefaults?.reasoning_effort;
  if (effort != null) {
    const allowed = REASONING_EFFORTS[task.engine];
    const where = task.reasoning_effort != null ? ["reasoning_effort"] : ["engine"];
    if (allowed && !allowed.includes(effort)) {
      errors.push(issue(
        working,
        where,
        "E008",
        `reasoning_effort "${effort}" is not valid for ${task.engine}`,
        `use one of ${allowed.join(", ")}`,
      ));
    } else if (!allowed && builtin) {
      warnings.push(issue(working, where, "W08", `reasoning_effort is ignored by ${task.engine}`));
    }
  }
  const agent = task.agent;
  if (agent != null && builtin && !AGENT_ENGINES.includes(task.engine)) {
    warnings.push(issue(
      working,
      ["agent"],
      "W38",
      `agent is ignored by ${task.engine}`,
      `only ${AGENT_ENGINES.join(" and ")} take --agent; put the agent's instructions in ` +
        "append_system_prompt instead",
    ));
  }
  if (builtin) checkAllowedTools(working, task.engine, errors);
  const fallback = task.fallback_engine ?? engineDefaults?.fallback_engine;
  if (fallback != null && fallback === task.engine) {
    warnings.push(
      issue(working, ["fallback_engine"], "W13", "fallback_engine is the same as engine"),
    );
  }
  const escalation = task.escalation ?? engineDefaults?.escalation;
  if (escalation && new Set(escalation).size !== escalation.length) {
    warnings.push(issue(working, ["escalation"], "W14", "escalation lists a model more than once"));
  }
  if (escalation && escalation.length > 0 && (task.max_retries ?? 0) === 0) {
    warnings.push(issue(
      working,
      ["escalation"],
      "W15",
      "escalation never climbs with max_retries 0",
      "set max_retries so there are attempts to escalate",
    ));
  }
  if (task.prompt_file != null) {
    const path = resolve(working.baseDir, task.prompt_file);
    if (!pathExists(path)) {
      warnings.push(
        issue(
          working,
          ["prompt_file"],
          "W31",
          `prompt_file "${task.prompt_file}" does not exist yet`,
        ),
      );
    }
  }
}

/** The reference's other cross-field rules. */
export function checkOtherRules(
  working: WorkingTask,
  input: ValidateInput,
  errors: PlanIssue[],
  warnings: PlanIssue[],
): void {
  const { task } = working;
  checkInputs(working, errors, warnings);
  const shellOrGroup = task.command != null || task.group != null;
  // the same rule as lowering's `cache` default: a shell task is cached only when asked to
  const cached = task.cache ?? (task.command == null || task.inputs != null);
  if ((task.negative_cache_ttl_sec ?? 0) > 0 && (!cached || task.group != null)) {
    warnings.push(issue(
      working,
      ["negative_cache_ttl_sec"],
      "W36",
      `negative_cache_ttl_sec of task "${task.id}" has no effect: the task is not cached`,
      task.group != null
        ? "set it on the tasks of the sub-plan"
        : "declare inputs: (or cache: true) to cache it",
    ));
  }
  if (task.approval_message != null && !task.requires_approval) {
    errors.push(
      issue(
        working,
        ["approval_message"],
        "E029",
        "approval_message needs requires_approval: true",
      ),
    );
  }
  if (task.worktree) {
    if (!input.workspaceRoot) {
      errors.push(issue(working, ["worktree"], "E045", "worktree needs the plan's workspace_root"));
    }
    if (shellOrGroup) {
      errors.push(issue(working, ["worktree"], "E046", "worktree is only for engine tasks"));
    }
  }
  if (task.allowed_tools != null && shellOrGroup) {
    errors.push(
      issue(working, ["allowed_tools"], "E071", "allowed_tools is only for engine tasks"),
    );
  }
  if (task.on_grant_violation != null && task.allowed_tools == null) {
    const engineTools = task.engine && isBuiltinEngine(task.engine)
      ? working.defaults?.[task.engine]?.allowed_tools
      : undefined;
    if (engineTools == null) {
      errors.push(
        issue(working, ["on_grant_violation"], "E073", "on_grant_violation needs allowed_tools"),
      );
    }
  }
  if (task.context_mode === "recursive") {
    const root = input.workspaceRoot;
    const ok = root != null && isDirectory(root);
    if (!ok) {
      errors.push(issue(
        working,
        ["context_mode"],
        "E021",
        "context_mode 'recursive' needs workspace_root to resolve to an existing directory",
        root ? `"${root}" does not exist` : "set workspace_root in the plan",
      ));
    }
  }
  if (task.batch != null) {
    if (task.engine == null) {
      errors.push(issue(working, ["batch"], "E060", "batch is only for engine tasks"));
    }
    if (working.matrixValues) {
      errors.push(issue(working, ["batch"], "E062", "batch and matrix cannot be combined"));
    }
  }
  if (task.dynamic_group && (task.engine == null || task.output_schema == null)) {
    errors.push(
      issue(
        working,
        ["dynamic_group"],
        "E063",
        "dynamic_group needs an engine and an output_schema",
      ),
    );
  }
  if (task.judge != null && task.judge.criteria == null && task.judge.preset == null) {
    errors.push(issue(working, ["judge"], "E020", "judge needs criteria or a preset"));
  }
  const escapes = task.verify_command ?? task.guard_command ?? task.assert ?? task.judge ??
    task.escalation ??
    task.fallback_engine;
  const progressive = Array.isArray(task.retry_delay_sec) ||
    (task.retry_strategy ?? "constant") !== "constant";
  if ((task.max_retries ?? 0) > 0 && escapes == null && !progressive) {
    warnings.push(issue(
      working,
      ["max_retries"],
      "W20",
      `task "${task.id}" retries with nothing that changes between attempts`,
      "add verify_command, a judge, escalation, a fallback or a growing retry_delay_sec",
    ));
  }
}

/**
 * Cross-field and cross-task validation of a plan after imports and matrix expansion, with the
 * reference tool's error codes. Every problem is collected (not only the first) and points at
 * the author's text.
 *
 * @module
 */
import { isDirectory, pathExists } from "../fs.ts";
import { resolve } from "node:path";
import { didYouMean, type PlanIssue } from "../errors.ts";
import { findCycle, type GraphStats, graphStats } from "../dag/graph.ts";
import type { AuthoredPlan } from "./schema.ts";
import { classifyVar, templateVars } from "./template.ts";
import { parseWhen, WhenSyntaxError, whenVars } from "./when.ts";
import type { WorkingTask } from "./lower.ts";
import type { DataPath } from "./yaml.ts";

/** Characters allowed in plan names and task ids. */
export const ID_PATTERN: RegExp = /^[a-zA-Z0-9][a-zA-Z0-9_\-./]*$/;

/**
 * Density and parallelism warnings start at this many tasks: on a 4-task diamond (the reference
 * warns from 4) they are noise rather than advice.
 */
const SHAPE_WARNING_MIN_TASKS = 8;

const NO_IDS: ReadonlySet<string> = new Set();

const CODEX_EFFORTS = ["none", "minimal", "low", "medium", "high", "xhigh"];
const CLAUDE_EFFORTS = ["low", "medium", "high", "xhigh", "max"];

/** What the checks need besides the tasks. */
export interface ValidateInput {
  /** Plan-level fields of the root file (undefined when their shape was invalid). */
  plan: Omit<AuthoredPlan, "tasks"> | undefined;
  /** Tasks after imports and matrix expansion. */
  tasks: readonly WorkingTask[];
  /** Ids of tasks whose shape was invalid: they exist, so references to them are not errors. */
  invalidIds: ReadonlySet<string>;
  /** Folder of the root plan file. */
  baseDir: string;
  /** Resolved workspace root. */
  workspaceRoot: string | null;
  /** Names given with `--set`. */
  setVars: ReadonlySet<string>;
  /** Path of the root file, for plan-level issues. */
  file: string;
  /** Locates plan-level nodes in the root file. */
  locate(path: DataPath): { line: number; column: number };
}

/** Errors and warnings found. */
export interface ValidateResult {
  /** Errors. */
  errors: PlanIssue[];
  /** Warnings. */
  warnings: PlanIssue[];
  /** Critical path and width, when they were computed (acyclic plans of 8+ tasks). */
  graph?: GraphStats;
}

function issue(
  working: WorkingTask,
  sub: DataPath,
  code: string,
  message: string,
  hint?: string,
): PlanIssue {
  return {
    code,
    message,
    file: working.map.file,
    ...working.map.locate([...working.path, ...sub]),
    ...(hint ? { hint } : {}),
  };
}

function commandTexts(value: string | string[] | null | undefined): string[] {
  if (value == null) return [];
  return typeof value === "string" ? [value] : value;
}

/**
 * Checks every rule that spans fields or tasks.
 *
 * @param input the plan, its tasks and where they came from
 */
export function validatePlan(input: ValidateInput): ValidateResult {
  const errors: PlanIssue[] = [];
  const warnings: PlanIssue[] = [];
  const { tasks, plan } = input;

  if (plan?.name != null && !ID_PATTERN.test(plan.name)) {
    errors.push({
      code: "E017",
      message: `plan name "${plan.name}" has characters that are not allowed`,
      file: input.file,
      ...input.locate(["name"]),
      hint: "use letters, digits, '_', '-', '.', '/' and start with a letter or digit",
    });
  }
  plan?.audit_packs?.forEach((pack, i) => {
    if (!pathExists(resolve(input.baseDir, pack))) {
      errors.push({
        code: "E018",
        message: `audit pack "${pack}" does not exist`,
        file: input.file,
        ...input.locate(["audit_packs", i]),
        hint: "audit pack paths are relative to the plan's folder",
      });
    }
  });

  const ids = new Set<string>(input.invalidIds);
  const firstSeen = new Map<string, WorkingTask>();
  for (const working of tasks) {
    const id = working.task.id;
    if (!ID_PATTERN.test(id)) {
      errors.push(issue(
        working,
        ["id"],
        "E017",
        `task id "${id}" has characters that are not allowed`,
        "use letters, digits, '_', '-', '.', '/' and start with a letter or digit",
      ));
    }
    const first = firstSeen.get(id);
    if (first) {
      const at = first.map.locate(first.path);
      errors.push(
        issue(
          working,
          ["id"],
          "E003",
          `duplicate task id "${id}"`,
          `first defined at line ${at.line}`,
        ),
      );
    } else {
      firstSeen.set(id, working);
    }
    ids.add(id);
  }

  const edgeCount = { value: 0 };
  for (const working of tasks) checkTask(working, input, ids, errors, warnings, edgeCount);

  // self-dependencies are reported as E016 already, so keep them out of the cycle search
  const graph = tasks.map((w) => ({
    id: w.task.id,
    depends_on: (w.task.depends_on ?? []).filter((d) => ids.has(d) && d !== w.task.id),
  }));
  const cycle = findCycle(graph);
  let stats: GraphStats | undefined;
  if (cycle) {
    const working = firstSeen.get(cycle[0]!)!;
    const depIndex = (working.task.depends_on ?? []).indexOf(cycle[1]!);
    errors.push(issue(
      working,
      depIndex >= 0 ? ["depends_on", depIndex] : ["depends_on"],
      "E004",
      `dependency cycle: ${cycle.join(" -> ")}`,
      "remove one of these dependencies",
    ));
  } else if (tasks.length >= SHAPE_WARNING_MIN_TASKS) {
    const n = tasks.length;
    const density = edgeCount.value / (n * (n - 1) / 2);
    if (density > 0.6) {
      warnings.push({
        code: "W17",
        message: `high dependency density (${Math.round(density * 100)}%)`,
        file: input.file,
        ...input.locate(["tasks"]),
        hint: "dense graphs run mostly in sequence; drop dependencies that are implied by others",
      });
    }
    stats = graphStats(graph);
    const { criticalPathLength } = stats;
    if (1 - criticalPathLength / n < 0.3) {
      warnings.push({
        code: "W18",
        message: `low parallelism (sequential depth ${criticalPathLength}/${n})`,
        file: input.file,
        ...input.locate(["tasks"]),
      });
    }
  }
  return stats ? { errors, warnings, graph: stats } : { errors, warnings };
}

function checkTask(
  working: WorkingTask,
  input: ValidateInput,
  ids: ReadonlySet<string>,
  errors: PlanIssue[],
  warnings: PlanIssue[],
  edgeCount: { value: number },
): void {
  const { task } = working;
  const kindCount = (task.command != null ? 1 : 0) + (task.engine != null ? 1 : 0) +
    (task.group != null ? 1 : 0);
  if (kindCount === 0) {
    errors.push(issue(
      working,
      ["id"],
      "E001",
      `task "${task.id}" needs one of command, engine or group`,
      "add `command:` for a shell task or `engine:` + `prompt:` for an agent task",
    ));
  } else if (kindCount > 1) {
    const kinds = (["command", "engine", "group"] as const).filter((k) => task[k] != null);
    errors.push(issue(
      working,
      [kinds[1]!],
      "E011",
      `task "${task.id}" sets ${kinds.join(" and ")}; exactly one is allowed`,
    ));
  }
  if (task.group != null && task.prompt != null) {
    errors.push(issue(working, ["prompt"], "E011", `group task "${task.id}" cannot have a prompt`));
  }
  if (
    task.engine != null && task.prompt == null && task.prompt_file == null &&
    task.prompt_md_file == null
  ) {
    errors.push(issue(
      working,
      ["engine"],
      "E007",
      `engine task "${task.id}" has no prompt`,
      "add `prompt:`, `prompt_file:` or `prompt_md_file:` + `prompt_md_heading:`",
    ));
  }
  if ((task.prompt_md_file == null) !== (task.prompt_md_heading == null)) {
    const present = task.prompt_md_file != null ? "prompt_md_file" : "prompt_md_heading";
    errors.push(issue(
      working,
      [present],
      "E011",
      "prompt_md_file and prompt_md_heading must be given together",
    ));
  }
  if (
    task.engine == null && (task.prompt_file != null || task.prompt != null) && task.group == null
  ) {
    warnings.push(
      issue(working, ["prompt"], "W03", `prompt on non-engine task "${task.id}" is ignored`),
    );
  }

  const deps = task.depends_on ?? [];
  deps.forEach((dep, i) => {
    if (dep === task.id) {
      errors.push(issue(working, ["depends_on", i], "E016", `task "${task.id}" depends on itself`));
    } else if (!ids.has(dep)) {
      const suggestion = didYouMean(dep, ids);
      errors.push(issue(
        working,
        ["depends_on", i],
        "E005",
        `unknown dependency "${dep}" in task "${task.id}"`,
        suggestion ? `did you mean "${suggestion}"?` : "check the task ids of the plan",
      ));
    } else {
      edgeCount.value++;
    }
  });
  const depSet = deps.length > 0 ? new Set(deps) : NO_IDS;
  task.context_from?.forEach((from, i) => {
    if (from !== "*" && !depSet.has(from)) {
      errors.push(issue(
        working,
        ["context_from", i],
        "E010",
        ids.has(from)
          ? `context_from "${from}" of task "${task.id}" is not in its depends_on`
          : `context_from names unknown task "${from}"`,
        "context can only come from direct dependencies; add it to depends_on",
      ));
    }
  });

  if (task.when != null) checkWhen(working, ids, depSet, errors);
  checkTemplates(working, input, ids, depSet, errors, warnings);
  checkEngineFields(working, errors, warnings);
  checkOtherRules(working, input, errors, warnings);
}

function checkWhen(
  working: WorkingTask,
  ids: ReadonlySet<string>,
  depSet: ReadonlySet<string>,
  errors: PlanIssue[],
): void {
  const source = working.task.when!;
  try {
    const expr = parseWhen(source);
    for (const name of whenVars(expr)) {
      const problem = templateProblem(name, working, ids, depSet, new Set());
      if (problem) {
        errors.push(issue(working, ["when"], "E015", `when: ${problem.message}`, problem.hint));
      }
    }
  } catch (error) {
    if (!(error instanceof WhenSyntaxError)) throw error;
    const at = working.map.locate([...working.path, "when"]);
    errors.push({
      code: "E015",
      message: `invalid when expression "${source}": ${error.message}`,
      file: working.map.file,
      line: at.line,
      column: at.line > 0 ? at.column + error.column - 1 : 0,
      hint: "write e.g. `{{ build.status }} == success`, combine with and/or/not, or use success()",
    });
  }
}

function templateProblem(
  name: string,
  working: WorkingTask,
  ids: ReadonlySet<string>,
  depSet: ReadonlySet<string>,
  setVars: ReadonlySet<string>,
): { message: string; hint?: string; warning?: boolean } | undefined {
  const v = classifyVar(name, ids, setVars);
  switch (v.kind) {
    case "global":
    case "set":
      return undefined;
    case "matrix":
      if (working.matrixValues && v.key in working.matrixValues) return undefined;
      return {
        message: `{{ ${name} }} is not a matrix key of task "${working.task.id}"`,
        hint: working.matrixValues
          ? `its matrix keys are: ${Object.keys(working.matrixValues).join(", ")}`
          : "only tasks with `matrix:` can use {{ matrix.<key> }}",
      };
    case "upstream":
      if (depSet.has(v.task)) return undefined;
      return {
        message:
          `{{ ${name} }} reads task "${v.task}", which is not in depends_on of "${working.task.id}"`,
        hint: `add "${v.task}" to depends_on`,
      };
    case "unknown_task": {
      const suggestion = didYouMean(v.task, ids);
      return {
        message: `{{ ${name} }} refers to unknown task "${v.task}"`,
        hint: suggestion ? `did you mean "${suggestion}"?` : "check the task ids of the plan",
      };
    }
    case "unknown":
      return {
        message: `unknown template variable {{ ${name} }} is left as written`,
        hint: "see the template variables in docs/plan-reference.md",
        warning: true,
      };
  }
}

/** A cheap pre-check: most tasks of a big plan have no `{{` anywhere. */
function mayHaveTemplates(task: WorkingTask["task"]): boolean {
  for (
    const value of [
      task.prompt,
      task.command,
      task.pre_command,
      task.verify_command,
      task.guard_command,
    ]
  ) {
    if (value == null) continue;
    if (
      typeof value === "string" ? value.includes("{{") : value.some((part) => part.includes("{{"))
    ) {
      return true;
    }
  }
  return false;
}

function checkTemplates(
  working: WorkingTask,
  input: ValidateInput,
  ids: ReadonlySet<string>,
  depSet: ReadonlySet<string>,
  errors: PlanIssue[],
  warnings: PlanIssue[],
): void {
  const { task } = working;
  if (!mayHaveTemplates(task)) return;
  const fields: Array<[string, string[]]> = [
    ["prompt", commandTexts(task.prompt)],
    ["command", commandTexts(task.command)],
    ["pre_command", commandTexts(task.pre_command)],
    ["verify_command", commandTexts(task.verify_command)],
    ["guard_command", commandTexts(task.guard_command)],
  ];
  for (const [field, texts] of fields) {
    const seen = new Set<string>();
    texts.forEach((text, i) => {
      for (const name of templateVars(text)) {
        if (seen.has(name)) continue;
        seen.add(name);
        const problem = templateProblem(name, working, ids, depSet, input.setVars);
        if (!problem) continue;
        const sub = typeof task[field as "command"] === "string" ? [field] : [field, i];
        if (problem.warning) {
          warnings.push(issue(working, sub, "W02", problem.message, problem.hint));
        } else errors.push(issue(working, sub, "E030", problem.message, problem.hint));
      }
    });
  }
}

function checkEngineFields(working: WorkingTask, errors: PlanIssue[], warnings: PlanIssue[]): void {
  const { task, defaults } = working;
  if (task.engine == null) return;
  const engineDefaults = defaults?.[task.engine];
  const effort = task.reasoning_effort ?? engineDefaults?.reasoning_effort;
  if (effort != null) {
    const allowed = task.engine === "codex"
      ? CODEX_EFFORTS
      : task.engine === "claude"
      ? CLAUDE_EFFORTS
      : undefined;
    const where = task.reasoning_effort != null ? ["reasoning_effort"] : ["engine"];
    if (allowed && !allowed.includes(effort)) {
      errors.push(issue(
        working,
        where,
        "E008",
        `reasoning_effort "${effort}" is not valid for ${task.engine}`,
        `use one of ${allowed.join(", ")}`,
      ));
    } else if (!allowed) {
      warnings.push(issue(working, where, "W08", `reasoning_effort is ignored by ${task.engine}`));
    }
  }
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
      "escalation has no effect with max_retries 0",
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

function checkOtherRules(
  working: WorkingTask,
  input: ValidateInput,
  errors: PlanIssue[],
  warnings: PlanIssue[],
): void {
  const { task } = working;
  const shellOrGroup = task.command != null || task.group != null;
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
    const engineTools = task.engine ? working.defaults?.[task.engine]?.allowed_tools : undefined;
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

/**
 * Cross-field and cross-task validation of a plan after imports and matrix expansion, with the
 * reference tool's error codes. Every problem is collected (not only the first) and points at
 * the author's text.
 *
 * @module
 */
import { pathExists } from "../fs.ts";
import { resolve } from "../path.ts";
import { didYouMean, type PlanIssue } from "../errors.ts";
import { findCycles, type GraphStats, graphStats } from "../dag/graph.ts";
import type { AuthoredPlan } from "./schema.ts";
import { checkTemplates, checkWhen } from "./validate_references.ts";
import { checkEngineFields, checkOtherRules } from "./validate_rules.ts";
import { checkGateFields } from "./validate_gates.ts";
import { checkEngineDeclarations, checkEngineName } from "./validate_engines.ts";
import { checkContextFields } from "./validate_context.ts";
import { issue } from "./validate_common.ts";
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

  checkEngineDeclarations(input, errors);

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
  const cycles = findCycles(graph);
  let stats: GraphStats | undefined;
  for (const cycle of cycles) {
    const working = firstSeen.get(cycle[0]!)!;
    const depIndex = (working.task.depends_on ?? []).indexOf(cycle[1]!);
    errors.push(issue(
      working,
      depIndex >= 0 ? ["depends_on", depIndex] : ["depends_on"],
      "E004",
      `dependency cycle: ${cycle.join(" -> ")}`,
      "remove one of these dependencies",
    ));
  }
  // graph statistics need an acyclic graph
  if (cycles.length === 0 && tasks.length >= SHAPE_WARNING_MIN_TASKS) {
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
  // the children of a matrix task share its text: one problem there is reported once
  const once = (issues: PlanIssue[]) => {
    const seen = new Set<string>();
    return issues.filter((i) => {
      const key = `${i.file}\0${i.line}\0${i.column}\0${i.code}\0${i.message}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  };
  const result = { errors: once(errors), warnings: once(warnings) };
  return stats ? { ...result, graph: stats } : result;
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
      errors.push(
        issue(
          working,
          ["depends_on", i],
          "E016",
          `task "${task.id}" depends on itself`,
          `remove "${task.id}" from its depends_on`,
        ),
      );
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

  if (task.when != null) checkWhen(working, ids, depSet, errors, warnings);
  checkTemplates(working, input, ids, depSet, errors, warnings);
  checkEngineName(working, errors);
  checkEngineFields(working, errors, warnings);
  checkOtherRules(working, input, errors, warnings);
  checkContextFields(working, errors, warnings);
  checkGateFields(working, errors, warnings);
}

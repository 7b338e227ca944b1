/**
 * Commands that read a plan without running it: validate, ir, graph, schema.
 *
 * @module
 */
import { importLater } from "../import_later.ts";
import { EXIT, type PlanIssue } from "../errors.ts";
import { type GraphStats, graphStats } from "../dag/graph.ts";
import { type LoadOutcome, loadPlan } from "../plan/load.ts";
import { type LoadedPlan, type PlanIR, withoutProvenance } from "../plan/ir.ts";
import { displayPath, issueJson, issueLines, paint, printJson } from "./output.ts";

/** Options common to the commands that load a plan. */
export interface PlanReadOptions {
  /** Unknown keys are errors. */
  strict?: boolean;
  /** `--set KEY=VALUE` pairs. */
  set?: string[];
  /** Print JSON. */
  json?: boolean;
}

/** Parses `--set KEY=VALUE` pairs; returns the issue for a malformed one. */
export function parseSetValues(pairs: readonly string[] = []): Record<string, string> | string {
  const values: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) return `--set expects KEY=VALUE, got "${pair}"`;
    values[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return values;
}

function printIssues(errors: PlanIssue[], warnings: PlanIssue[]): void {
  for (const e of errors) console.error(issueLines(e, "error"));
  for (const w of warnings) console.error(issueLines(w, "warning"));
}

/** Loads a plan for a command, printing problems; undefined means the command should stop. */
async function load(path: string, options: PlanReadOptions): Promise<LoadOutcome | number> {
  const set = parseSetValues(options.set);
  if (typeof set === "string") {
    console.error(`maestro: ${set}`);
    return EXIT.invalid;
  }
  return await loadPlan(path, { strict: options.strict ?? false, set });
}

/** A valid plan for a command that prints it, or the exit code after printing its problems. */
async function loadValid(path: string, options: PlanReadOptions): Promise<LoadedPlan | number> {
  const outcome = await load(path, options);
  if (typeof outcome === "number") return outcome;
  if (outcome.plan) return outcome.plan;
  printIssues(outcome.errors, outcome.warnings);
  return EXIT.invalid;
}

/** Summary figures shown by `validate`. */
function summary(ir: PlanIR, known?: GraphStats) {
  const stats = known ?? graphStats(ir.tasks);
  return {
    name: ir.name,
    tasks: ir.tasks.length,
    max_parallel: ir.max_parallel,
    max_parallelism: Math.min(stats.maxWidth, ir.max_parallel),
    graph_width: stats.maxWidth,
    critical_path_length: stats.criticalPathLength,
    critical_path: stats.criticalPath,
  };
}

/** `maestro validate <plan>`. */
export async function validateCommand(path: string, options: PlanReadOptions): Promise<number> {
  const outcome = await load(path, options);
  if (typeof outcome === "number") return outcome;
  const { plan, errors, warnings } = outcome;
  if (options.json) {
    printJson({
      valid: plan !== undefined,
      ...(plan ? { plan: summary(plan.ir, plan.graph) } : {}),
      errors: errors.map(issueJson),
      warnings: warnings.map(issueJson),
    });
    return plan ? EXIT.ok : EXIT.invalid;
  }
  if (!plan) {
    printIssues(errors, warnings);
    const count = `${errors.length} error${errors.length === 1 ? "" : "s"}`;
    console.error(paint(`✖ ${displayPath(path)} is not valid (${count})`, "red"));
    return EXIT.invalid;
  }
  const s = summary(plan.ir, plan.graph);
  console.log(`${paint("✓", "green")} ${displayPath(plan.source)} is valid`);
  console.log(`  name: ${s.name}`);
  console.log(`  tasks: ${s.tasks}`);
  console.log(
    `  max parallelism: ${s.max_parallelism} (graph width ${s.graph_width}, max_parallel ${s.max_parallel})`,
  );
  const path_ = s.critical_path.length <= 8
    ? s.critical_path.join(" -> ")
    : `${s.critical_path.slice(0, 3).join(" -> ")} -> ... -> ${
      s.critical_path.slice(-2).join(" -> ")
    }`;
  console.log(
    `  critical path: ${s.critical_path_length} task${
      s.critical_path_length === 1 ? "" : "s"
    } (${path_})`,
  );
  console.log(`  warnings: ${warnings.length}`);
  for (const w of warnings) console.log(issueLines(w, "warning"));
  return EXIT.ok;
}

/** `maestro ir <plan>`. */
export async function irCommand(
  path: string,
  options: PlanReadOptions & { origin?: boolean },
): Promise<number> {
  const plan = await loadValid(path, options);
  if (typeof plan === "number") return plan;
  printJson(options.origin === false ? withoutProvenance(plan.ir) : plan.ir);
  return EXIT.ok;
}

function quoteDot(text: string): string {
  return `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/** Renders the DAG as Mermaid, Graphviz dot, or JSON. */
export function renderGraph(ir: PlanIR, format: "mermaid" | "dot" | "json"): string {
  if (format === "json") {
    return JSON.stringify(
      {
        name: ir.name,
        nodes: ir.tasks.map((t) => ({
          id: t.id,
          kind: t.kind,
          ...(t.engine ? { engine: t.engine } : {}),
        })),
        edges: ir.tasks.flatMap((t) => t.depends_on.map((d) => ({ from: d, to: t.id }))),
      },
      null,
      2,
    );
  }
  if (format === "dot") {
    const lines = [`digraph ${quoteDot(ir.name)} {`, "  rankdir=LR;"];
    for (const t of ir.tasks) {
      const shape = t.kind === "engine" ? "box" : t.kind === "group" ? "folder" : "ellipse";
      lines.push(`  ${quoteDot(t.id)} [shape=${shape}];`);
    }
    for (const t of ir.tasks) {
      for (const d of t.depends_on) lines.push(`  ${quoteDot(d)} -> ${quoteDot(t.id)};`);
    }
    lines.push("}");
    return lines.join("\n");
  }
  const node = new Map(ir.tasks.map((t, i) => [t.id, `t${i}`]));
  const label = (text: string) => text.replace(/"/g, "#quot;");
  const lines = ["flowchart LR"];
  for (const t of ir.tasks) {
    const text = label(t.engine ? `${t.id} (${t.engine})` : t.id);
    lines.push(
      t.kind === "engine" ? `  ${node.get(t.id)}["${text}"]` : `  ${node.get(t.id)}(["${text}"])`,
    );
  }
  for (const t of ir.tasks) {
    for (const d of t.depends_on) lines.push(`  ${node.get(d)} --> ${node.get(t.id)}`);
  }
  return lines.join("\n");
}

/** `maestro graph <plan> --format`. */
export async function graphCommand(
  path: string,
  options: PlanReadOptions & { format: "mermaid" | "dot" | "json" },
): Promise<number> {
  const plan = await loadValid(path, options);
  if (typeof plan === "number") return plan;
  console.log(renderGraph(plan.ir, options.format));
  return EXIT.ok;
}

/** `maestro schema`. */
export async function schemaCommand(): Promise<number> {
  const { PLAN_JSON_SCHEMA } = await importLater<typeof import("../plan/keys.ts")>(
    new URL("../plan/keys.ts", import.meta.url),
  );
  printJson(PLAN_JSON_SCHEMA);
  return EXIT.ok;
}

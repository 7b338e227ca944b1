/**
 * In-process profile of `maestro validate`: runs the same stages as `loadPlan` +
 * `validateCommand` (lib/plan/load.ts, lib/cli/plan_commands.ts) one by one and times each with
 * `performance.now()`. It calls only exported functions of lib/, so it follows their code; the
 * glue (import following, group loading) is skipped because generated plans have neither.
 *
 * Each stage is timed on its first call in a fresh process (as the CLI runs it: no JIT
 * warm-up), so run this script several times and take the median. Also times two baselines
 * in the same process: `JSON.parse` of the same data (a floor for any parser) and
 * `JSON.stringify` of the IR (what `maestro ir` adds).
 *
 * Usage: `deno run -A bench/stages.ts <plan.yaml>` prints one JSON object of stage → ms.
 *
 * @module
 */
import { dirname, resolve } from "node:path";
import { parseYaml } from "../lib/plan/yaml.ts";
import { checkShape } from "../lib/plan/shape.ts";
import { expandMatrix, lowerPlan, lowerTask, type WorkingTask } from "../lib/plan/lower.ts";
import { validatePlan } from "../lib/plan/validate.ts";
import { graphStats } from "../lib/dag/graph.ts";

/** Stage name → milliseconds, in the order the stages run. */
export type StageTimes = Record<string, number>;

/** Names of the stages {@linkcode profileStages} reports, in order. */
export const STAGES: readonly string[] = [
  "read file",
  "YAML parse + source map (parseYaml)",
  "baseline: JSON.parse of the same data",
  "shape check (checkShape)",
  "matrix expansion",
  "validation checks",
  "  of which graph (findCycle+graphStats)",
  "IR lowering (lowerTask+lowerPlan)",
  "  of which origin locate()",
  "summary (graphStats)",
  "baseline: JSON.stringify(IR)",
  "total (front end, no baselines)",
];

// Stages are awaited, so this keeps working whether a lib/ function is sync or async.
async function timed<T>(times: StageTimes, name: string, fn: () => T | Promise<T>): Promise<T> {
  const start = performance.now();
  const value = await fn();
  times[name] = (times[name] ?? 0) + performance.now() - start;
  return value;
}

/**
 * Times each stage of validating one YAML plan file.
 *
 * @param path the plan file
 * @returns milliseconds per stage (see {@linkcode STAGES})
 */
export async function profileStages(path: string): Promise<StageTimes> {
  const file = resolve(path);
  const times: StageTimes = {};
  const t0 = performance.now();
  const text = await Deno.readTextFile(file);
  times["read file"] = performance.now() - t0;

  // The front end's own parser (whatever lib/plan/yaml.ts uses): data + source map.
  const parsed = await timed(
    times,
    "YAML parse + source map (parseYaml)",
    () => parseYaml(text, file),
  );
  // Floor for any parser of the same content: JSON text of the same data, parsed by V8's
  // native JSON parser (the stringify is not timed).
  const json = JSON.stringify(parsed.data);
  await timed(times, "baseline: JSON.parse of the same data", () => JSON.parse(json));
  if (parsed.errors.length > 0) throw new Error(`YAML errors in ${file}`);
  const map = parsed.sourceMap;

  const shape = await timed(
    times,
    "shape check (checkShape)",
    () => checkShape(parsed.data, map),
  );
  if (shape.issues.length > 0) throw new Error(`shape errors: ${shape.issues[0]!.message}`);
  const baseDir = dirname(file);
  const own: WorkingTask[] = [];
  shape.tasks.forEach((task, i) => {
    if (task) own.push({ task, map, path: ["tasks", i], baseDir, defaults: shape.plan?.defaults });
  });
  const tasks = await timed(times, "matrix expansion", () => expandMatrix(own));
  const plan = shape.plan!;

  const result = await timed(times, "validation checks", () =>
    validatePlan({
      plan,
      tasks,
      invalidIds: new Set(),
      baseDir,
      workspaceRoot: null,
      setVars: new Set(),
      file,
      locate: (p) => map.locate(p),
    }));
  if (result.errors.length > 0) throw new Error(`validation errors: ${result.errors[0]!.message}`);
  // validatePlan's graph work, timed on its own (same inputs as validatePlan builds)
  await timed(times, "  of which graph (findCycle+graphStats)", () => {
    const graph = tasks.map((w) => ({ id: w.task.id, depends_on: w.task.depends_on ?? [] }));
    return graphStats(graph);
  });

  const ir = await timed(
    times,
    "IR lowering (lowerTask+lowerPlan)",
    () =>
      lowerPlan(
        plan,
        file,
        tasks.map((w) => lowerTask(w, { workspaceRoot: null, groups: new Map() })),
      ),
  );
  await timed(times, "  of which origin locate()", () => {
    for (const w of tasks) w.map.locate(w.path);
  });
  await timed(times, "summary (graphStats)", () => graphStats(ir.tasks));
  await timed(times, "baseline: JSON.stringify(IR)", () => JSON.stringify(ir, null, 2));

  times["total (front end, no baselines)"] = times["read file"]! +
    times["YAML parse + source map (parseYaml)"]! +
    times["shape check (checkShape)"]! + times["matrix expansion"]! +
    times["validation checks"]! + times["IR lowering (lowerTask+lowerPlan)"]! +
    times["summary (graphStats)"]!;
  return times;
}

if (import.meta.main) {
  const [path] = Deno.args;
  if (!path) {
    console.error("usage: deno run -A bench/stages.ts <plan.yaml>");
    Deno.exit(2);
  }
  console.log(JSON.stringify(await profileStages(path)));
}

/**
 * Generates random, reproducible DAG plans in the maestro v1 YAML format for the front-end
 * benchmarks: `n` shell tasks (`command: "true"`), each depending on 0–3 distinct earlier tasks,
 * chosen with a seeded PRNG so every run of the benchmark reads byte-identical files.
 *
 * Run directly to write plans: `deno run -A bench/gen_plan.ts <dir> [sizes...]`.
 *
 * @module
 */
import { join } from "node:path";

/** Default seed; the benchmark always uses it so figures are comparable between runs. */
export const DEFAULT_SEED = 20261124;

/**
 * A small, fast seeded PRNG (mulberry32). Returns a function giving floats in [0, 1).
 *
 * @param seed any 32-bit integer
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Task id of the i-th generated task: fixed width so ids sort like their indices. */
export function taskId(i: number, n: number): string {
  return `t${String(i).padStart(String(n - 1).length, "0")}`;
}

/** What {@linkcode generatePlan} produced. */
export interface GeneratedPlan {
  /** The YAML text. */
  yaml: string;
  /** Number of tasks. */
  tasks: number;
  /** Number of dependency edges. */
  edges: number;
}

/**
 * Builds a random DAG plan. Task `i` depends on `min(k, i)` distinct tasks among `0..i-1`, with
 * `k` uniform in 0..3, so the graph is acyclic by construction and has about 1.5 edges per task.
 *
 * @param n number of tasks (≥ 1)
 * @param seed PRNG seed
 * @returns the YAML text and its size figures
 */
export function generatePlan(n: number, seed: number = DEFAULT_SEED): GeneratedPlan {
  const random = mulberry32(seed ^ n);
  const lines = [
    "version: 1",
    `name: bench-${n}`,
    "max_parallel: 8",
    "tasks:",
  ];
  let edges = 0;
  for (let i = 0; i < n; i++) {
    const want = Math.min(Math.floor(random() * 4), i);
    const deps = new Set<number>();
    while (deps.size < want) deps.add(Math.floor(random() * i));
    edges += deps.size;
    const list = [...deps].sort((a, b) => a - b).map((d) => taskId(d, n));
    lines.push(
      `  - id: ${taskId(i, n)}`,
      `    command: "true"`,
      `    depends_on: [${list.join(", ")}]`,
    );
  }
  lines.push("");
  return { yaml: lines.join("\n"), tasks: n, edges };
}

/** One plan file written by {@linkcode writePlans}. */
export interface PlanFile {
  /** Number of tasks. */
  tasks: number;
  /** Number of dependency edges. */
  edges: number;
  /** Absolute path of the file. */
  path: string;
  /** File size in bytes. */
  bytes: number;
}

/**
 * Writes one generated plan per size into `dir` as `plan-<n>.yaml`.
 *
 * @param dir an existing folder (a temp dir: generated plans never go into the repo)
 * @param sizes task counts
 * @param seed PRNG seed
 */
export async function writePlans(
  dir: string,
  sizes: readonly number[],
  seed: number = DEFAULT_SEED,
): Promise<PlanFile[]> {
  const files: PlanFile[] = [];
  for (const n of sizes) {
    const plan = generatePlan(n, seed);
    const path = join(dir, `plan-${n}.yaml`);
    await Deno.writeTextFile(path, plan.yaml);
    files.push({
      tasks: n,
      edges: plan.edges,
      path,
      bytes: new TextEncoder().encode(plan.yaml).length,
    });
  }
  return files;
}

if (import.meta.main) {
  const [dir, ...rest] = Deno.args;
  if (!dir) {
    console.error("usage: deno run -A bench/gen_plan.ts <dir> [sizes...]");
    Deno.exit(2);
  }
  const sizes = rest.length > 0 ? rest.map(Number) : [100, 1_000, 10_000, 50_000];
  await Deno.mkdir(dir, { recursive: true });
  for (const file of await writePlans(dir, sizes)) {
    console.log(`${file.path}\t${file.tasks} tasks\t${file.edges} edges\t${file.bytes} bytes`);
  }
}

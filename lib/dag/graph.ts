/**
 * Graph algorithms over a plan's tasks: cycle finding with the full path, topological levels,
 * critical path and width. Pure functions over ids and dependency lists; linear in tasks + edges.
 *
 * @module
 */

/** A node of the graph: its id and the ids it depends on. */
export interface GraphNode {
  /** The task id. */
  readonly id: string;
  /** Ids this task depends on (unknown ids are ignored here). */
  readonly depends_on: readonly string[];
}

/** Adjacency by index: `deps[i]` are the indices node i depends on. */
interface Indexed {
  ids: string[];
  deps: number[][];
}

function index(nodes: readonly GraphNode[]): Indexed {
  const position = new Map<string, number>();
  nodes.forEach((node, i) => position.set(node.id, i));
  const deps = nodes.map((node) => {
    const list: number[] = [];
    for (const dep of node.depends_on) {
      const j = position.get(dep);
      if (j !== undefined) list.push(j);
    }
    return list;
  });
  return { ids: nodes.map((n) => n.id), deps };
}

/**
 * Finds a dependency cycle and returns it as a path that starts and ends on the same id
 * (`["a", "b", "c", "a"]`), or undefined when the graph is acyclic. Iterative, so a 50 000-task
 * chain does not overflow the stack.
 */
export function findCycle(nodes: readonly GraphNode[]): string[] | undefined {
  const { ids, deps } = index(nodes);
  const state = new Uint8Array(ids.length); // 0 new, 1 on stack, 2 done
  const parent = new Int32Array(ids.length).fill(-1);
  for (let root = 0; root < ids.length; root++) {
    if (state[root] !== 0) continue;
    const stack: Array<[number, number]> = [[root, 0]];
    state[root] = 1;
    while (stack.length > 0) {
      const frame = stack[stack.length - 1]!;
      const [node, next] = frame;
      const edges = deps[node]!;
      if (next < edges.length) {
        frame[1] = next + 1;
        const dep = edges[next]!;
        if (state[dep] === 0) {
          state[dep] = 1;
          parent[dep] = node;
          stack.push([dep, 0]);
        } else if (state[dep] === 1) {
          // node depends on dep, which is already on the stack: walk back from node to dep
          const path = [ids[dep]!];
          for (let at = node; at !== dep; at = parent[at]!) path.push(ids[at]!);
          path.push(ids[dep]!);
          return path;
        }
      } else {
        state[node] = 2;
        stack.pop();
      }
    }
  }
  return undefined;
}

/**
 * Up to `max` dependency cycles that share no task, each as {@linkcode findCycle} returns it:
 * after each one its tasks leave the graph and the search goes on, so two separate cycles are
 * both reported in one pass.
 */
export function findCycles(nodes: readonly GraphNode[], max = 20): string[][] {
  const cycles: string[][] = [];
  let remaining = nodes;
  while (cycles.length < max) {
    const cycle = findCycle(remaining);
    if (!cycle) break;
    cycles.push(cycle);
    const gone = new Set(cycle);
    remaining = remaining.filter((node) => !gone.has(node.id));
  }
  return cycles;
}

/**
 * The depth of each node: 0 for nodes without dependencies, else 1 + the deepest dependency.
 * Requires an acyclic graph.
 *
 * @returns a map from id to depth
 */
export function depths(nodes: readonly GraphNode[]): Map<string, number> {
  const { ids, deps } = index(nodes);
  const depth = new Int32Array(ids.length).fill(-1);
  for (let root = 0; root < ids.length; root++) {
    if (depth[root]! >= 0) continue;
    const stack = [root];
    while (stack.length > 0) {
      const node = stack[stack.length - 1]!;
      let ready = true;
      let best = 0;
      for (const dep of deps[node]!) {
        if (depth[dep]! < 0) {
          ready = false;
          stack.push(dep);
        } else {
          best = Math.max(best, depth[dep]! + 1);
        }
      }
      if (ready) {
        depth[node] = best;
        stack.pop();
      }
    }
  }
  return new Map(ids.map((id, i) => [id, depth[i]!]));
}

/** Summary figures of an acyclic graph. */
export interface GraphStats {
  /** Number of tasks on the longest dependency chain. */
  criticalPathLength: number;
  /** One longest chain, first task first. */
  criticalPath: string[];
  /** The most tasks that share one depth level: how many could run at once. */
  maxWidth: number;
}

/** Critical path and width of an acyclic graph. */
export function graphStats(nodes: readonly GraphNode[]): GraphStats {
  if (nodes.length === 0) return { criticalPathLength: 0, criticalPath: [], maxWidth: 0 };
  const depth = depths(nodes);
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const width = new Map<number, number>();
  let deepest = nodes[0]!;
  for (const node of nodes) {
    const d = depth.get(node.id)!;
    width.set(d, (width.get(d) ?? 0) + 1);
    if (d > depth.get(deepest.id)!) deepest = node;
  }
  const path = [deepest.id];
  let at: GraphNode | undefined = deepest;
  while (at && depth.get(at.id)! > 0) {
    const want = depth.get(at.id)! - 1;
    const prev: string | undefined = at.depends_on.find((d) => depth.get(d) === want);
    if (prev === undefined) break;
    path.unshift(prev);
    at = byId.get(prev);
  }
  return {
    criticalPathLength: path.length,
    criticalPath: path,
    maxWidth: Math.max(...width.values()),
  };
}

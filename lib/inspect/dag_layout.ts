/**
 * A layered left-to-right layout of a DAG, for drawing it as SVG without any library: columns
 * are dependency depths (lib/dag/graph.ts), each column is ordered by the barycentre of its
 * neighbours (a few sweeps each way, which removes most crossings), and edges are cubic curves
 * from a dependency's right side to its dependent's left side. Linear-ish in nodes + edges.
 *
 * @module
 */
import { depths, type GraphNode } from "../dag/graph.ts";

/** Sizes of the layout, in SVG user units. */
export interface LayoutOptions {
  /** Node width. @default {168} */
  nodeWidth?: number;
  /** Node height. @default {30} */
  nodeHeight?: number;
  /** Horizontal gap between columns. @default {56} */
  gapX?: number;
  /** Vertical gap between nodes of a column. @default {12} */
  gapY?: number;
  /** Sweeps of barycentre ordering. @default {4} */
  sweeps?: number;
}

/** A placed node. */
export interface PlacedNode {
  /** The id. */
  id: string;
  /** Left edge. */
  x: number;
  /** Top edge. */
  y: number;
  /** Column (dependency depth). */
  layer: number;
}

/** A routed edge, from a dependency to its dependent. */
export interface PlacedEdge {
  /** The dependency. */
  from: string;
  /** The dependent. */
  to: string;
  /** SVG path data. */
  d: string;
}

/** The whole layout. */
export interface DagLayout {
  /** Nodes in input order. */
  nodes: PlacedNode[];
  /** Edges, one per known dependency. */
  edges: PlacedEdge[];
  /** Total width. */
  width: number;
  /** Total height. */
  height: number;
  /** Node width used. */
  nodeWidth: number;
  /** Node height used. */
  nodeHeight: number;
}

/**
 * Lays out an acyclic graph.
 *
 * @param nodes the graph (unknown dependency ids are ignored)
 * @param options sizes
 * @returns positions and edge paths
 */
export function layoutDag(nodes: readonly GraphNode[], options: LayoutOptions = {}): DagLayout {
  const w = options.nodeWidth ?? 168;
  const h = options.nodeHeight ?? 30;
  const gapX = options.gapX ?? 56;
  const gapY = options.gapY ?? 12;
  const depth = depths(nodes);
  const known = new Set(nodes.map((n) => n.id));
  const layers: string[][] = [];
  for (const node of nodes) {
    const d = depth.get(node.id) ?? 0;
    (layers[d] ??= []).push(node.id);
  }
  const up = new Map<string, string[]>(); // id → dependencies
  const down = new Map<string, string[]>(); // id → dependents
  for (const node of nodes) {
    const deps = node.depends_on.filter((d) => known.has(d));
    up.set(node.id, deps);
    for (const dep of deps) (down.get(dep) ?? down.set(dep, []).get(dep)!).push(node.id);
  }
  const position = new Map<string, number>();
  const renumber = (layer: string[]) => layer.forEach((id, i) => position.set(id, i));
  layers.forEach(renumber);
  const reorder = (layer: string[], neighbours: Map<string, string[]>) => {
    const score = new Map<string, number>();
    for (const [i, id] of layer.entries()) {
      const ns = neighbours.get(id) ?? [];
      score.set(
        id,
        ns.length === 0 ? i : ns.reduce((sum, n) => sum + position.get(n)!, 0) / ns.length,
      );
    }
    // stable: ties keep the current order
    layer.sort((a, b) => score.get(a)! - score.get(b)! || position.get(a)! - position.get(b)!);
    renumber(layer);
  };
  for (let sweep = 0; sweep < (options.sweeps ?? 4); sweep++) {
    for (let i = 1; i < layers.length; i++) reorder(layers[i]!, up);
    for (let i = layers.length - 2; i >= 0; i--) reorder(layers[i]!, down);
  }
  const tallest = Math.max(0, ...layers.map((l) => l.length));
  const height = Math.max(h, tallest * (h + gapY) - gapY);
  const placed = new Map<string, PlacedNode>();
  for (const [d, layer] of layers.entries()) {
    const offset = Math.round((height - (layer.length * (h + gapY) - gapY)) / 2);
    for (const [i, id] of layer.entries()) {
      placed.set(id, { id, x: d * (w + gapX), y: offset + i * (h + gapY), layer: d });
    }
  }
  const edges: PlacedEdge[] = [];
  for (const node of nodes) {
    const to = placed.get(node.id)!;
    for (const dep of up.get(node.id)!) {
      const from = placed.get(dep)!;
      const x1 = from.x + w;
      const y1 = from.y + h / 2;
      const x2 = to.x;
      const y2 = to.y + h / 2;
      const bend = Math.max(gapX / 2, (x2 - x1) / 2);
      edges.push({
        from: dep,
        to: node.id,
        d: `M${x1} ${y1}C${x1 + bend} ${y1} ${x2 - bend} ${y2} ${x2} ${y2}`,
      });
    }
  }
  return {
    nodes: nodes.map((n) => placed.get(n.id)!),
    edges,
    width: Math.max(w, layers.length * (w + gapX) - gapX),
    height,
    nodeWidth: w,
    nodeHeight: h,
  };
}

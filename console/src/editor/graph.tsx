// The rule graph: the chain, the pool and the trees from the analysis,
// laid out by dagre and drawn as SVG. A node is a button that puts the
// cursor on its YAML; the last tested draw's path is highlighted (a graph
// node's id is the name a draw's step uses).
import { Graph as Layout, layout } from "@dagrejs/dagre";
import type { DryRun } from "../api";
import type { Graph, GraphNode } from "./analysis";

const NODE_W = 150;
const NODE_H = 40;

interface Placed {
  nodes: (GraphNode & { x: number; y: number })[];
  edges: { from: string; to: string; label: string | null; points: { x: number; y: number }[] }[];
  width: number;
  height: number;
}

export function place(graph: Graph): Placed {
  const g = new Layout({ multigraph: true });
  g.setGraph({ rankdir: "TB", nodesep: 24, ranksep: 36, marginx: 8, marginy: 8 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const node of graph.nodes) g.setNode(node.id, { width: NODE_W, height: NODE_H });
  graph.edges.forEach((edge, index) => {
    if (g.hasNode(edge.from) && g.hasNode(edge.to)) g.setEdge(edge.from, edge.to, { label: edge.label }, String(index));
  });
  layout(g);
  const nodes = graph.nodes.map((node) => ({ ...node, x: g.node(node.id).x, y: g.node(node.id).y }));
  const edges = graph.edges
    .map((edge, index) => ({ ...edge, points: g.edge({ v: edge.from, w: edge.to, name: String(index) })?.points ?? [] }))
    .filter((edge) => edge.points.length > 0);
  const info = g.graph();
  return { nodes, edges, width: info.width ?? 0, height: info.height ?? 0 };
}

export function RuleGraph(props: { graph: Graph | null; draw: DryRun | null; onJump: (from: number, to: number) => void }) {
  if (!props.graph) return <p>The graph appears once the file has no errors.</p>;
  if (props.graph.nodes.length === 0) return <p>The file has no rules to draw.</p>;
  const placed = place(props.graph);
  const path = new Set((props.draw?.draw?.steps ?? []).map((s) => s.at));
  const clip = (text: string) => (text.length > 20 ? `${text.slice(0, 19)}…` : text);
  return (
    <div class="graph">
      {path.size > 0 && <p class="help">Highlighted: the path of the last tested draw.</p>}
      <svg
        viewBox={`0 0 ${placed.width} ${placed.height}`}
        width={placed.width}
        height={placed.height}
        role="group"
        aria-label="Rule graph"
      >
        <defs>
          <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto">
            <path d="M0,0 L10,5 L0,10 z" class="arrow" />
          </marker>
        </defs>
        {placed.edges.map((edge, index) => {
          const d = edge.points.map((p, i) => `${i ? "L" : "M"}${p.x},${p.y}`).join(" ");
          const mid = edge.points[Math.floor(edge.points.length / 2)];
          const taken = path.has(edge.from) && path.has(edge.to);
          return (
            <g key={index} class={taken ? "edge taken" : "edge"}>
              <path d={d} marker-end="url(#arrow)" />
              {edge.label && (
                <text x={mid.x + 4} y={mid.y - 4}>
                  {edge.label}
                </text>
              )}
            </g>
          );
        })}
        {placed.nodes.map((node) => (
          <g
            key={node.id}
            class={`node node-${node.kind}${path.has(node.id) ? " taken" : ""}`}
            data-node={node.id}
            transform={`translate(${node.x - NODE_W / 2},${node.y - NODE_H / 2})`}
            role="button"
            tabIndex={0}
            aria-label={`${node.kind} ${node.label}${path.has(node.id) ? " (on the tested path)" : ""}: go to its YAML`}
            onClick={() => props.onJump(node.from, node.to)}
            onKeyDown={(event) => {
              if (event.key === "Enter" || event.key === " ") {
                event.preventDefault();
                props.onJump(node.from, node.to);
              }
            }}
          >
            <rect width={NODE_W} height={NODE_H} rx={6} />
            <text x={8} y={16} class="kind">
              {node.kind}
            </text>
            <text x={8} y={32}>
              {clip(node.label)}
            </text>
          </g>
        ))}
      </svg>
    </div>
  );
}

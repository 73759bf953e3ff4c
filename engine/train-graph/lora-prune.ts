// Drops the nodes no graph output depends on. A LoRA graph's backward leaves dead branches where
// the frozen model needs nothing (the gradient flowing into the embeddings, below the lowest
// adapter): removing them here keeps that work out of the session whatever the runtime's optimiser does.
// Unused initializers stay: onnxruntime drops those itself.
import type { Graph } from '../onnx/index.ts';

export function pruneDeadNodes(g: Graph): number {
  const needed = new Set(g.outputs.map((o) => o.name));
  const keep: boolean[] = new Array(g.nodes.length).fill(false);
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    // Nodes are in topological order (each is added after its inputs), so one backward sweep suffices.
    const node = g.nodes[i];
    if (!node.outputs.some((o) => needed.has(o))) continue;
    keep[i] = true;
    for (const input of node.inputs) if (input) needed.add(input);
  }
  const before = g.nodes.length;
  const kept = g.nodes.filter((_, i) => keep[i]);
  g.nodes.length = 0;
  for (const n of kept) g.nodes.push(n);
  return before - kept.length;
}

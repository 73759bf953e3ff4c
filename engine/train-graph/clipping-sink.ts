// Book-keeping per-example clipping (Bu et al., "Differentially private optimization on large model
// at small cost", 2023): during the one backward pass, keep each layer's input a and output
// gradient g and add up the per-example squared norms; when the backward is done,
//   ‖g_i‖ = √(Σ_layers ‖g_i,layer‖²),   c_i = min(1, C / (‖g_i‖ + 1e-6))   (Opacus's formula)
// and every parameter's clipped sum Σ_i c_i·g_i is the un-clipped reduction with each example's
// rows scaled by c_i (for a linear layer aᵀ·diag(c)·g, one matmul over all B·T rows).
// No second backward pass and no per-example gradient of a large matrix.
import { op, type Tensor } from '../onnx/index.ts';
import { headGradient, rowsToExamples, scatterTokenRows, type BatchDims, type GradientSink, type TiedHead } from './grad-sink.ts';
import { linearWeightNormSq, tiedEmbeddingNormSq, useGhost, type GhostPolicy } from './ghost-norms.ts';
import { padRows, sumAll, sumSquaresPerExample } from './ops.ts';

/** How a parameter's clipped sum is formed once the clip factors c [B] are known. */
type Deferred = (c: Tensor) => Tensor;

export interface BookKeepingOptions {
  /** The clip norm C: a graph input, so one session serves any C. */
  clipNorm: Tensor;
  /** Ghost norms where cheaper ('auto'), or force one form (tests check both agree). */
  ghost?: GhostPolicy;
}

export class BookKeepingSink implements GradientSink {
  private readonly normSqTerms: Tensor[] = [];
  private readonly deferred = new Map<string, Deferred>();
  private readonly heads = new Map<string, TiedHead>();
  private readonly ghost: GhostPolicy;

  constructor(readonly dims: BatchDims, private readonly options: BookKeepingOptions) {
    this.ghost = options.ghost ?? 'auto';
  }

  /** c [B] → [B, 1, …, 1] to scale tensors of the given rank per example. */
  private static perExample(c: Tensor, rank: number): Tensor {
    return rank === 1 ? c : op.unsqueeze(c, Array.from({ length: rank - 1 }, (_, i) => i + 1));
  }

  private static scaled(x: Tensor, c: Tensor): Tensor {
    return op.mul(x, BookKeepingSink.perExample(c, x.rank));
  }

  linear(weightName: string, biasName: string | undefined, a: Tensor, g: Tensor): void {
    const [inDim, outDim] = [a.shape[1] as number, g.shape[1] as number];
    const a3 = rowsToExamples(a, this.dims);
    const g3 = rowsToExamples(g, this.dims);
    this.normSqTerms.push(a.graph.scope('dp_norm', () => linearWeightNormSq(a3, g3, useGhost(this.dims.T, inDim, outDim, this.ghost))));
    // aᵀ·diag(c)·g: scale whichever operand is narrower.
    this.defer(weightName, (c) => {
      const rows = a.shape[0];
      if (inDim <= outDim) return op.gemm(op.reshape(BookKeepingSink.scaled(a3, c), [rows, inDim]), g, undefined, { transA: true });
      return op.gemm(a, op.reshape(BookKeepingSink.scaled(g3, c), [rows, outDim]), undefined, { transA: true });
    });
    if (biasName) this.perExampleGradient(biasName, op.reduceSum(g3, [1]));
  }

  rows(name: string, perRow: Tensor): void {
    this.perExampleGradient(name, op.reduceSum(rowsToExamples(perRow, this.dims), [1]));
  }

  positions(name: string, e: Tensor, tableRows: number): void {
    // Each position is used once per example, so the per-example gradient is e_b itself, [T, D].
    const e3 = rowsToExamples(e, this.dims);
    this.normSqTerms.push(e.graph.scope('dp_norm', () => sumSquaresPerExample(e3)));
    this.defer(name, (c) => padRows(op.reduceSum(BookKeepingSink.scaled(e3, c), [0]), tableRows));
  }

  tokenHead(name: string, head: TiedHead): void {
    this.heads.set(name, head);
  }

  tokenInput(name: string, ids: Tensor, e: Tensor): void {
    const head = this.heads.get(name);
    if (!head) throw new Error(`${name}: tokenHead must come before tokenInput`);
    const [e3, h3, p3] = [e, head.hidden, head.probs].map((t) => rowsToExamples(t, this.dims));
    const labels = op.reshape(head.labels, [this.dims.B, this.dims.T]);
    this.normSqTerms.push(e.graph.scope('dp_norm', () => tiedEmbeddingNormSq(ids, labels, e3, h3, p3)));
    this.defer(name, (c) => {
      const rows = e.shape[0];
      const D = e.shape[1] as number;
      const hScaled = op.reshape(BookKeepingSink.scaled(h3, c), [rows, D]);
      const headSum = headGradient(head.probs, hScaled); // [V, D]
      const inputRows = op.reshape(BookKeepingSink.scaled(e3, c), [rows, D]);
      return scatterTokenRows(headSum, [[ids, inputRows], [head.labels, op.neg(hScaled)]]);
    });
  }

  finish(): { grads: Map<string, Tensor>; exampleNorms: Tensor } {
    const exampleNorms = op.sqrt(sumAll(this.normSqTerms));
    const c = op.min(op.div(this.options.clipNorm, op.add(exampleNorms, 1e-6)), 1);
    const grads = new Map<string, Tensor>();
    for (const [name, form] of this.deferred) grads.set(name, form(c));
    return { grads, exampleNorms };
  }

  /** A small parameter whose per-example gradients [B, …shape] are cheap to hold (biases, LayerNorm). */
  private perExampleGradient(name: string, perExample: Tensor): void {
    this.normSqTerms.push(perExample.graph.scope('dp_norm', () => sumSquaresPerExample(perExample)));
    this.defer(name, (c) => op.reduceSum(BookKeepingSink.scaled(perExample, c), [0]));
  }

  private defer(name: string, form: Deferred): void {
    if (this.deferred.has(name)) throw new Error(`gradient of ${name} given twice`);
    this.deferred.set(name, form);
  }
}

// Where a backward pass hands its parameter gradients. The blocks' backward code states WHAT each
// parameter's gradient is made of (a linear layer's input and output gradient, per-row terms, the
// tied embedding's two uses); the sink decides HOW it is reduced:
//   SummingSink     — the plain sum over the micro-batch, computed as soon as it can be so that
//                     onnxruntime frees the activations early (non-private training);
//   BookKeepingSink — per-example norms, clip factors and the clipped sum (clipping-sink.ts).
// All row-shaped tensors are [N, …] with N = B·T rows, example b owning rows b·T … b·T+T−1.
import { op, type Dim, type Tensor } from '../onnx/index.ts';
import { padRows, scatterAddRows } from './ops.ts';

export interface BatchDims {
  /** Examples in the micro-batch (symbolic: one graph serves every micro-batch size). */
  B: Dim;
  /** Tokens per example (static: the ghost-norm choice and the causal mask depend on it). */
  T: number;
}

export interface GradientSink {
  readonly dims: BatchDims;
  /** y = a·W (+ b) for W [in, out]: a [N, in] is the layer's input, g [N, out] the gradient of its output. */
  linear(weightName: string, biasName: string | undefined, a: Tensor, g: Tensor): void;
  /** A parameter whose gradient is the sum over rows of `perRow` [N, …paramShape] (LayerNorm γ and β). */
  rows(name: string, perRow: Tensor): void;
  /** The position table [tableRows, D]: row t's gradient is Σ_b e[b, t]; e [N, D]. */
  positions(name: string, e: Tensor, tableRows: number): void;
  /** The LM-head use of the tied token table (logits = h·Wᵀ); see TiedHead. */
  tokenHead(name: string, head: TiedHead): void;
  /** The input use of the tied token table: x = W[ids]; ids [B, T] int64, e [N, D] the gradient at x. */
  tokenInput(name: string, ids: Tensor, e: Tensor): void;
  /** Gradient tensors by parameter name (shapes equal the parameters'), plus per-example norms when clipping. */
  finish(): { grads: Map<string, Tensor>; exampleNorms?: Tensor };
}

/**
 * The LM head's share of the tied table's gradient, Σ_t (p_t − onehot(y_t)) ⊗ h_t per example:
 * the logits gradient w_t·(p_t − onehot(y_t)) with its row weights w_t folded into `hidden`.
 */
export interface TiedHead {
  /** w⊙h [N, D]: the head's input rows scaled by their loss weights. */
  hidden: Tensor;
  /** Softmax probabilities p [N, V]. */
  probs: Tensor;
  /** Labels y [N] int64. */
  labels: Tensor;
}

export const rowsToExamples = (x: Tensor, dims: BatchDims): Tensor => op.reshape(x, [dims.B, dims.T, ...x.shape.slice(1)]);

/** Vocabulary columns per product in headGradient. */
const HEAD_GRADIENT_COLUMNS = 512;

/**
 * Σ_rows p_row ⊗ h_row = pᵀ·h [V, D], as one product per block of vocabulary columns, joined.
 * One product over all of p [N, V] reads it transposed, narrow column strips across a 200 MB
 * row-major matrix: at GPT-2 small's 1024 × 50257 it ran at 127 GFLOP/s where the head's other
 * two products ran at 206–226, and the DP step's graph took 4.98–5.03 s; in blocks of 512 columns
 * 4.78–4.85 s. Each output row is the same sum in the same order: the gradients are bit-identical.
 */
export function headGradient(probs: Tensor, hidden: Tensor): Tensor {
  const V = probs.shape[1];
  if (typeof V !== 'number' || V <= HEAD_GRADIENT_COLUMNS) return op.gemm(probs, hidden, undefined, { transA: true });
  const sizes = Array.from({ length: Math.ceil(V / HEAD_GRADIENT_COLUMNS) }, (_, i) => Math.min(HEAD_GRADIENT_COLUMNS, V - i * HEAD_GRADIENT_COLUMNS));
  return op.concat(op.split(probs, 1, sizes).map((block) => op.gemm(block, hidden, undefined, { transA: true })), 0);
}

/**
 * Adds rows into a [V, D] table at token ids (ids [B, T] or [N], rows [N, D]). Not ScatterND: its
 * CPU 'add' races on repeated ids at 2 threads, so a step's gradient (and a resume) would not be
 * bit-identical; scatterAddRows adds in order.
 */
export function scatterTokenRows(table: Tensor, pairs: readonly [Tensor, Tensor][]): Tensor {
  return scatterAddRows(table, pairs);
}

/** Plain sum over the micro-batch: what non-private training needs. */
export class SummingSink implements GradientSink {
  private readonly grads = new Map<string, Tensor>();
  private readonly heads = new Map<string, { grad: Tensor; hidden: Tensor; labels: Tensor }>();

  constructor(readonly dims: BatchDims) {}

  linear(weightName: string, biasName: string | undefined, a: Tensor, g: Tensor): void {
    this.put(weightName, op.gemm(a, g, undefined, { transA: true }));
    if (biasName) this.put(biasName, op.reduceSum(g, [0]));
  }

  rows(name: string, perRow: Tensor): void {
    this.put(name, op.reduceSum(perRow, [0]));
  }

  positions(name: string, e: Tensor, tableRows: number): void {
    this.put(name, padRows(op.reduceSum(rowsToExamples(e, this.dims), [0]), tableRows));
  }

  tokenHead(name: string, head: TiedHead): void {
    // pᵀ·h now (so that onnxruntime can free p), the one-hot rows with the input rows below.
    this.heads.set(name, { grad: headGradient(head.probs, head.hidden), hidden: head.hidden, labels: head.labels });
  }

  tokenInput(name: string, ids: Tensor, e: Tensor): void {
    const head = this.heads.get(name);
    if (!head) throw new Error(`${name}: tokenHead must come before tokenInput (the backward visits the head first)`);
    this.put(name, scatterTokenRows(head.grad, [[ids, e], [head.labels, op.neg(head.hidden)]]));
  }

  finish(): { grads: Map<string, Tensor> } {
    return { grads: this.grads };
  }

  private put(name: string, grad: Tensor): void {
    if (this.grads.has(name)) throw new Error(`gradient of ${name} given twice`);
    this.grads.set(name, grad);
  }
}

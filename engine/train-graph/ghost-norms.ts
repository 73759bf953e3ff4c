// Per-example squared gradient norms from a layer's inputs and output gradients, without forming
// per-example gradients where that is cheaper (the "ghost norm", Li et al. 2022; Bu et al. 2023).
// Tensors here are per example: [B, T, …].
import { op, type Tensor } from '../onnx/index.ts';
import { swapLast, sumPerExample, sumSquaresPerExample } from './ops.ts';

/** Gram matrices x·xᵀ per example: [B, T, k] → [B, T, T]. */
export const gram = (x: Tensor): Tensor => op.matmul(x, swapLast(x));

export type GhostPolicy = 'auto' | 'always' | 'never';

/**
 * Whether ‖aᵀg‖² is cheaper through Gram matrices (cost ∝ T²·(in+out)) than through the per-example
 * gradient aᵀg (cost ∝ T·in·out, and B·in·out memory): the rule 2T² < in·out.
 */
export function useGhost(T: number, inDim: number, outDim: number, policy: GhostPolicy): boolean {
  if (policy !== 'auto') return policy === 'always';
  return 2 * T * T < inDim * outDim;
}

/** ‖Σ_t a_t ⊗ g_t‖²_F per example, for a [B, T, in] and g [B, T, out]: Σ_{t,s} (a_t·a_s)(g_t·g_s) or explicitly. */
export function linearWeightNormSq(a: Tensor, g: Tensor, ghost: boolean): Tensor {
  if (ghost) return sumPerExample(op.mul(gram(a), gram(g)));
  return sumSquaresPerExample(op.matmul(swapLast(a), g)); // [B, in, out]
}

/**
 * The tied token table's per-example gradient is G = Σ_t onehot(x_t)⊗e_t (input use) + Σ_t d_t⊗h_t
 * (head use), with e [B, T, D] the gradient at the input embedding, h [B, T, D] the head's input
 * rows (loss weights folded in) and d_t = p_t − onehot(y_t) [B, T, V] from the probabilities p and
 * labels y [B, T]. ‖G‖² = ‖input‖² + ‖head‖² + 2⟨input, head⟩ with
 *   ‖input‖²      = Σ_{t,s} 1[x_t = x_s] e_t·e_s
 *   ‖head‖²       = Σ_{t,s} (h_t·h_s)(d_t·d_s),  d_t·d_s = p_t·p_s − p_t[y_s] − p_s[y_t] + 1[y_t = y_s]
 *   ⟨input, head⟩ = Σ_t e_t·(Σ_s d_s⊗h_s)[x_t, :] = Σ_{t,s} d_s[x_t] · (h_s·e_t),  d_s[x_t] = p_s[x_t] − 1[y_s = x_t]
 * Only p's Gram matrix touches the vocabulary axis; the rest gathers p at the example's own ids.
 */
export function tiedEmbeddingNormSq(ids: Tensor, labels: Tensor, e: Tensor, h: Tensor, p: Tensor): Tensor {
  const dtype = e.dtype;
  const pairs = (a: Tensor, b: Tensor) => op.cast(op.equal(op.unsqueeze(a, [2]), op.unsqueeze(b, [1])), dtype); // [B, t, s] = 1[a_t = b_s]
  /** [B, t, s] = p_t[idx_s]. */
  const probsAt = (idx: Tensor) => op.gatherElements(p, op.expandAs(op.unsqueeze(idx, [1]), gram(e)), 2);

  const inputPart = sumPerExample(op.mul(pairs(ids, ids), gram(e)));
  const pAtLabels = probsAt(labels); // p_t[y_s]
  const dDot = op.add(op.sub(op.sub(gram(p), pAtLabels), swapLast(pAtLabels)), pairs(labels, labels));
  const headPart = sumPerExample(op.mul(gram(h), dDot));
  const dAtIds = op.sub(probsAt(ids), pairs(labels, ids)); // [B, s, t] = d_s[x_t]
  const cross = sumPerExample(op.mul(dAtIds, op.matmul(h, swapLast(e)))); // × h_s·e_t
  return op.add(op.add(inputPart, headPart), op.mul(cross, 2));
}

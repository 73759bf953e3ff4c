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
 * The tied token table's per-example gradient is G = Σ_t onehot(x_t)⊗e_t (input use) + dᵀh (head use),
 * with e [B, T, D] the gradient at the input embedding, h [B, T, D] the head's input and d [B, T, V]
 * the logits gradient. ‖G‖² = ‖input‖² + ‖head‖² + 2⟨input, head⟩ with
 *   ‖input‖²  = Σ_{t,s} 1[x_t = x_s] e_t·e_s
 *   ‖head‖²   = Σ_{t,s} (h_t·h_s)(d_t·d_s)
 *   ⟨input, head⟩ = Σ_t e_t·(dᵀh)[x_t, :] = Σ_{t,s} d_s[x_t] · (h_s·e_t)
 * The cross term needs only d's entries at the example's own token ids: d_s[x_t] = gather over V.
 */
export function tiedEmbeddingNormSq(ids: Tensor, e: Tensor, h: Tensor, d: Tensor): Tensor {
  const sameToken = op.cast(op.equal(op.unsqueeze(ids, [2]), op.unsqueeze(ids, [1])), e.dtype); // [B, T, T]
  const inputPart = sumPerExample(op.mul(sameToken, gram(e)));
  const headPart = sumPerExample(op.mul(gram(h), gram(d)));
  const idsPerRow = op.expandAs(op.unsqueeze(ids, [1]), sameToken); // [B, s, t] = x_t
  const dAtIds = op.gatherElements(d, idsPerRow, 2); // [B, s, t] = d_s[x_t]
  const hDotE = op.matmul(h, swapLast(e)); // [B, s, t] = h_s·e_t
  const cross = sumPerExample(op.mul(dAtIds, hDotE));
  return op.add(op.add(inputPart, headPart), op.mul(cross, 2));
}

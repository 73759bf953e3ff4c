// Many token sequences as few forward passes: sequences sorted by length are grouped into
// right-padded batches of at most `maxBatchTokens` padded tokens. Right padding is exact for a
// causal model: a position never attends to later ones, so the pad tokens after a row's end
// change nothing before it, and each row keeps positions 0…T−1 as if it ran alone.
import { MASKED } from '../gpt2/model.ts';

export interface PaddedBatch {
  /** Rows and padded length. */
  B: number;
  T: number;
  /** Index of each batch row in the caller's list of sequences. */
  members: number[];
  /** Each row's true length. */
  lengths: number[];
  inputIds: BigInt64Array;
  positionIds: BigInt64Array;
  /** [B, 1, T, T]: 0 where a query may attend (s ≤ t), MASKED above the diagonal. */
  causalBias: Float32Array;
  /** [B, T]: the next token at each position (0 at a row's last position and in the padding). */
  targets: BigInt64Array;
}

/** Groups sequence indices (longest first) so that rows × longest length ≤ maxBatchTokens (a longer sequence runs alone). */
export function planBatches(lengths: readonly number[], maxBatchTokens: number): number[][] {
  if (!(maxBatchTokens >= 1)) throw new RangeError(`maxBatchTokens must be ≥ 1, got ${maxBatchTokens}`);
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[b] - lengths[a] || a - b);
  const batches: number[][] = [];
  let current: number[] = [];
  let width = 0;
  for (const i of order) {
    // Sorted longest first, so the first member fixes the padded length of its batch.
    if (current.length > 0 && (current.length + 1) * width > maxBatchTokens) {
      batches.push(current);
      current = [];
    }
    if (current.length === 0) width = lengths[i];
    current.push(i);
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

export function padBatch(sequences: readonly ArrayLike<number>[], members: readonly number[], padId: number): PaddedBatch {
  const lengths = members.map((i) => sequences[i].length);
  const B = members.length;
  const T = Math.max(...lengths);
  if (!(T >= 1)) throw new RangeError('padBatch: empty sequences');
  const inputIds = new BigInt64Array(B * T).fill(BigInt(padId));
  const targets = new BigInt64Array(B * T);
  const positionIds = new BigInt64Array(B * T);
  members.forEach((i, b) => {
    const ids = sequences[i];
    for (let t = 0; t < ids.length; t++) inputIds[b * T + t] = BigInt(ids[t]);
    for (let t = 0; t + 1 < ids.length; t++) targets[b * T + t] = BigInt(ids[t + 1]);
    for (let t = 0; t < T; t++) positionIds[b * T + t] = BigInt(t);
  });
  const mask = new Float32Array(T * T);
  for (let t = 0; t < T; t++) for (let s = t + 1; s < T; s++) mask[t * T + s] = MASKED;
  const causalBias = new Float32Array(B * T * T);
  for (let b = 0; b < B; b++) causalBias.set(mask, b * T * T);
  return { B, T, members: [...members], lengths, inputIds, positionIds, causalBias, targets };
}

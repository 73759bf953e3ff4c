// Symmetric int8 copies of GPT-2's matrices, one scale per output column, the layout of
// onnxruntime's DynamicQuantizeMatMul (B int8 [K, N], b_scale [N], zero points 0). They feed the
// draft model of speculative decoding (draft-graph.ts), whose guesses the float32 model checks,
// so their rounding changes how often a guess is accepted, never which tokens come out.

export interface Int8Matrix {
  /** [K, N] row-major, value ≈ data · scales[column]. */
  data: Int8Array;
  /** [N] */
  scales: Float32Array;
  shape: [number, number];
}

/** A [K, N] float32 matrix (Conv1D layout, input × output) quantized per output column. */
export function quantizeColumns(matrix: Float32Array, K: number, N: number): Int8Matrix {
  if (matrix.length !== K * N) throw new RangeError(`expected ${K}×${N} values, got ${matrix.length}`);
  const largest = new Float32Array(N);
  for (let k = 0; k < K; k++) {
    const row = k * N;
    for (let n = 0; n < N; n++) largest[n] = Math.max(largest[n], Math.abs(matrix[row + n]));
  }
  const scales = largest.map(scaleFor);
  const data = new Int8Array(K * N);
  for (let k = 0; k < K; k++) {
    const row = k * N;
    for (let n = 0; n < N; n++) data[row + n] = Math.round(matrix[row + n] / scales[n]);
  }
  return { data, scales, shape: [K, N] };
}

/**
 * Rows of the token embedding [V, C], tokens from `first` on, quantized per token into the LM
 * head's right-hand side: `head.data` [C, V] (transposed) and `head.scales` [V], so logits =
 * h · data · scales. The same matrix serves the embedding lookup (column `id` times scales[id]),
 * so the draft holds the vocabulary once. Slices of rows let the embedding be read in pieces.
 */
export function quantizeEmbeddingRows(rows: Float32Array, first: number, head: Int8Matrix): void {
  const [C, V] = head.shape;
  if (rows.length % C !== 0 || first + rows.length / C > V) throw new RangeError(`rows of ${C} values from token ${first} do not fit ${V} tokens`);
  for (let r = 0; r < rows.length / C; r++) {
    const v = first + r;
    let largest = 0;
    for (let c = 0; c < C; c++) largest = Math.max(largest, Math.abs(rows[r * C + c]));
    const scale = scaleFor(largest);
    head.scales[v] = scale;
    for (let c = 0; c < C; c++) head.data[c * V + v] = Math.round(rows[r * C + c] / scale);
  }
}

/** The whole token embedding [V, C] as the head's transposed int8 matrix [C, V]. */
export function quantizeEmbeddingTransposed(wte: Float32Array, V: number, C: number): Int8Matrix {
  if (wte.length !== V * C) throw new RangeError(`expected ${V}×${C} values, got ${wte.length}`);
  const head = emptyHead(V, C);
  quantizeEmbeddingRows(wte, 0, head);
  return head;
}

/** Room for the head's int8 matrix [C, V] and its V scales. */
export const emptyHead = (V: number, C: number): Int8Matrix => ({ data: new Int8Array(C * V), scales: new Float32Array(V), shape: [C, V] });

/** Maps the largest magnitude to ±127; an all-zero column keeps scale 1 (its values are all 0). */
function scaleFor(largest: number): number {
  return largest > 0 ? largest / 127 : 1;
}

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

/** Raises `largest[n]` to the largest magnitude of column n over these rows (row-major, N wide). */
export function trackColumnMagnitudes(largest: Float32Array, rows: Float32Array): void {
  const N = largest.length;
  for (let at = 0; at < rows.length; at += N) {
    for (let n = 0; n < N; n++) largest[n] = Math.max(largest[n], Math.abs(rows[at + n]));
  }
}

/** Each column's scale from its largest magnitude. */
export const scalesOf = (largest: Float32Array): Float32Array => largest.map(scaleFor);

/** Rows (row-major, scales.length wide) divided by their column's scale and rounded, into `out`. */
export function quantizeRows(rows: Float32Array, scales: Float32Array, out: Int8Array): void {
  const N = scales.length;
  for (let at = 0; at < rows.length; at += N) {
    for (let n = 0; n < N; n++) out[at + n] = Math.round(rows[at + n] / scales[n]);
  }
}

/**
 * Rows of the token embedding [V, C], tokens from `first` on, quantized per token into the LM
 * head's right-hand side: `head.data` [C, V] (transposed) and `head.scales` [V], so logits =
 * h · data · scales. Slices of rows let the embedding be read in pieces.
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

/** Room for the head's int8 matrix [C, V] and its V scales. */
export const emptyHead = (V: number, C: number): Int8Matrix => ({ data: new Int8Array(C * V), scales: new Float32Array(V), shape: [C, V] });

/** Maps the largest magnitude to ±127; an all-zero column keeps scale 1 (its values are all 0). */
function scaleFor(largest: number): number {
  return largest > 0 ? largest / 127 : 1;
}

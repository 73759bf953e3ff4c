// Fixed-width histograms over a shared range, so that several series (train and test losses)
// can be drawn on the same axis.

export interface Histogram {
  /** bins + 1 ascending edges; bin i is [edges[i], edges[i+1]), the last one closed. */
  edges: number[];
  counts: number[];
}

/** `bins` equal-width bins spanning every finite value of every series (a unit range around a single value). */
export function sharedEdges(series: readonly (readonly number[])[], bins: number): number[] {
  if (!Number.isInteger(bins) || bins < 1) throw new RangeError(`bins must be a positive integer, got ${bins}`);
  const finite = series.flat().filter(Number.isFinite);
  let lo = finite.length > 0 ? Math.min(...finite) : 0;
  let hi = finite.length > 0 ? Math.max(...finite) : 1;
  if (hi - lo < 1e-9) {
    lo -= 0.5;
    hi += 0.5;
  }
  return Array.from({ length: bins + 1 }, (_, i) => (i === bins ? hi : lo + ((hi - lo) * i) / bins));
}

export function countInto(values: readonly number[], edges: readonly number[]): number[] {
  const bins = edges.length - 1;
  const counts = new Array<number>(bins).fill(0);
  const lo = edges[0];
  const width = (edges[bins] - lo) / bins;
  for (const v of values) {
    if (!Number.isFinite(v) || v < lo || v > edges[bins]) continue;
    counts[Math.min(bins - 1, Math.floor((v - lo) / width))]++;
  }
  return counts;
}

export function histogram(values: readonly number[], bins: number): Histogram {
  const edges = sharedEdges([values], bins);
  return { edges, counts: countInto(values, edges) };
}

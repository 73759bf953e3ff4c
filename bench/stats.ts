// The benches' one statistic. An even count takes the mean of the two middle values: the upper
// middle alone, as the benches took before, is the larger of two steps, so a two-step median
// reported the slower step and moved with every stall.
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new RangeError('median of nothing');
  const sorted = [...xs].sort((a, b) => a - b);
  const m = sorted.length >> 1;
  return sorted.length % 2 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
}

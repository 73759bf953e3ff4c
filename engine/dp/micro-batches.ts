// A logical batch (all rows Poisson-sampled for a step) can be any size, and at large q·N it
// does not fit in memory at once: it is processed as consecutive physical micro-batches of at
// most `physicalBatchSize` rows whose clipped gradient sums are added up. Memory then depends on
// the physical size only.

/** Splits sampled row indices, in order, into chunks of at most `physicalBatchSize`. An empty sample gives no chunks. */
export function splitIntoMicroBatches(indices: ArrayLike<number>, physicalBatchSize: number): number[][] {
  if (!Number.isSafeInteger(physicalBatchSize) || physicalBatchSize < 1) {
    throw new RangeError(`splitIntoMicroBatches: physicalBatchSize must be a positive integer, got ${physicalBatchSize}`);
  }
  const batches: number[][] = [];
  for (let start = 0; start < indices.length; start += physicalBatchSize) {
    const end = Math.min(start + physicalBatchSize, indices.length);
    const batch = new Array<number>(end - start);
    for (let i = start; i < end; i++) batch[i - start] = indices[i];
    batches.push(batch);
  }
  return batches;
}

// The Gaussian mechanism of DP-SGD: N(0, σ²C²) added once to the sum of clipped per-example
// gradients, then the sum divided by the expected batch size q·N (not the realised one, which
// would itself depend on the private sample). The noise of step s comes from the step's own
// keyed streams, so it is a pure function of (run key, step) — reproducible on resume,
// independent across steps and unpredictable without the key.
//
// Value i of the flattened parameter vector (all buffers end to end) belongs to chunk
// c = ⌊i / NOISE_CHUNK⌋ at offset j = i mod NOISE_CHUNK. Its first ziggurat draw reads words 2j and
// 2j+1 of the chunk's main keystream; if the fast path rejects it, the retries read the chunk's
// overflow stream, in increasing j. The noise is n_i = fround(σC · z_i) and the result
// fround((g_i + n_i) / (q·N)), both computed in float64 and rounded once to float32.
import type { RunKey } from './run-key.ts';
import { NoiseKernel } from './noise-kernel.ts';
import { deriveStepKey } from './streams.ts';

/** Parameters per noise chunk (one pair of keystreams). Part of RNG_VERSION. */
export const NOISE_CHUNK = 1 << 22;

/** What a checkpoint stores about the noise: the next step only; the key travels as a secret. */
export interface NoiseState {
  kind: 'gaussian';
  nextStep: number;
}

/** Applies the step's noise to the buffers taken end to end (positions 0, 1, … of the flat vector). */
export function applyStepNoise(kernel: NoiseKernel, stepKey: Uint8Array, buffers: readonly Float32Array[], std: number, scale: number): void {
  let flat = 0; // position in the flattened parameter vector of the buffer's first value
  let chunk = kernel.chunk(stepKey, 0);
  let chunkIndex = 0;
  for (const buffer of buffers) {
    let start = 0;
    while (start < buffer.length) {
      const index = Math.floor((flat + start) / NOISE_CHUNK);
      if (index !== chunkIndex) {
        chunkIndex = index;
        chunk = kernel.chunk(stepKey, index);
      }
      const end = Math.min(buffer.length, (index + 1) * NOISE_CHUNK - flat);
      chunk.apply(buffer.subarray(start, end), std, scale);
      start = end;
    }
    flat += buffer.length;
  }
}

function checkStd(what: string, std: number): void {
  if (!(std >= 0) || !Number.isFinite(std)) throw new RangeError(`${what}: the noise std must be finite and ≥ 0, got ${std}`);
}

/**
 * In place: gradSum[k][i] ← (gradSum[k][i] + noiseStd · z) / expectedBatchSize, the z drawn
 * from step `step`'s noise in flat parameter order. noiseStd = σ · C.
 */
export async function privatizeGradientSum(
  runKey: RunKey,
  step: number,
  gradSum: readonly Float32Array[],
  noiseStd: number,
  expectedBatchSize: number,
): Promise<void> {
  checkStd('privatizeGradientSum', noiseStd);
  if (!(expectedBatchSize > 0)) throw new RangeError(`privatizeGradientSum: expectedBatchSize must be > 0, got ${expectedBatchSize}`);
  const kernel = await NoiseKernel.load();
  const stepKey = deriveStepKey(runKey, 'noise', step);
  try {
    applyStepNoise(kernel, stepKey, gradSum, noiseStd, 1 / expectedBatchSize);
  } finally {
    stepKey.fill(0);
  }
}

/** out ← the first out.length values of step `step`'s noise at standard deviation std. */
export async function fillStepNoise(runKey: RunKey, step: number, out: Float32Array, std = 1): Promise<void> {
  checkStd('fillStepNoise', std);
  out.fill(0);
  const kernel = await NoiseKernel.load();
  const stepKey = deriveStepKey(runKey, 'noise', step);
  try {
    applyStepNoise(kernel, stepKey, [out], std, 1);
  } finally {
    stepKey.fill(0);
  }
}

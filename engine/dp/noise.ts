// The Gaussian mechanism of DP-SGD: N(0, σ²C²) added once to the sum of clipped per-example
// gradients, then the sum divided by the expected batch size q·N (not the realised one, which
// would itself depend on the private sample). The noise of step s comes from the step's own
// keyed streams, so it is a pure function of (run key, step) — reproducible on resume,
// independent across steps and unpredictable without the key.
import type { RunKey } from './run-key.ts';
import { deriveStepKey, noiseWordsForKey } from './streams.ts';
import { addGaussian } from './ziggurat.ts';

/**
 * Parameters per noise stream: value i of the flattened parameter vector (all buffers end to
 * end) takes its noise from stream ⌊i / NOISE_CHUNK⌋ of the step. Part of RNG_VERSION.
 */
export const NOISE_CHUNK = 1 << 22;

/** What a checkpoint stores about the noise: the next step only; the key travels as a secret. */
export interface NoiseState {
  kind: 'gaussian';
  nextStep: number;
}

/**
 * In place: gradSum[k][i] ← (gradSum[k][i] + noiseStd · z) / expectedBatchSize, the z drawn
 * from step `step`'s noise stream in buffer order. noiseStd = σ · C.
 */
export function privatizeGradientSum(
  runKey: RunKey,
  step: number,
  gradSum: readonly Float32Array[],
  noiseStd: number,
  expectedBatchSize: number,
): void {
  if (!(noiseStd >= 0) || !Number.isFinite(noiseStd)) throw new RangeError(`privatizeGradientSum: noiseStd must be finite and ≥ 0, got ${noiseStd}`);
  if (!(expectedBatchSize > 0)) throw new RangeError(`privatizeGradientSum: expectedBatchSize must be > 0, got ${expectedBatchSize}`);
  const stepKey = deriveStepKey(runKey, 'noise', step);
  const scale = 1 / expectedBatchSize;
  let flat = 0; // position in the flattened parameter vector
  let chunk = -1;
  let words = noiseWordsForKey(stepKey, 0);
  for (const buffer of gradSum) {
    let start = 0;
    while (start < buffer.length) {
      const position = flat + start;
      if (Math.floor(position / NOISE_CHUNK) !== chunk) {
        chunk = Math.floor(position / NOISE_CHUNK);
        words = noiseWordsForKey(stepKey, chunk);
      }
      const end = Math.min(buffer.length, (chunk + 1) * NOISE_CHUNK - flat);
      addGaussian(words, buffer.subarray(start, end), noiseStd, scale);
      start = end;
    }
    flat += buffer.length;
  }
  stepKey.fill(0);
}

// The Gaussian mechanism of DP-SGD: N(0, σ²C²) added once to the sum of clipped per-example
// gradients, then the sum divided by the expected batch size q·N (not the realised one, which
// would itself depend on the private sample). The noise of step s comes from the step's own
// keyed stream, so it is a pure function of (run key, step) — reproducible on resume,
// independent across steps and unpredictable without the key.
import type { RunKey } from './run-key.ts';
import { noiseWords } from './streams.ts';
import { addGaussian } from './ziggurat.ts';

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
  const words = noiseWords(runKey, step);
  const scale = 1 / expectedBatchSize;
  for (const buffer of gradSum) addGaussian(words, buffer, noiseStd, scale);
}

// DP-SGD's randomness and privatization: the run key, keyed per-step streams, Gaussian noise,
// Poisson sampling, micro-batching and per-example clipping helpers.
export { RunKey } from './run-key.ts';
export { RNG_VERSION, deriveStepKey, noiseNonce, noiseOverflowWords, runKeyFingerprint, samplerStream, type NoiseStream, type StreamPurpose } from './streams.ts';
export { KeystreamWords } from './keystream-words.ts';
export { ZIGGURAT_ACCEPT, ZIGGURAT_X, firstDraw, slowPath, type Uint32Source } from './ziggurat.ts';
export { NOISE_CHUNK, fillStepNoise, privatizeGradientSum, type NoiseState } from './noise.ts';
export { PoissonSampler, poissonSample, type SamplerState, type UniformSource } from './poisson-sampler.ts';
export { splitIntoMicroBatches } from './micro-batches.ts';
export { CLIP_EPSILON, accumulateClipped, clipFactor, globalNorm } from './clipping.ts';
export { laplaceNoise, noisyCount, type UniformDoubles } from './laplace.ts';
export { discreteLaplace, discreteLaplace95, releaseInteger } from './discrete-laplace.ts';
export { NoisePrefetcher } from './noise-prefetch.ts';

// Poisson subsampling: at every step each of the N rows joins the batch independently with
// probability q. The privacy accountants' amplification-by-sampling bounds assume exactly this
// (not shuffling, not fixed-size batches), so the sampler must not "fix up" the batch size —
// an empty batch is a legitimate outcome and the step still happens.
import type { RunKey } from './run-key.ts';
import { samplerStream } from './streams.ts';

/** A source of uniform doubles in [0, 1) (engine/random's SecureStream). */
export interface UniformSource {
  nextDouble(): number;
}

/**
 * Indices (ascending) of the rows drawn with probability q each. Instead of one Bernoulli draw
 * per row it draws the geometric gaps between selected rows — P(gap ≥ k) = (1 − q)^k, obtained
 * by inversion — so a step costs O(qN) draws, not O(N).
 */
export function poissonSample(source: UniformSource, rowCount: number, q: number): Int32Array {
  if (!Number.isSafeInteger(rowCount) || rowCount < 0) throw new RangeError(`poissonSample: rowCount must be a non-negative integer, got ${rowCount}`);
  if (!(q >= 0 && q <= 1)) throw new RangeError(`poissonSample: q must be in [0, 1], got ${q}`);
  if (q === 0 || rowCount === 0) return new Int32Array(0);
  const selected: number[] = [];
  const logKeep = Math.log1p(-q); // log(1 − q), accurate for small q; −∞ when q = 1 (every gap is 0)
  let index = -1;
  for (;;) {
    const uniform = 1 - source.nextDouble(); // (0, 1]: the logarithm never sees 0
    const gap = q === 1 ? 0 : Math.floor(Math.log(uniform) / logKeep);
    index += gap + 1;
    if (index >= rowCount) break;
    selected.push(index);
  }
  return Int32Array.from(selected);
}

/** What a checkpoint stores about the sampler: no stream position, only the parameters and the next step. */
export interface SamplerState {
  kind: 'poisson';
  rowCount: number;
  samplingRate: number;
  nextStep: number;
}

/** The per-step Poisson sample of a run: a pure function of (run key, step). */
export class PoissonSampler {
  constructor(
    private readonly runKey: RunKey,
    readonly rowCount: number,
    readonly samplingRate: number,
  ) {}

  sampleStep(step: number): Int32Array {
    return poissonSample(samplerStream(this.runKey, step), this.rowCount, this.samplingRate);
  }

  stateAt(nextStep: number): SamplerState {
    return { kind: 'poisson', rowCount: this.rowCount, samplingRate: this.samplingRate, nextStep };
  }
}

// The privacy loss random variable (PRV) of one step of the Poisson-subsampled Gaussian
// mechanism (Gopi, Lee and Wutschitz, "Numerical Composition of Differential Privacy", 2021,
// Proposition B.4). With P = (1 − q)·N(0, σ²) + q·N(1, σ²) and Q = N(0, σ²), the privacy loss of
// an output o is L(o) = log(P(o)/Q(o)) = log(1 − q + q·e^{(2o − 1)/(2σ²)}), increasing in o, and
// the PRV is Y = L(O) with O ~ P. So P(Y ≤ t) = P(O ≤ L⁻¹(t)), a mixture of two normal CDFs.
// Everything is computed in whichever tail is small, so that masses of 1e-30 keep their digits.
import { erfc } from './erfc.ts';
import { logAdd } from './log-space.ts';
import { gaussLegendreNodes } from './quadrature.ts';

/** The two tails at a point: P(Y ≤ t) and P(Y > t), each accurate in relative terms. */
export interface Tails {
  below: number;
  above: number;
}

// Φ(x) underflows to 0 below x ≈ −38.5: beyond that a normal component has no mass left.
const NORMAL_SUPPORT = 40;

export class SubsampledGaussianPrv {
  private readonly sigmaSquared: number;
  /** log(1 − q): the PRV's smallest value (−∞ when q = 1). */
  readonly minimum: number;

  constructor(
    readonly sampleRate: number,
    readonly noiseMultiplier: number,
  ) {
    this.sigmaSquared = noiseMultiplier * noiseMultiplier;
    this.minimum = Math.log1p(-sampleRate);
  }

  /** L⁻¹(t): the output o whose privacy loss is t; −∞ for t ≤ log(1 − q). */
  outputAt(t: number): number {
    if (t <= this.minimum) return -Infinity;
    if (t === Infinity) return Infinity;
    // (e^t − 1 + q)/q = 1 + expm1(t)/q, so o = σ²·log1p(expm1(t)/q) + 1/2 (exact near t = 0).
    return this.sigmaSquared * Math.log1p(Math.expm1(t) / this.sampleRate) + 0.5;
  }

  /** L(o) = log((1 − q) + q·e^a), a = (2o − 1)/(2σ²), accurate in every regime. */
  lossAt(o: number): number {
    const q = this.sampleRate;
    const a = (2 * o - 1) / (2 * this.sigmaSquared);
    // Small |a|: log1p(q·expm1(a)) keeps the digits of a loss near 0.
    if (a > -1 && a <= 30) return Math.log1p(q * Math.expm1(a));
    // Otherwise sum the two terms in log space (q = 1 gives exactly a).
    return logAdd(this.minimum, Math.log(q) + a);
  }

  /** P(Y ≤ t) and P(Y > t). */
  tails(t: number): Tails {
    const out = new Float64Array(2);
    this.tailsInto(t, out);
    return { below: out[0], above: out[1] };
  }

  /**
   * P(Y ≤ t) into out[0] and P(Y > t) into out[1], allocation-free (the discretisation calls this
   * for millions of grid edges). P(Y ≤ t) = P(O ≤ o) for o = L⁻¹(t): a mixture of two normal
   * CDFs, each taken from one erfc of its smaller tail.
   */
  tailsInto(t: number, out: Float64Array): void {
    const o = this.outputAt(t);
    if (o === -Infinity || o === Infinity) {
      out[0] = o === Infinity ? 1 : 0;
      out[1] = 1 - out[0];
      return;
    }
    const q = this.sampleRate;
    const x0 = o / this.noiseMultiplier;
    const x1 = (o - 1) / this.noiseMultiplier;
    const small0 = erfc(Math.abs(x0) * Math.SQRT1_2) / 2;
    const small1 = erfc(Math.abs(x1) * Math.SQRT1_2) / 2;
    out[0] = (1 - q) * (x0 < 0 ? small0 : 1 - small0) + q * (x1 < 0 ? small1 : 1 - small1);
    out[1] = (1 - q) * (x0 < 0 ? 1 - small0 : small0) + q * (x1 < 0 ? 1 - small1 : small1);
  }

  /**
   * E[Y | a ≤ Y ≤ b] by Gauss–Legendre quadrature of L(o)·p(o) over o ∈ [L⁻¹(a), L⁻¹(b)]
   * (smooth there, unlike the PRV's density in t). Used to shift the discretised PRV so that
   * its mean is exact, which is what keeps the composed error at O(√k·h) (Gopi et al.).
   */
  truncatedMean(a: number, b: number): number {
    const sigma = this.noiseMultiplier;
    const q = this.sampleRate;
    const from = Math.max(this.outputAt(a), -NORMAL_SUPPORT * sigma);
    const to = Math.min(this.outputAt(b), 1 + NORMAL_SUPPORT * sigma);
    if (!(to > from)) return (a + b) / 2;
    // L varies on the scale σ², the density on the scale σ: panels well below both.
    const panelWidth = Math.min(sigma, this.sigmaSquared) / 4;
    const panels = Math.max(1, Math.ceil((to - from) / panelWidth));
    const width = (to - from) / panels;
    const { nodes, weights } = gaussLegendreNodes();
    const normalisation = 1 / (sigma * Math.sqrt(2 * Math.PI));
    let weighted = 0;
    let compensation = 0;
    let mass = 0;
    for (let p = 0; p < panels; p++) {
      const centre = from + (p + 0.5) * width;
      for (let n = 0; n < nodes.length; n++) {
        const o = centre + (nodes[n] * width) / 2;
        const z0 = o / sigma;
        const z1 = (o - 1) / sigma;
        const density = normalisation * ((1 - q) * Math.exp(-0.5 * z0 * z0) + q * Math.exp(-0.5 * z1 * z1));
        const w = (weights[n] * width) / 2;
        mass += w * density;
        // Neumaier summation: the mean is O(q²) while its terms are O(q).
        const term = w * density * this.lossAt(o);
        const sum = weighted + term;
        compensation += Math.abs(weighted) >= Math.abs(term) ? weighted - sum + term : term - sum + weighted;
        weighted = sum;
      }
    }
    return (weighted + compensation) / mass;
  }
}

// Rényi DP of one step of the Poisson-subsampled Gaussian mechanism (sampling rate q, noise
// multiplier σ, sensitivity 1), at order α: ε_α = log(A_α)/(α − 1), with A_α from Mironov,
// Talwar and Zhang, "Rényi Differential Privacy of the Sampled Gaussian Mechanism" (2019),
// section 3.3. Integer orders use the finite binomial sum; fractional orders use the paper's
// two convergent series split at z₀. Term for term and with the same stopping rule as Opacus
// (opacus/accountants/analysis/rdp.py), so that Veil's ε equals Opacus's; everything in
// log-space, the binomial coefficients by their exact product recurrence.
import { logErfc } from './erfc.ts';
import { logAdd, logSub } from './log-space.ts';

/** Opacus's RDPAccountant.DEFAULT_ALPHAS: 1.1, 1.2, …, 10.9, then 12, 13, …, 63. */
export const OPACUS_DEFAULT_ORDERS: readonly number[] = Object.freeze([
  ...Array.from({ length: 99 }, (_, k) => 1 + (k + 1) / 10),
  ...Array.from({ length: 52 }, (_, k) => 12 + k),
]);

const LOG_HALF = Math.log(0.5);
// Opacus stops the fractional series once both new terms are below e^−30 (A_α ≥ 1, so this is
// a relative truncation of < 1e-13).
const SERIES_CUTOFF = -30;
// A guard against a series that does not converge (never seen for σ ≥ 0.05, q ∈ (0, 1)).
const SERIES_MAX_TERMS = 10_000_000;

function logAForIntegerOrder(q: number, sigma: number, alpha: number): number {
  const logQ = Math.log(q);
  const log1MinusQ = Math.log1p(-q);
  const twoSigmaSquared = 2 * sigma * sigma;
  let logA = -Infinity;
  let binomial = 1;
  for (let i = 0; i <= alpha; i++) {
    if (i > 0) binomial = (binomial * (alpha - i + 1)) / i;
    const term = Math.log(binomial) + i * logQ + (alpha - i) * log1MinusQ + (i * i - i) / twoSigmaSquared;
    logA = logAdd(logA, term);
  }
  return logA;
}

function logAForFractionalOrder(q: number, sigma: number, alpha: number): number {
  const logQ = Math.log(q);
  const log1MinusQ = Math.log1p(-q);
  const twoSigmaSquared = 2 * sigma * sigma;
  const sqrt2Sigma = Math.SQRT2 * sigma;
  const z0 = sigma * sigma * (log1MinusQ - logQ) + 0.5;
  let logA0 = -Infinity;
  let logA1 = -Infinity;
  let binomial = 1; // binom(α, i), signed: alternates once i > α + 1
  for (let i = 0; i < SERIES_MAX_TERMS; i++) {
    if (i > 0) binomial = (binomial * (alpha - i + 1)) / i;
    const logCoefficient = Math.log(Math.abs(binomial));
    const j = alpha - i;
    const logT0 = logCoefficient + i * logQ + j * log1MinusQ;
    const logT1 = logCoefficient + j * logQ + i * log1MinusQ;
    const logE0 = LOG_HALF + logErfc((i - z0) / sqrt2Sigma);
    const logE1 = LOG_HALF + logErfc((z0 - j) / sqrt2Sigma);
    const logS0 = logT0 + (i * i - i) / twoSigmaSquared + logE0;
    const logS1 = logT1 + (j * j - j) / twoSigmaSquared + logE1;
    if (binomial > 0) {
      logA0 = logAdd(logA0, logS0);
      logA1 = logAdd(logA1, logS1);
    } else {
      logA0 = logSub(logA0, logS0);
      logA1 = logSub(logA1, logS1);
    }
    if (Math.max(logS0, logS1) < SERIES_CUTOFF) return logAdd(logA0, logA1);
  }
  throw new Error(`RDP series for q=${q}, σ=${sigma}, α=${alpha} did not converge`);
}

/**
 * RDP ε_α of ONE step of the Poisson-subsampled Gaussian mechanism.
 * Expects validated input: q ∈ (0, 1], σ > 0, α > 1.
 */
export function subsampledGaussianRdp(q: number, sigma: number, alpha: number): number {
  if (q === 1) return alpha / (2 * sigma * sigma);
  if (alpha === Infinity) return Infinity;
  const logA = Number.isInteger(alpha) ? logAForIntegerOrder(q, sigma, alpha) : logAForFractionalOrder(q, sigma, alpha);
  return logA / (alpha - 1);
}

// Noise calibration: the smallest noise multiplier σ whose ε is at most a target, for a run of
// `steps` Poisson-sampled steps at rate q and a given δ. Like Opacus's get_noise_multiplier, the
// answer σ satisfies target − tolerance ≤ ε(σ) ≤ target (ε tolerance, default 0.01): ε never
// exceeds the target, and σ is within the tolerance of the smallest such σ.
//
// ε(σ) is decreasing, so the search keeps a bracket [σ_lo, σ_hi] with ε(σ_lo) > target ≥
// ε(σ_hi). Inside it, instead of plain halving, it takes secant steps on log ε against log σ
// (nearly a straight line), aiming at the middle of the acceptance window, kept inside the
// bracket and replaced by a bisection whenever the bracket fails to halve (Dekker's method):
// the same guarantee as bisection in a third of the evaluations, which matters for the PRV
// accountant, where one evaluation can take a second.
import { PrivacyInputError } from './errors.ts';
import { rdpEpsilon } from './rdp-accountant.ts';
import { prvEpsilon, type PrvOptions } from './prv-accountant.ts';
import { checkDelta, checkEpsilon, checkPositive, checkSampleRate, checkSteps } from './validate.ts';

export type AccountantKind = 'rdp' | 'prv';

export interface CalibrationRequest {
  accountant: AccountantKind;
  targetEpsilon: number;
  sampleRate: number;
  steps: number;
  delta: number;
  /** Accept σ once target − tolerance ≤ ε(σ) ≤ target. Default 0.01, as Opacus. */
  tolerance?: number;
  /** Largest σ tried; a target not met there is an error. Default 1e4. */
  maxNoiseMultiplier?: number;
  /** Error budget of the PRV accountant. */
  prv?: PrvOptions;
}

export interface CalibrationResult {
  noiseMultiplier: number;
  /** ε actually spent at that σ (≤ the target). */
  epsilon: number;
  /** How many times ε was computed. */
  evaluations: number;
}

export const DEFAULT_EPSILON_TOLERANCE = 0.01;
export const DEFAULT_MAX_NOISE_MULTIPLIER = 1e4;
const START_SIGMA = 1;
const MIN_SIGMA = 1e-6;
const MAX_ITERATIONS = 200;

export function calibrateNoise(request: CalibrationRequest): CalibrationResult {
  const target = checkEpsilon(request.targetEpsilon, 'targetEpsilon');
  const q = checkSampleRate(request.sampleRate);
  const steps = checkSteps(request.steps);
  const delta = checkDelta(request.delta);
  const tolerance = checkPositive(request.tolerance ?? DEFAULT_EPSILON_TOLERANCE, 'tolerance');
  const maxSigma = checkPositive(request.maxNoiseMultiplier ?? DEFAULT_MAX_NOISE_MULTIPLIER, 'maxNoiseMultiplier');
  if (request.accountant !== 'rdp' && request.accountant !== 'prv') {
    throw new PrivacyInputError('accountant', "'rdp' or 'prv'", `must be 'rdp' or 'prv', got ${JSON.stringify(request.accountant)}`);
  }

  let evaluations = 0;
  const epsilonAt = (sigma: number): number => {
    evaluations++;
    return request.accountant === 'rdp' ? rdpEpsilon(q, sigma, steps, delta) : prvEpsilon(q, sigma, steps, delta, request.prv);
  };
  const accept = (epsilon: number): boolean => epsilon <= target && epsilon >= target - tolerance;
  const done = (sigma: number, epsilon: number): CalibrationResult => ({ noiseMultiplier: sigma, epsilon, evaluations });

  // 1. Bracket the answer, stepping away from the start by growing factors. For PRV the start
  //    is the RDP answer (cheap, and RDP's ε is the larger one, so PRV's σ is just below it).
  let lo = NaN;
  let epsLo = NaN;
  let hi = NaN;
  let epsHi = NaN;
  let previous = { u: NaN, f: NaN };
  const aim = Math.log(target - tolerance / 2);
  const record = (sigma: number, epsilon: number): void => {
    if (epsilon <= target) [hi, epsHi] = [sigma, epsilon];
    else [lo, epsLo] = [sigma, epsilon];
    previous = { u: Math.log(sigma), f: Math.log(epsilon) - aim };
  };
  let start = Math.min(START_SIGMA, maxSigma);
  let factor = 2;
  if (request.accountant === 'prv') {
    try {
      start = calibrateNoise({ ...request, accountant: 'rdp', tolerance }).noiseMultiplier;
    } catch (err) {
      // RDP cannot reach the target below maxSigma; the tighter PRV might: start at the top.
      if (!(err instanceof PrivacyInputError && err.argument === 'targetEpsilon')) throw err;
      start = maxSigma;
    }
    factor = 1.05;
  }
  let sigma = start;
  let epsilon = epsilonAt(sigma);
  record(sigma, epsilon);
  while (!(epsLo > target) || !(epsHi <= target)) {
    if (accept(epsilon)) return done(sigma, epsilon);
    if (epsilon <= target) {
      if (sigma / factor < MIN_SIGMA) return done(hi, epsHi); // even σ → 0 meets the target
      sigma /= factor;
    } else {
      if (sigma >= maxSigma) {
        throw new PrivacyInputError('targetEpsilon', `reachable with σ ≤ ${maxSigma}`,
          `cannot be reached: even noise multiplier ${maxSigma} gives ε = ${epsilon} > ${target} (q=${q}, steps=${steps}, δ=${delta})`);
      }
      sigma = Math.min(sigma * factor, maxSigma);
    }
    factor *= factor;
    epsilon = epsilonAt(sigma);
    record(sigma, epsilon);
  }

  // 2. Shrink the bracket until ε(σ_hi) is in the window [target − tolerance, target]: secant
  //    through the last two points (log ε against log σ), kept inside the bracket, with a
  //    bisection whenever three steps have not halved it.
  // The point before the last one: the other end of the bracket.
  let beforeLast = previous.u === Math.log(hi) ? { u: Math.log(lo), f: Math.log(epsLo) - aim } : { u: Math.log(hi), f: Math.log(epsHi) - aim };
  let widthBefore = Math.log(hi / lo);
  for (let iteration = 0; iteration < MAX_ITERATIONS; iteration++) {
    if (accept(epsHi)) return done(hi, epsHi);
    const uLo = Math.log(lo);
    const uHi = Math.log(hi);
    const width = uHi - uLo;
    if (width < 1e-13) return done(hi, epsHi); // ε(σ) jumps over the window (discretised accountant): keep the safe side
    const inside = (u: number): boolean => u > uLo + 1e-3 * width && u < uHi - 1e-3 * width;
    let u = previous.u - (previous.f * (previous.u - beforeLast.u)) / (previous.f - beforeLast.f);
    if (!inside(u)) {
      const fLo = Math.log(epsLo) - aim;
      const fHi = Math.log(epsHi) - aim;
      u = uHi - (fHi * width) / (fHi - fLo);
    }
    if (iteration % 3 === 2) {
      if (width > widthBefore / 2) u = (uLo + uHi) / 2;
      widthBefore = width;
    }
    if (!inside(u)) u = (uLo + uHi) / 2;
    sigma = Math.exp(u);
    epsilon = epsilonAt(sigma);
    beforeLast = previous;
    record(sigma, epsilon);
  }
  return done(hi, epsHi);
}

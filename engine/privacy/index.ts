// Privacy accounting for DP-SGD with Poisson sampling and Gaussian noise: the public API.
//
//   const accountant = new PrvAccountant();           // or new RdpAccountant()
//   accountant.step(q, sigma, steps);                  // as training goes (merges repeats)
//   accountant.epsilon(delta);                         // ε spent (an upper bound)
//   checkpoint.accountant = accountant.toJSON();       // plain JSON; accountantFromJSON() restores
//   calibrateNoise({ accountant: 'prv', targetEpsilon, sampleRate, steps, delta })
//     // → { noiseMultiplier, epsilon, evaluations }, epsilon ≤ targetEpsilon
//
// Bad input throws PrivacyInputError (exitCode 2, names the argument and its limit).
export { RdpAccountant, rdpEpsilon, type RdpAccountantState } from './rdp-accountant.ts';
export { PrvAccountant, prvEpsilon, DEFAULT_PRV_EPSILON_ERROR, DEFAULT_PRV_DELTA_ERROR_RATIO, type PrvAccountantState, type PrvBounds, type PrvOptions } from './prv-accountant.ts';
export { calibrateNoise, DEFAULT_EPSILON_TOLERANCE, DEFAULT_MAX_NOISE_MULTIPLIER, type AccountantKind, type CalibrationRequest, type CalibrationResult } from './calibrate.ts';
export { accountantFromJSON, createAccountant, parseAccountantKind, ACCOUNTANT_KINDS, type AccountantState, type PrivacyAccountant } from './accountants.ts';
export { PrivacyInputError } from './errors.ts';
export { checkDelta, checkEpsilon, checkNoiseMultiplier, checkPositive, checkSampleRate, checkSteps, toFiniteNumber } from './validate.ts';
export { OPACUS_DEFAULT_ORDERS, subsampledGaussianRdp } from './rdp.ts';
export type { CompositionEntry } from './history.ts';
export type { PrivacySpent } from './rdp-conversion.ts';

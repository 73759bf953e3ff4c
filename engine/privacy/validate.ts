// Validation of accountant inputs, shared by the engine API and the CLI (no zod: the engine
// stays dependency-free). Each check takes the raw value (a number, or the text a person typed)
// and the argument's name as the caller spells it, and returns the number or throws a
// PrivacyInputError naming the argument and the limit.
import { PrivacyInputError } from './errors.ts';

// Plain decimal or scientific notation only: `Number()` would also take '', '0x10', ' 1 ' and 'Infinity'.
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

function describe(raw: unknown): string {
  if (typeof raw === 'string') return `'${raw}'`;
  if (raw === undefined) return 'nothing';
  return typeof raw === 'number' ? String(raw) : `a ${typeof raw}`;
}

/** A finite number from a number or its decimal text. */
export function toFiniteNumber(raw: unknown, argument: string): number {
  if (raw === undefined || raw === null) throw new PrivacyInputError(argument, 'required', 'is required');
  let value: number;
  if (typeof raw === 'number') value = raw;
  else if (typeof raw === 'string' && DECIMAL.test(raw.trim())) value = Number(raw.trim());
  else throw new PrivacyInputError(argument, 'a number', `must be a number, got ${describe(raw)}`);
  if (Number.isNaN(value)) throw new PrivacyInputError(argument, 'a number', 'must be a number, got NaN');
  if (!Number.isFinite(value)) throw new PrivacyInputError(argument, 'finite', `must be finite, got ${describe(raw)}`);
  return value;
}

function outOfRange(argument: string, limit: string, raw: unknown): PrivacyInputError {
  return new PrivacyInputError(argument, limit, `must be ${limit}, got ${describe(raw)}`);
}

/** Poisson sampling rate q ∈ (0, 1]. */
export function checkSampleRate(raw: unknown, argument = 'sampleRate'): number {
  const q = toFiniteNumber(raw, argument);
  if (!(q > 0 && q <= 1)) throw outOfRange(argument, 'in (0, 1]', raw);
  return q;
}

/** Noise multiplier σ > 0 (noise standard deviation over the clipping norm). */
export function checkNoiseMultiplier(raw: unknown, argument = 'noiseMultiplier'): number {
  const sigma = toFiniteNumber(raw, argument);
  if (!(sigma > 0)) throw outOfRange(argument, '> 0', raw);
  return sigma;
}

/** A number of steps: an integer ≥ 1. */
export function checkSteps(raw: unknown, argument = 'steps'): number {
  const steps = toFiniteNumber(raw, argument);
  if (!Number.isInteger(steps) || steps < 1) throw outOfRange(argument, 'an integer ≥ 1', raw);
  if (!Number.isSafeInteger(steps)) throw outOfRange(argument, `an integer ≤ ${Number.MAX_SAFE_INTEGER}`, raw);
  return steps;
}

/** δ ∈ (0, 1). */
export function checkDelta(raw: unknown, argument = 'delta'): number {
  const delta = toFiniteNumber(raw, argument);
  if (!(delta > 0 && delta < 1)) throw outOfRange(argument, 'in (0, 1)', raw);
  return delta;
}

/** ε > 0. */
export function checkEpsilon(raw: unknown, argument = 'epsilon'): number {
  const epsilon = toFiniteNumber(raw, argument);
  if (!(epsilon > 0)) throw outOfRange(argument, '> 0', raw);
  return epsilon;
}

/** Any strictly positive finite number (tolerances, error budgets). */
export function checkPositive(raw: unknown, argument: string): number {
  const value = toFiniteNumber(raw, argument);
  if (!(value > 0)) throw outOfRange(argument, '> 0', raw);
  return value;
}

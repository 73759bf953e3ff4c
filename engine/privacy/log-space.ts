// Sums and differences of numbers held as their logarithms, so that terms like
// binom(α, i)·qⁱ·e^{i²/2σ²} (far beyond the double range) can be added without overflow.
// −Infinity stands for 0.

/** log(eˣ + eʸ). */
export function logAdd(logX: number, logY: number): number {
  const low = Math.min(logX, logY);
  const high = Math.max(logX, logY);
  if (low === -Infinity) return high;
  return Math.log1p(Math.exp(low - high)) + high;
}

/** log(eˣ − eʸ) for x ≥ y; throws when the difference would be negative (a bug upstream). */
export function logSub(logX: number, logY: number): number {
  if (logX < logY) throw new RangeError(`logSub: the difference of exp(${logX}) and exp(${logY}) is negative`);
  if (logY === -Infinity) return logX;
  if (logX === logY) return -Infinity;
  const gap = logX - logY;
  // expm1 overflows past ~709; the subtrahend is then below an ulp of the minuend.
  if (gap > 709) return logX;
  return Math.log(Math.expm1(gap)) + logY;
}

// The complementary error function and the normal CDF, accurate to a few ulps in *relative*
// terms far into the tails. The accountants live on tail probabilities (δ ≈ 1e-7 is a tail
// event), so `1 - erf(x)` (which loses every digit past x ≈ 6) is not good enough.
//
// Method: erfcx(x) = exp(x²)·erfc(x) is smooth and bounded on [0, ∞).
//   - x ≥ 27: Laplace's continued fraction (converges in a few terms there).
//   - 0 ≤ x < 27: a table of erfcx at x = k/64, filled once at load time (power series for
//     small nodes, the continued fraction run to convergence for the rest), then a Taylor step
//     of at most 1/128 from the nearest node. erfcx solves y' = 2xy − 2/√π, which gives the
//     Taylor coefficients by a three-term recurrence; 9 terms reach 1e-19 because |step| ≤ 1/128.
//     (Round-off in the recurrence grows like e^{2x·|step|} ≤ 1.6: harmless.)
//   - x < 0: erfc(x) = 2 − erfc(−x).

const SQRT_PI = Math.sqrt(Math.PI);
const TWO_OVER_SQRT_PI = 2 / SQRT_PI;
const LOG_2 = Math.LN2;
const TABLE_STEP_INVERSE = 64;
const TABLE_LIMIT = 27;
const TAYLOR_TERMS = 9;
// 1/(n + 1) for the Taylor recurrence (a multiplication is cheaper than a division).
const RECIPROCALS = Float64Array.from({ length: TAYLOR_TERMS + 1 }, (_, n) => 1 / (n + 1));

/** erfcx(x) from Laplace's continued fraction 1/√π · 1/(x + (1/2)/(x + (2/2)/(x + …))), x > 0. */
function erfcxContinuedFraction(x: number): number {
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let n = 1; n < 100_000; n++) {
    const a = n / 2;
    d = x + a * d;
    if (d === 0) d = tiny;
    d = 1 / d;
    c = x + a / c;
    if (c === 0) c = tiny;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-17) break;
  }
  return 1 / (SQRT_PI * f);
}

/** erf(x) for small |x| from the all-positive series 2/√π·e^{−x²}·Σ 2ⁿx^{2n+1}/(2n+1)!! (no cancellation). */
function erfSeries(x: number): number {
  const x2 = x * x;
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (2 * x2) / (2 * n + 1);
    sum += term;
    if (term < sum * 1e-18) break;
  }
  return TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
}

const ERFCX_TABLE: Float64Array = (() => {
  const table = new Float64Array(TABLE_LIMIT * TABLE_STEP_INVERSE + 2);
  for (let k = 0; k < table.length; k++) {
    const c = k / TABLE_STEP_INVERSE;
    // Below 0.5 erfc(c) ≥ 0.47, so 1 − erf(c) is exact to an ulp; above, the fraction converges.
    table[k] = c < 0.5 ? (1 - erfSeries(c)) * Math.exp(c * c) : erfcxContinuedFraction(c);
  }
  return table;
})();

/** The scaled complementary error function exp(x²)·erfc(x), for x ≥ 0. */
export function erfcxNonNegative(x: number): number {
  if (x >= TABLE_LIMIT) return erfcxContinuedFraction(x);
  const k = Math.round(x * TABLE_STEP_INVERSE);
  const c = k / TABLE_STEP_INVERSE;
  const h = x - c;
  // Taylor coefficients a_n = y⁽ⁿ⁾(c)/n! of erfcx at c: a₁ = 2c·a₀ − 2/√π,
  // a_{n+1} = (2c·a_n + 2·a_{n−1})/(n + 1).
  let previous = ERFCX_TABLE[k];
  let current = 2 * c * previous - TWO_OVER_SQRT_PI;
  let sum = previous + current * h;
  let power = h;
  for (let n = 1; n < TAYLOR_TERMS; n++) {
    const next = (2 * c * current + 2 * previous) * RECIPROCALS[n];
    previous = current;
    current = next;
    power *= h;
    sum += current * power;
  }
  return sum;
}

/** erfc(x) for any real x; relative accuracy ~1e-15 until it underflows near x ≈ 26.5. */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < 0) return 2 - erfc(-x);
  if (x > 27.3) return 0;
  return erfcxNonNegative(x) * expMinusSquare(x);
}

/** exp(−x²) without the rounding error of x² (which alone costs 1e-13 relative at x ≈ 23):
 *  split x = h + l with h on 24 bits, so h² is exact and x² = h² + l·(x + h). */
function expMinusSquare(x: number): number {
  if (x < 4) return Math.exp(-x * x); // x² then carries < 2e-15 relative error
  const h = Math.fround(x);
  const l = x - h;
  return Math.exp(-h * h) * Math.exp(-l * (x + h));
}

/** log(erfc(x)), finite for every finite x (no underflow in the far right tail). */
export function logErfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x >= 0) {
    if (x === Infinity) return -Infinity;
    return Math.log(erfcxNonNegative(x)) - x * x;
  }
  if (x === -Infinity) return LOG_2;
  // erfc(x) = 2 − erfc(−x) = 2·(1 − erfc(−x)/2).
  return LOG_2 + Math.log1p(-erfc(-x) / 2);
}

/** Φ(x), the standard normal CDF, accurate in relative terms for x → −∞. */
export function normalCdf(x: number): number {
  return erfc(-x * Math.SQRT1_2) / 2;
}

/** log Φ(x), like scipy.special.log_ndtr. */
export function logNormalCdf(x: number): number {
  return logErfc(-x * Math.SQRT1_2) - LOG_2;
}

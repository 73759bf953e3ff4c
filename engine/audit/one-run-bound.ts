// The empirical lower bound on ε of Steinke, Nasr & Jagielski 2023, "Privacy Auditing with One (1)
// Training Run" (NeurIPS 2023), for guesses that may abstain.
//
// m canaries are each included in training independently with probability ½. After training the
// auditor guesses, for r of them, whether each was included (it abstains on the others) and gets v
// right. If training is (ε, δ)-DP, Theorem 3.1 / Proposition 5.7 of the paper bound the chance of
// v or more right answers by
//   p(ε, δ) = P[Binomial(r, e^ε/(1+e^ε)) ≥ v] + 2·m·δ·α,
//   α = max_{1 ≤ i ≤ v} (1/i)·P[v − i ≤ Binomial(r, e^ε/(1+e^ε)) < v]
// (their Algorithm 2 / appendix code). The largest ε with p(ε, δ) < 1 − confidence is a lower
// bound on the ε of any (ε, δ) guarantee the training could have, at that confidence: if the true
// ε were below it, guessing this well would be too unlikely. No library implements this; the
// committed script test/audit/fixtures/one_run_bound.py does it independently with scipy, and a
// test compares the two.

/** log(k!) for k = 0..n, cached as it grows. */
const logFactorials: number[] = [0];
function logFactorial(n: number): number {
  for (let k = logFactorials.length; k <= n; k++) logFactorials.push(logFactorials[k - 1] + Math.log(k));
  return logFactorials[n];
}

/** P[Binomial(n, q) = k], computed in log space (n of a few thousand stays exact to ~1e-12). */
export function binomialPmf(k: number, n: number, q: number): number {
  if (k < 0 || k > n) return 0;
  if (q <= 0) return k === 0 ? 1 : 0;
  if (q >= 1) return k === n ? 1 : 0;
  return Math.exp(logFactorial(n) - logFactorial(k) - logFactorial(n - k) + k * Math.log(q) + (n - k) * Math.log1p(-q));
}

function checkCounts(m: number, r: number, v: number): void {
  if (![m, r, v].every(Number.isSafeInteger) || !(0 <= v && v <= r && r <= m)) throw new RangeError(`one-run audit needs integers 0 ≤ v ≤ r ≤ m, got m=${m}, r=${r}, v=${v}`);
}

/** The p-value of v or more correct guesses out of r (m canaries) if training were (ε, δ)-DP. */
export function oneRunPValue(m: number, r: number, v: number, epsilon: number, delta: number): number {
  checkCounts(m, r, v);
  if (!(epsilon >= 0) || !(delta >= 0 && delta <= 1)) throw new RangeError(`need ε ≥ 0 and δ in [0, 1], got ε=${epsilon}, δ=${delta}`);
  // Accuracy of ε-DP randomized response: the best any guess can do under the null hypothesis.
  const q = 1 / (1 + Math.exp(-epsilon));
  let tail = 0;
  for (let k = v; k <= r; k++) tail += binomialPmf(k, r, q);
  let alpha = 0;
  let below = 0; // P[v − i ≤ Binomial(r, q) < v]
  for (let i = 1; i <= v; i++) {
    below += binomialPmf(v - i, r, q);
    alpha = Math.max(alpha, below / i);
  }
  return Math.min(1, tail + 2 * m * delta * alpha);
}

/**
 * The largest ε (to `tolerance`) at which r guesses with v right would have p-value below
 * 1 − confidence; 0 when even ε = 0 explains them.
 */
export function oneRunEpsilonLowerBound(m: number, r: number, v: number, delta: number, confidence = 0.95, tolerance = 1e-9): number {
  checkCounts(m, r, v);
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must be in (0, 1), got ${confidence}`);
  const p = 1 - confidence;
  if (oneRunPValue(m, r, v, 0, delta) >= p) return 0;
  // The p-value grows with ε: bracket the crossing, then bisect.
  let lo = 0;
  let hi = 1;
  while (oneRunPValue(m, r, v, hi, delta) < p) {
    lo = hi;
    hi *= 2;
    if (hi > 1e4) return Infinity; // δ = 0 and every guess right: no finite ε explains it
  }
  while (hi - lo > tolerance) {
    const mid = (lo + hi) / 2;
    if (oneRunPValue(m, r, v, mid, delta) < p) lo = mid;
    else hi = mid;
  }
  return lo;
}

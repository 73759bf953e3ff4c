// Gauss–Legendre nodes and weights on [−1, 1], computed once by Newton's method on the
// Legendre polynomial (three-term recurrence), to machine precision.

const ORDER = 16;
let cached: { nodes: Float64Array; weights: Float64Array } | undefined;

/** The 16-point rule: exact for polynomials of degree ≤ 31. */
export function gaussLegendreNodes(): { nodes: Float64Array; weights: Float64Array } {
  if (cached) return cached;
  const n = ORDER;
  const nodes = new Float64Array(n);
  const weights = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    // Tricomi's initial guess for the i-th root, then Newton.
    let x = Math.cos((Math.PI * (i + 0.75)) / (n + 0.5));
    let derivative = 0;
    for (let iteration = 0; iteration < 100; iteration++) {
      let p0 = 1;
      let p1 = x;
      for (let k = 2; k <= n; k++) {
        const p2 = ((2 * k - 1) * x * p1 - (k - 1) * p0) / k;
        p0 = p1;
        p1 = p2;
      }
      derivative = (n * (x * p1 - p0)) / (x * x - 1);
      const step = p1 / derivative;
      x -= step;
      if (Math.abs(step) < 1e-16) break;
    }
    nodes[i] = x;
    weights[i] = 2 / ((1 - x * x) * derivative * derivative);
  }
  cached = { nodes, weights };
  return cached;
}

// From RDP to (ε, δ)-DP: Balle et al. 2020 ("Hypothesis testing interpretations and Rényi
// differential privacy", Theorem 21), the conversion Opacus's get_privacy_spent uses:
//   ε(α) = rdp(α) − (log δ + log α)/(α − 1) + log((α − 1)/α),   ε = min over the orders.
//
// The minimum is Opacus's exactly, but found lazily: RDP of the subsampled Gaussian is cheap at
// integer orders and costly at fractional ones (a long series). Rényi divergence never
// decreases with the order, so rdp(α) ≥ rdp(β) for every evaluated β ≤ α, which bounds ε(α)
// from below; an order whose bound is already above the best ε found cannot be the minimum and
// is skipped. This is what makes calibration interactive.

/** ε at one order from the total RDP at that order. */
export function rdpToEpsilonAtOrder(order: number, rdp: number, delta: number): number {
  return rdp - (Math.log(delta) + Math.log(order)) / (order - 1) + Math.log((order - 1) / order);
}

export interface PrivacySpent {
  /** The (ε, δ) guarantee's ε. */
  epsilon: number;
  /** The RDP order at which the conversion was tightest. */
  order: number;
}

/** Minimum of ε over all orders, every order evaluated (the reference behaviour; used by tests). */
export function minimiseEpsilonEagerly(orders: readonly number[], totalRdpAt: (index: number) => number, delta: number): PrivacySpent {
  let best: PrivacySpent = { epsilon: Infinity, order: NaN };
  orders.forEach((order, index) => {
    const epsilon = rdpToEpsilonAtOrder(order, totalRdpAt(index), delta);
    if (epsilon < best.epsilon) best = { epsilon, order };
  });
  return best;
}

// Skip an order only when its lower bound clears the best by more than rounding noise.
const PRUNING_MARGIN = 1e-10;

/**
 * Minimum of ε over all orders, evaluating `totalRdpAt` only where the minimum can be.
 * `totalRdpAt(index)` must be non-decreasing in `orders[index]` (true of any Rényi divergence).
 */
export function minimiseEpsilon(orders: readonly number[], totalRdpAt: (index: number) => number, delta: number): PrivacySpent {
  let best: PrivacySpent = { epsilon: Infinity, order: NaN };
  const evaluated: { order: number; rdp: number }[] = [];
  const consider = (index: number): void => {
    const rdp = totalRdpAt(index);
    evaluated.push({ order: orders[index], rdp });
    const epsilon = rdpToEpsilonAtOrder(orders[index], rdp, delta);
    if (epsilon < best.epsilon || (epsilon === best.epsilon && orders[index] < best.order)) best = { epsilon, order: orders[index] };
  };

  const fractional: number[] = [];
  orders.forEach((order, index) => (Number.isInteger(order) ? consider(index) : fractional.push(index)));

  // Lower bound of each fractional order's ε from the largest evaluated integer order below it.
  const bounded = fractional.map((index) => {
    let rdpBelow = 0; // Rényi divergences are ≥ 0
    for (const e of evaluated) if (e.order <= orders[index] && e.rdp > rdpBelow) rdpBelow = e.rdp;
    return { index, bound: rdpToEpsilonAtOrder(orders[index], rdpBelow, delta) };
  });
  bounded.sort((a, b) => a.bound - b.bound);
  for (const { index, bound } of bounded) {
    if (bound > best.epsilon + PRUNING_MARGIN * Math.max(1, Math.abs(best.epsilon))) break;
    consider(index);
  }
  return best;
}

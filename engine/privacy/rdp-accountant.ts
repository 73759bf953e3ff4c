// The RDP accountant: Opacus's RDPAccountant (same orders, same per-order RDP, same conversion),
// so that Veil's ε equals Opacus's for the same run. A loose but simple upper bound; the PRV
// accountant is the tight one.
import { PrivacyInputError } from './errors.ts';
import { CompositionHistory, type CompositionEntry } from './history.ts';
import { subsampledGaussianRdp, OPACUS_DEFAULT_ORDERS } from './rdp.ts';
import { minimiseEpsilon, minimiseEpsilonEagerly, type PrivacySpent } from './rdp-conversion.ts';
import { checkDelta } from './validate.ts';

export interface RdpAccountantState {
  accountant: 'rdp';
  version: 1;
  history: CompositionEntry[];
  /** Present only when the orders are not Opacus's defaults. */
  orders?: number[];
}

export class RdpAccountant {
  readonly kind = 'rdp' as const;
  readonly orders: readonly number[];
  private readonly log: CompositionHistory;
  // RDP of one step per (q, σ) and order; NaN until computed.
  private readonly cache = new Map<string, Float64Array>();

  constructor(options: { orders?: readonly number[]; history?: CompositionHistory } = {}) {
    this.orders = Object.freeze([...(options.orders ?? OPACUS_DEFAULT_ORDERS)]);
    this.orders.forEach((order, i) => {
      if (!(order > 1) || !Number.isFinite(order)) throw new PrivacyInputError(`orders[${i}]`, '> 1 and finite', `must be > 1 and finite, got ${order}`);
    });
    this.log = options.history ?? new CompositionHistory();
  }

  /** Records `count` steps of DP-SGD with Poisson rate `sampleRate` and noise multiplier `noiseMultiplier`. */
  step(sampleRate: number, noiseMultiplier: number, count = 1): void {
    this.log.add(sampleRate, noiseMultiplier, count);
  }

  get history(): readonly CompositionEntry[] {
    return this.log.entries;
  }

  /** ε spent so far at δ (0 before the first step). */
  epsilon(delta: number): number {
    return this.privacySpent(delta).epsilon;
  }

  /** ε spent so far at δ and the order that attains it. */
  privacySpent(delta: number, options: { eager?: boolean } = {}): PrivacySpent {
    const d = checkDelta(delta);
    if (this.log.isEmpty) return { epsilon: 0, order: NaN };
    const groups = this.log.groups().map((g) => ({ steps: g.steps, rdpAt: this.oneStepRdp(g.sampleRate, g.noiseMultiplier) }));
    const totalRdpAt = (index: number): number => groups.reduce((sum, g) => sum + g.steps * g.rdpAt(index), 0);
    const spent = options.eager ? minimiseEpsilonEagerly(this.orders, totalRdpAt, d) : minimiseEpsilon(this.orders, totalRdpAt, d);
    // The conversion dips below 0 only for huge δ (≳ 0.1); (0, δ)-DP then holds, and a negative ε means nothing.
    return { epsilon: Math.max(0, spent.epsilon), order: spent.order };
  }

  /** Total RDP of the run at every order (the full curve; costs every fractional series). */
  rdpCurve(): Float64Array {
    const curve = new Float64Array(this.orders.length);
    for (const g of this.log.groups()) {
      const at = this.oneStepRdp(g.sampleRate, g.noiseMultiplier);
      for (let i = 0; i < curve.length; i++) curve[i] += g.steps * at(i);
    }
    return curve;
  }

  toJSON(): RdpAccountantState {
    const state: RdpAccountantState = { accountant: 'rdp', version: 1, history: this.log.toJSON() };
    if (!sameOrders(this.orders, OPACUS_DEFAULT_ORDERS)) state.orders = [...this.orders];
    return state;
  }

  static fromJSON(raw: unknown): RdpAccountant {
    if (typeof raw !== 'object' || raw === null) throw new PrivacyInputError('state', 'an object', 'must be an accountant state object');
    const state = raw as Record<string, unknown>;
    if (state.accountant !== 'rdp') throw new PrivacyInputError('state.accountant', "'rdp'", `must be 'rdp', got ${JSON.stringify(state.accountant)}`);
    if (state.version !== 1) throw new PrivacyInputError('state.version', '1', `must be 1, got ${JSON.stringify(state.version)}`);
    if (state.orders !== undefined && !(Array.isArray(state.orders) && state.orders.every((o) => typeof o === 'number'))) {
      throw new PrivacyInputError('state.orders', 'an array of numbers', 'must be an array of numbers');
    }
    return new RdpAccountant({ orders: state.orders as number[] | undefined, history: CompositionHistory.fromJSON(state.history, 'state.history') });
  }

  private oneStepRdp(sampleRate: number, noiseMultiplier: number): (index: number) => number {
    const key = `${sampleRate}|${noiseMultiplier}`;
    let values = this.cache.get(key);
    if (!values) {
      values = new Float64Array(this.orders.length).fill(NaN);
      this.cache.set(key, values);
    }
    const memo = values;
    return (index) => {
      if (Number.isNaN(memo[index])) memo[index] = subsampledGaussianRdp(sampleRate, noiseMultiplier, this.orders[index]);
      return memo[index];
    };
  }
}

function sameOrders(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** ε of `steps` identical steps at (q, σ), without keeping an accountant (used by calibration). */
export function rdpEpsilon(sampleRate: number, noiseMultiplier: number, steps: number, delta: number): number {
  const accountant = new RdpAccountant();
  accountant.step(sampleRate, noiseMultiplier, steps);
  return accountant.epsilon(delta);
}

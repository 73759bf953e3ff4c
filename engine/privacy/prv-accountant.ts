// The PRV accountant (Gopi, Lee and Wutschitz 2021), the tight one: discretise each step's
// privacy loss random variable, compose by FFT, read ε off the composed distribution. It
// returns bounds [lower, upper] on the true ε with upper − lower ≈ 2·ε_error (ε_error 0.01 by
// default, δ_error = δ/1000, Opacus's defaults); `epsilon()` is the upper bound, as in Opacus's
// PRVAccountant. Same algorithm as Microsoft's prv_accountant (domain from RDP, mesh from
// Theorem 5.5, mean-preserving cell-centred discretisation, FFT self-composition).
import { PrivacyInputError } from './errors.ts';
import { CompositionHistory, type CompositionEntry } from './history.ts';
import { SubsampledGaussianPrv } from './prv-distribution.ts';
import { compose, discretise, epsilonsForDeltas } from './prv-discrete.ts';
import { choosePrvDomain, DEFAULT_MAX_GRID_SIZE } from './prv-domain.ts';
import { checkDelta, checkPositive } from './validate.ts';

export interface PrvOptions {
  /** Allowed error in ε (the bounds are ± this around the estimate). Default 0.01. */
  epsilonError?: number;
  /** δ_error as a fraction of δ. Default 1e-3. */
  deltaErrorRatio?: number;
  /** Largest grid (points) before the mesh is coarsened and ε_error grows. Default 2²³. */
  maxGridSize?: number;
}

export interface PrvBounds {
  /** The true ε is ≥ this (clamped at 0). */
  lower: number;
  estimate: number;
  /** The true ε is ≤ this: what `epsilon()` reports. */
  upper: number;
  /** The ε error actually used (larger than requested only when the grid was capped). */
  epsilonError: number;
  deltaError: number;
  mesh: number;
  gridSize: number;
}

export interface PrvAccountantState {
  accountant: 'prv';
  version: 1;
  history: CompositionEntry[];
  epsilonError: number;
  deltaErrorRatio: number;
}

export const DEFAULT_PRV_EPSILON_ERROR = 0.01;
export const DEFAULT_PRV_DELTA_ERROR_RATIO = 1e-3;
const DOUBLE_EPSILON = 2 ** -52;

export class PrvAccountant {
  readonly kind = 'prv' as const;
  readonly epsilonError: number;
  readonly deltaErrorRatio: number;
  readonly maxGridSize: number;
  private readonly log: CompositionHistory;
  private memo: { key: string; bounds: PrvBounds } | undefined;

  constructor(options: PrvOptions & { history?: CompositionHistory } = {}) {
    this.epsilonError = checkPositive(options.epsilonError ?? DEFAULT_PRV_EPSILON_ERROR, 'epsilonError');
    this.deltaErrorRatio = checkPositive(options.deltaErrorRatio ?? DEFAULT_PRV_DELTA_ERROR_RATIO, 'deltaErrorRatio');
    if (this.deltaErrorRatio >= 1) throw new PrivacyInputError('deltaErrorRatio', 'in (0, 1)', `must be in (0, 1), got ${this.deltaErrorRatio}`);
    this.maxGridSize = Math.max(1024, Math.floor(options.maxGridSize ?? DEFAULT_MAX_GRID_SIZE));
    this.log = options.history ?? new CompositionHistory();
  }

  step(sampleRate: number, noiseMultiplier: number, count = 1): void {
    this.log.add(sampleRate, noiseMultiplier, count);
    this.memo = undefined;
  }

  get history(): readonly CompositionEntry[] {
    return this.log.entries;
  }

  /** An upper bound on the ε spent so far at δ. */
  epsilon(delta: number): number {
    return this.bounds(delta).upper;
  }

  bounds(delta: number): PrvBounds {
    const d = checkDelta(delta);
    const key = String(d);
    if (this.memo?.key === key) return { ...this.memo.bounds };
    const deltaError = this.deltaErrorRatio * d;
    if (this.log.isEmpty) return { lower: 0, estimate: 0, upper: 0, epsilonError: this.epsilonError, deltaError, mesh: 0, gridSize: 0 };
    const groups = this.log.groups();
    const domain = choosePrvDomain(groups, this.epsilonError, deltaError, this.maxGridSize);
    // Round-off in sums over the grid is ~ε_machine·size; δ must stand well above it.
    if (DOUBLE_EPSILON * domain.size > d - deltaError) {
      throw new PrivacyInputError('delta', `> ${(DOUBLE_EPSILON * domain.size) / (1 - this.deltaErrorRatio)} for a PRV grid of ${domain.size} points`,
        `is too small for the PRV accountant's floating-point precision on this run; use the RDP accountant or a larger δ`);
    }
    const parts = groups.map((g) => discretise(new SubsampledGaussianPrv(g.sampleRate, g.noiseMultiplier), domain));
    const composed = compose(parts, groups.map((g) => g.steps), domain);
    const [atLowDelta, atDelta, atHighDelta] = epsilonsForDeltas(composed, domain, [d - deltaError, d, d + deltaError]);
    const bounds: PrvBounds = {
      lower: Math.max(0, atHighDelta - domain.epsilonError),
      estimate: Math.max(0, atDelta),
      upper: Math.max(0, atLowDelta + domain.epsilonError),
      epsilonError: domain.epsilonError,
      deltaError,
      mesh: domain.mesh,
      gridSize: domain.size,
    };
    this.memo = { key, bounds };
    return { ...bounds };
  }

  toJSON(): PrvAccountantState {
    return { accountant: 'prv', version: 1, history: this.log.toJSON(), epsilonError: this.epsilonError, deltaErrorRatio: this.deltaErrorRatio };
  }

  static fromJSON(raw: unknown): PrvAccountant {
    if (typeof raw !== 'object' || raw === null) throw new PrivacyInputError('state', 'an object', 'must be an accountant state object');
    const state = raw as Record<string, unknown>;
    if (state.accountant !== 'prv') throw new PrivacyInputError('state.accountant', "'prv'", `must be 'prv', got ${JSON.stringify(state.accountant)}`);
    if (state.version !== 1) throw new PrivacyInputError('state.version', '1', `must be 1, got ${JSON.stringify(state.version)}`);
    return new PrvAccountant({
      epsilonError: checkPositive(state.epsilonError, 'state.epsilonError'),
      deltaErrorRatio: checkPositive(state.deltaErrorRatio, 'state.deltaErrorRatio'),
      history: CompositionHistory.fromJSON(state.history, 'state.history'),
    });
  }
}

/** Upper bound on ε of `steps` identical steps at (q, σ) (used by calibration). */
export function prvEpsilon(sampleRate: number, noiseMultiplier: number, steps: number, delta: number, options: PrvOptions = {}): number {
  const accountant = new PrvAccountant(options);
  accountant.step(sampleRate, noiseMultiplier, steps);
  return accountant.epsilon(delta);
}

// ε spent so far, step by step, with engine/privacy's accountant of the run's kind. Its JSON
// state goes into checkpoints; a resumed run continues the same composition history.
import { accountantFromJSON, createAccountant, type PrivacyAccountant } from '../privacy/index.ts';
import { TrainConfigError } from './plan.ts';
import type { RunPlan } from './types.ts';

export class PrivacyTracker {
  private memo: { steps: number; epsilon: number } | undefined;

  private constructor(
    private readonly plan: RunPlan,
    private readonly accountant: PrivacyAccountant | null,
  ) {}

  static start(plan: RunPlan): PrivacyTracker {
    return new PrivacyTracker(plan, plan.accountant === null ? null : createAccountant(plan.accountant));
  }

  static resume(plan: RunPlan, state: unknown): PrivacyTracker {
    if (plan.accountant === null) return new PrivacyTracker(plan, null);
    const accountant = accountantFromJSON(state);
    if (accountant.kind !== plan.accountant) throw new TrainConfigError(`checkpoint accountant is '${accountant.kind}', the run's plan '${plan.accountant}'`);
    return new PrivacyTracker(plan, accountant);
  }

  /** Records one step of the plan's (q, σ): every step, including an empty batch, as the analysis assumes. */
  recordStep(): void {
    this.accountant?.step(this.plan.samplingRate, this.plan.noiseMultiplier);
  }

  get stepsRecorded(): number {
    return this.accountant?.history.reduce((sum, entry) => sum + entry.steps, 0) ?? 0;
  }

  /** ε spent after the steps recorded so far (memoised: the PRV accountant takes 0.1–1 s per evaluation). */
  epsilon(): number {
    if (this.accountant === null || this.plan.delta === null) return Infinity;
    const steps = this.stepsRecorded;
    if (this.memo?.steps !== steps) this.memo = { steps, epsilon: this.accountant.epsilon(this.plan.delta) };
    return this.memo.epsilon;
  }

  /** JSON for the checkpoint (null when unlimited). */
  state(): unknown {
    return this.accountant === null ? null : (JSON.parse(JSON.stringify(this.accountant.toJSON())) as unknown);
  }
}

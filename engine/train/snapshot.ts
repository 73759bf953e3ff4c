// Checkpoints in and out of a live run: a snapshot copies every tensor once (the run goes on
// mutating its buffers), or, for a caller that is done with it before the run goes on, only views
// them; resuming checks that the checkpoint belongs to this run and copies the tensors back into
// buffers the run may mutate, or adopts them when the caller hands the checkpoint over.
import { RNG_VERSION, runKeyFingerprint, type RunKey } from '../dp/index.ts';
import type { OptimizerState } from '../optim/index.ts';
import { CHECKPOINT_FORMAT, CHECKPOINT_VERSION, type Checkpoint, type ParamSpec, type RunPlan, type TrainConfig } from './types.ts';
import { TrainConfigError } from './plan.ts';

export interface LiveState {
  step: number;
  paramSpecs: readonly ParamSpec[];
  params: Float32Array[];
  optimizerState: OptimizerState;
  accountantState: unknown;
  epsilon: number;
  keyFingerprint: string;
  config: TrainConfig;
  plan: RunPlan;
}

function copyOptimizerState(state: OptimizerState): OptimizerState {
  const slots: Record<string, Float32Array[]> = {};
  for (const [slot, buffers] of Object.entries(state.slots)) slots[slot] = buffers.map((b) => b.slice());
  return { kind: state.kind, stepCount: state.stepCount, slots };
}

/**
 * The checkpoint of a live run. `copy` false: no tensor is copied; `params` and each optimizer
 * slot's array ARE the run's own arrays, valid only until the run's next step (the trainer awaits
 * onCheckpoint before it). A callback that moves their buffers to another thread puts equal
 * tensors back into those arrays before it settles.
 */
export function takeSnapshot(live: LiveState, copy = true): Checkpoint {
  return {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    step: live.step,
    paramSpecs: live.paramSpecs.map((s) => ({ ...s, shape: [...s.shape] })),
    params: copy ? live.params.map((p) => p.slice()) : live.params,
    optimizerState: copy ? copyOptimizerState(live.optimizerState) : live.optimizerState,
    samplerState: { kind: 'poisson', rowCount: live.config.rowCount, samplingRate: live.plan.samplingRate, nextStep: live.step },
    noiseState: { kind: 'gaussian', nextStep: live.step },
    accountantState: live.accountantState,
    epsilon: live.epsilon,
    rngVersion: RNG_VERSION,
    keyFingerprint: live.keyFingerprint,
    config: structuredClone(live.config),
    plan: { ...live.plan },
  };
}

/** The fields of a config that do not change what a run computes, and so may differ on resume. */
const NON_RESULT_FIELDS = ['checkpointEvery'] as const;

// JSON with keys sorted at every level, so that key order never makes two equal configs differ.
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function resultDefiningConfig(config: TrainConfig): string {
  const copy: Record<string, unknown> = { ...config };
  for (const field of NON_RESULT_FIELDS) delete copy[field];
  return canonicalJson(copy);
}

export interface ResumedState {
  step: number;
  params: Float32Array[];
  optimizerState: OptimizerState;
  accountantState: unknown;
  plan: RunPlan;
}

/** How resumeState hands the checkpoint's tensors to the run. */
export interface ResumeBuffers {
  /** Use the checkpoint's tensors as the run's buffers (mutated in place) instead of copies. */
  adopt?: boolean;
}

/** Checks that `checkpoint` continues this run (same config, model, key and RNG) and returns mutable copies (or, adopting, the tensors) of its state. */
export function resumeState(checkpoint: Checkpoint, config: TrainConfig, paramSpecs: readonly ParamSpec[], runKey: RunKey, buffers: ResumeBuffers = {}): ResumedState {
  if (checkpoint.format !== CHECKPOINT_FORMAT || checkpoint.version !== CHECKPOINT_VERSION) throw new TrainConfigError('resumeFrom is not a supported checkpoint');
  if (checkpoint.rngVersion !== RNG_VERSION) {
    throw new TrainConfigError(`checkpoint was written with random streams ${checkpoint.rngVersion}, this engine draws ${RNG_VERSION}: resuming would add other noise`);
  }
  if (checkpoint.keyFingerprint !== runKeyFingerprint(runKey)) throw new TrainConfigError('checkpoint belongs to another run key');
  if (resultDefiningConfig(checkpoint.config) !== resultDefiningConfig(config)) {
    throw new TrainConfigError('checkpoint was written under another training config (only checkpointEvery may change on resume)');
  }
  const specsText = (specs: readonly ParamSpec[]): string => JSON.stringify(specs.map((s) => [s.name, [...s.shape], s.weightDecay ?? true]));
  if (specsText(checkpoint.paramSpecs) !== specsText(paramSpecs)) throw new TrainConfigError('checkpoint parameters differ from the model\'s');
  const { samplerState, noiseState, step } = checkpoint;
  if (samplerState.nextStep !== step || noiseState.nextStep !== step || samplerState.rowCount !== config.rowCount) {
    throw new TrainConfigError('checkpoint sampler or noise state is inconsistent with its step');
  }
  if (!(step >= 0 && step <= checkpoint.plan.totalSteps)) throw new TrainConfigError(`checkpoint step ${step} is outside the run`);
  return {
    step,
    params: buffers.adopt ? [...checkpoint.params] : checkpoint.params.map((p) => p.slice()),
    optimizerState: buffers.adopt ? { ...checkpoint.optimizerState, slots: { ...checkpoint.optimizerState.slots } } : copyOptimizerState(checkpoint.optimizerState),
    accountantState: checkpoint.accountantState,
    plan: { ...checkpoint.plan },
  };
}

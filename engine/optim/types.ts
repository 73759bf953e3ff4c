// Optimizers update Float32Array parameter buffers in place with one fused loop per tensor:
// over 124 M parameters a fused JS loop beat the same update as ONNX ops 1.16 s to 3.7 s, and the
// same loop in WebAssembly SIMD beats the JS one again (bench/dp/noise-and-optimizers.ts).

export interface AdamWConfig {
  kind: 'adamw';
  betas?: [number, number]; // default [0.9, 0.999], as torch
  eps?: number; // default 1e-8
  weightDecay?: number; // decoupled (AdamW); default 0.01, as torch
}

export interface SgdConfig {
  kind: 'sgd';
  momentum?: number; // default 0
  dampening?: number; // default 0
  nesterov?: boolean; // default false
  weightDecay?: number; // L2 added to the gradient, as torch.optim.SGD; default 0
}

export type OptimizerConfig = AdamWConfig | SgdConfig;

/**
 * Everything an optimizer needs to continue bit-identically: its step count and its per-parameter
 * buffers by slot (AdamW: exp_avg, exp_avg_sq; SGD with momentum: momentum_buffer), named as in
 * torch so a checkpoint reads naturally next to a torch state_dict.
 */
export interface OptimizerState {
  kind: OptimizerConfig['kind'];
  stepCount: number;
  slots: Record<string, Float32Array[]>;
}

export interface Optimizer {
  readonly kind: OptimizerConfig['kind'];
  /**
   * One update of every parameter from its gradient at learning rate lr, the gradient read through
   * `gradient` when given. Asynchronous in that the first call waits for the compiled kernel and a
   * transform may wait for its pieces (prefetched noise still being drawn); each piece's update
   * runs synchronously.
   */
  step(params: readonly Float32Array[], grads: readonly Float32Array[], lr: number, gradient?: GradientTransform): Promise<void>;
  /** The live state (no copy): snapshot it before the next step if it must outlive it. */
  state(): OptimizerState;
}

/**
 * How an optimizer reads the gradient when the step's own pass over it is folded into the update:
 * each value becomes fround((g + n) · scale) with DP noise n, or fround(g · scale) without,
 * computed in float64 and rounded once: the bits that pass stores on its own (privatizing the
 * gradient sum in engine/dp, or the trainer's mean over a non-private batch). The gradient buffers
 * are only read. The pieces come in the order of the tensors taken end to end, as they are ready.
 */
export interface GradientTransform {
  forEachPiece(lengths: readonly number[], visit: (tensor: number, start: number, length: number, scale: number, noise?: Float32Array) => void): Promise<void>;
}

/** The gradient times `scale`, each tensor one piece: a non-private step's mean over its batch. */
export function scaledGradient(scale: number): GradientTransform {
  return {
    forEachPiece(lengths, visit) {
      lengths.forEach((n, k) => visit(k, 0, n, scale));
      return Promise.resolve();
    },
  };
}

/** What the optimizer kernels read for a piece of the gradient (see GradientTransform). */
export interface GradientPiece {
  scale: number;
  noise?: Float32Array;
}

/** Runs `update` over every tensor whole, or over each piece the transform gives. */
export async function forEachUpdate(
  lengths: readonly number[],
  transform: GradientTransform | undefined,
  update: (tensor: number, start: number, end: number, piece?: GradientPiece) => void,
): Promise<void> {
  if (!transform) {
    lengths.forEach((n, k) => update(k, 0, n));
    return;
  }
  await transform.forEachPiece(lengths, (k, start, length, scale, noise) => update(k, start, start + length, { scale, noise }));
}

export class OptimizerStateError extends Error {}

/** Checks that saved slots match the parameter sizes before an optimizer adopts them. */
export function checkSlots(state: OptimizerState, expectedSlots: readonly string[], sizes: readonly number[]): void {
  for (const slot of expectedSlots) {
    const buffers = state.slots[slot];
    if (buffers === undefined) throw new OptimizerStateError(`optimizer state lacks slot "${slot}"`);
    if (buffers.length !== sizes.length) throw new OptimizerStateError(`slot "${slot}" has ${buffers.length} buffers, expected ${sizes.length}`);
    buffers.forEach((buffer, k) => {
      if (buffer.length !== sizes[k]) throw new OptimizerStateError(`slot "${slot}"[${k}] has ${buffer.length} values, expected ${sizes[k]}`);
    });
  }
  if (!Number.isSafeInteger(state.stepCount) || state.stepCount < 0) throw new OptimizerStateError(`bad stepCount ${state.stepCount}`);
}

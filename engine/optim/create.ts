// Builds the optimizer a training config names, fresh or from checkpointed state.
import { AdamW } from './adamw.ts';
import { Sgd } from './sgd.ts';
import type { Optimizer, OptimizerConfig, OptimizerState } from './types.ts';

export function createOptimizer(
  config: OptimizerConfig,
  sizes: readonly number[],
  decayMask?: readonly boolean[],
  resume?: OptimizerState,
): Optimizer {
  switch (config.kind) {
    case 'adamw':
      return new AdamW(sizes, config, decayMask, resume);
    case 'sgd':
      return new Sgd(sizes, config, decayMask, resume);
  }
}

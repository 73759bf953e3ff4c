// Builds the optimizer a training config names, fresh or from checkpointed state.
import { AdamW } from './adamw.ts';
import type { OptimizerMemory } from './optimizer-memory.ts';
import { Sgd } from './sgd.ts';
import type { Optimizer, OptimizerConfig, OptimizerState } from './types.ts';

/** How many buffers of the parameters' size the optimizer keeps (to size an OptimizerMemory). */
export function optimizerSlotCount(config: OptimizerConfig): number {
  switch (config.kind) {
    case 'adamw':
      return 2;
    case 'sgd':
      return (config.momentum ?? 0) !== 0 ? 1 : 0;
  }
}

export function createOptimizer(
  config: OptimizerConfig,
  sizes: readonly number[],
  decayMask?: readonly boolean[],
  resume?: OptimizerState,
  memory?: OptimizerMemory,
): Optimizer {
  switch (config.kind) {
    case 'adamw':
      return new AdamW(sizes, config, decayMask, resume, memory);
    case 'sgd':
      return new Sgd(sizes, config, decayMask, resume, memory);
  }
}

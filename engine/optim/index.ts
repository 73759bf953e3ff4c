// Optimizers and learning-rate schedule for DP-SGD (and non-private) training.
export { AdamW } from './adamw.ts';
export { Sgd } from './sgd.ts';
export { linearWarmupDecay, type LinearScheduleConfig } from './lr-schedule.ts';
export { createOptimizer, optimizerSlotCount } from './create.ts';
export { OptimizerMemory } from './optimizer-memory.ts';
export { OptimizerStateError, scaledGradient, type AdamWConfig, type GradientTransform, type Optimizer, type OptimizerConfig, type OptimizerState, type SgdConfig } from './types.ts';

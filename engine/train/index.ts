// DP-SGD training: the trainer loop, its checkpoints and the worker-thread runner.
export { train, type TrainOptions } from './trainer.ts';
export { runTrainingInWorker, TrainingWorkerError, type TrainingHandle, type WorkerTrainRequest } from './worker-runner.ts';
export { checkpointChunks, decodeCheckpoint, encodeCheckpoint, CheckpointFormatError } from './checkpoint-codec.ts';
export { planRun, defaultDelta, totalStepsOf, TrainConfigError, DEFAULT_ACCOUNTANT, DEFAULT_PHYSICAL_BATCH_SIZE } from './plan.ts';
export type { ModelFactory, ModelFactoryResult, WorkerModelSpec } from './worker-protocol.ts';
export * from './types.ts';

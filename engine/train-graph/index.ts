// GPT-2 training-step graphs: forward + backward in ONNX, and DP-SGD's per-example clipping by
// book-keeping inside the same graph. See README.md.
export { buildTrainStepGraph, trainGraphNames, type GradientMode, type TrainStepGraphOptions } from './train-step-graph.ts';
export { TrainStepSession, type ParamValue, type TokenBatch, type TrainStepResult } from './train-step-session.ts';
export type { GhostPolicy } from './ghost-norms.ts';
export { Gpt2GradientComputer, type Gpt2GradientComputerOptions } from './gpt2-gradient-computer.ts';
export type { ExampleLoss } from './lm-loss.ts';

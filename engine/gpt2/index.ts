// GPT-2 on onnxruntime: configs, checkpoints in Hugging Face layout, forward graphs, generation.
export { gpt2Presets, gpt2SizeAliases, isGpt2Size, canonicalGpt2Size, gpt2ConfigOf, presetConfig, configFromHf, configToHf, headDim, type Gpt2Config, type Gpt2PresetName, type Gpt2SizeName } from './config.ts';
export { parameterShapes, parameterCount, randomWeights, type Gpt2Weights, type WeightTensor } from './weights.ts';
export { loadCheckpoint, saveCheckpoint, resolveModelDir, hfHubCache, ModelNotFoundError, type Gpt2Checkpoint } from './checkpoint.ts';
export { openCheckpoint } from './open.ts';
export { buildGpt2Graph, type Gpt2GraphOptions } from './graph.ts';
export { Gpt2Model, MASKED, type Gpt2ModelOptions } from './model.ts';
export { generateTokens, type GenerateOptions, type GenerateResult } from './generate.ts';
export { generateText, type TextSample } from './generate-text.ts';
export { sampleToken, argmax, type SamplingOptions } from './sampling.ts';

// Sampling's compute, run in a worker thread by generate.ts (compute-worker.ts): building a large
// model's sessions and decoding block their thread for seconds at a time.
import { Gpt2Model, generateText, type TextSample } from '../../engine/gpt2/index.ts';
import type { ComputeProgress } from '../shared/compute-worker.ts';

export interface FolderGeneration {
  /** A local model folder (config.json and the weight files). */
  dir: string;
  prompts: string[];
  temperature: number;
  topK: number;
  topP: number;
  maxNewTokens: number;
  seed: string;
}

export async function generateFromFolder(input: FolderGeneration, progress: ComputeProgress): Promise<TextSample[]> {
  const model = await Gpt2Model.load(input.dir); // weights mapped from the files, packed once
  try {
    progress.report();
    // Veil's models trained on rows that start with <|endoftext|>: prompts start there too.
    return await generateText(model, input.prompts, {
      startOfDocument: true,
      maxNewTokens: input.maxNewTokens,
      temperature: input.temperature,
      topK: input.topK,
      topP: input.topP,
      seed: input.seed,
    });
  } finally {
    await model.release();
  }
}

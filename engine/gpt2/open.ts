// One way to name a model anywhere in Veil: a folder, a hub id in the local HF cache, or
// 'random:<size>[@seed]' for a freshly initialised GPT-2 when there is no checkpoint to start from.
import { loadCheckpoint, type Gpt2Checkpoint } from './checkpoint.ts';
import { presetConfig } from './config.ts';
import { randomWeights } from './weights.ts';

const RANDOM = /^random:([\w-]+)(?:@(.+))?$/;

export async function openCheckpoint(spec: string, env: NodeJS.ProcessEnv = process.env): Promise<Gpt2Checkpoint> {
  const random = RANDOM.exec(spec);
  if (random) {
    const config = presetConfig(random[1]);
    return { config, weights: randomWeights(config, random[2] ?? '0') };
  }
  return loadCheckpoint(spec, env);
}

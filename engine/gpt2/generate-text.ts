// Text in, text out: tokenizes prompts, generates as one batch, returns each prompt followed by
// its continuation. Shared by `veil generate` and the sampling activity.
import { decode, encode } from '../tokenizer/gpt2-tokenizer.ts';
import { generateTokens, type GenerateOptions } from './generate.ts';
import type { Gpt2Model } from './model.ts';

export interface TextSample {
  prompt: string;
  /** The prompt followed by its continuation (the stop token is not included). */
  text: string;
  finish: 'stop' | 'length';
}

export async function generateText(model: Gpt2Model, prompts: readonly string[], options: GenerateOptions): Promise<TextSample[]> {
  const { tokens, finish } = await generateTokens(model, prompts.map(encode), options);
  return prompts.map((prompt, i) => ({ prompt, text: prompt + decode(tokens[i]), finish: finish[i] }));
}

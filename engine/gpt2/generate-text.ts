// Text in, text out: tokenizes prompts, generates as one batch, returns each prompt followed by
// its continuation. Shared by `veil generate` and the sampling activity.
//
// An empty prompt is <|endoftext|> alone, GPT-2's document separator. Veil trains each row as
// <|endoftext|> text <|endoftext|> (activities/training/prepare-data.ts), so for its own models
// every prompt is fed after <|endoftext|> (`startOfDocument`), the way the model saw rows start;
// any other checkpoint gets the prompt's tokens alone, as transformers' generate() does.
import { decode, encode } from '../tokenizer/gpt2-tokenizer.ts';
import { generateTokens, type GenerateOptions } from './generate.ts';
import type { Gpt2Model } from './model.ts';

export interface TextSample {
  prompt: string;
  /** The prompt followed by its continuation (the stop token is not included). */
  text: string;
  finish: 'stop' | 'length';
}

/** The token ids generation starts from: the prompt's tokens, after <|endoftext|> when it is empty or `startOfDocument`. */
export function promptTokens(prompt: string, bosTokenId: number, startOfDocument = false): number[] {
  const ids = encode(prompt);
  return startOfDocument || ids.length === 0 ? [bosTokenId, ...ids] : ids;
}

export async function generateText(model: Gpt2Model, prompts: readonly string[], options: GenerateOptions & { startOfDocument?: boolean }): Promise<TextSample[]> {
  const { tokens, finish } = await generateTokens(model, prompts.map((p) => promptTokens(p, model.config.bosTokenId, options.startOfDocument)), options);
  return prompts.map((prompt, i) => ({ prompt, text: prompt + decode(tokens[i]), finish: finish[i] }));
}

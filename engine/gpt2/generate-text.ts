// Text in, text out: tokenizes prompts, generates as one batch, returns each prompt followed by
// its continuation. Shared by `veil generate` and the sampling activity.
//
// Every prompt is fed after <|endoftext|>, GPT-2's document separator: Veil trains each row as
// <|endoftext|> text <|endoftext|> (activities/training/prepareData.ts), so a prompt is the start
// of a row exactly as the model saw rows start, and an empty prompt is <|endoftext|> alone.
import { decode, encode } from '../tokenizer/gpt2-tokenizer.ts';
import { generateTokens, type GenerateOptions } from './generate.ts';
import type { Gpt2Model } from './model.ts';

export interface TextSample {
  prompt: string;
  /** The prompt followed by its continuation (the stop token is not included). */
  text: string;
  finish: 'stop' | 'length';
}

/** The token ids generation starts from: <|endoftext|>, then the prompt's tokens. */
export function promptTokens(prompt: string, bosTokenId: number): number[] {
  return [bosTokenId, ...encode(prompt)];
}

export async function generateText(model: Gpt2Model, prompts: readonly string[], options: GenerateOptions): Promise<TextSample[]> {
  const { tokens, finish } = await generateTokens(model, prompts.map((p) => promptTokens(p, model.config.bosTokenId)), options);
  return prompts.map((prompt, i) => ({ prompt, text: prompt + decode(tokens[i]), finish: finish[i] }));
}

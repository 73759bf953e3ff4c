// Canary exposure (Carlini et al. 2019, "The Secret Sharer", §4): every candidate filling of the
// secret's format gets its log-perplexity under the model, −log Pr(filling | prefix) (the summed
// NLL of its tokens); the secret's rank among all |R| candidates (1 = the most likely) gives
//   exposure = log2 |R| − log2 rank,
// from 0 (the secret is the least likely) to log2 |R| (it is the most likely). Ties are resolved
// in the secret's disfavour (only strictly more likely candidates rank above it), so the
// reported exposure is never an underestimate. The extrapolated exposure (§4.3) fits a Gaussian to
// the alternatives' log-perplexities and reports −log2 of the fitted probability that a random
// filling is at least as likely as the secret: it can exceed log2 |R|, which the rank cannot.
import { logNormalCdf } from '../privacy/erfc.ts';
import { END_OF_TEXT_ID, encode } from '../tokenizer/gpt2-tokenizer.ts';
import type { CanarySpec } from './canary-candidates.ts';
import { sum, tokenLosses, type LossModel, type TokenLossOptions } from './sequence-loss.ts';

export interface ExposureNumbers {
  candidates: number;
  /** 1-based; 1 + the number of candidates strictly more likely than the secret. */
  rank: number;
  /** Other candidates whose log-perplexity equals the secret's. */
  ties: number;
  exposureBits: number;
  /** log2 |R|: the exposure of a secret ranked first. */
  maxExposureBits: number;
  /** Gaussian fit to the alternatives (the secret left out); null when they have no spread. */
  extrapolated: { method: 'gaussian'; mean: number; std: number; exposureBits: number } | null;
}

export interface CanaryExposure extends ExposureNumbers {
  prefix: string;
  secret: string;
  /** −log Pr(secret | prefix) in nats. */
  secretLogPerplexity: number;
  /** log-perplexity (nats) of every candidate, in the spec's order. */
  logPerplexities: number[];
  /** The most likely candidates, most likely first. */
  top: { text: string; logPerplexity: number }[];
  prefixTokens: number;
}

/** Rank and exposure of candidate `secretIndex` among log-perplexities (lower = more likely). */
export function exposureFromLogPerplexities(logPerplexities: readonly number[], secretIndex: number): ExposureNumbers {
  const n = logPerplexities.length;
  if (n < 2) throw new RangeError('exposure needs at least two candidates');
  if (!Number.isInteger(secretIndex) || secretIndex < 0 || secretIndex >= n) throw new RangeError(`secret index ${secretIndex} outside 0..${n - 1}`);
  if (logPerplexities.some((v) => Number.isNaN(v))) throw new RangeError('a log-perplexity is NaN');
  const s = logPerplexities[secretIndex];
  let better = 0;
  let ties = 0;
  logPerplexities.forEach((v, i) => {
    if (i === secretIndex) return;
    if (v < s) better++;
    else if (v === s) ties++;
  });
  const rank = better + 1;
  const others = logPerplexities.filter((_, i) => i !== secretIndex);
  const mu = others.reduce((a, b) => a + b, 0) / others.length;
  const sd = Math.sqrt(others.reduce((a, v) => a + (v - mu) ** 2, 0) / Math.max(1, others.length - 1));
  return {
    candidates: n,
    rank,
    ties,
    exposureBits: Math.log2(n) - Math.log2(rank),
    maxExposureBits: Math.log2(n),
    extrapolated: sd > 0 ? { method: 'gaussian', mean: mu, std: sd, exposureBits: -logNormalCdf((s - mu) / sd) / Math.LN2 } : null,
  };
}

/**
 * Scores every candidate of the canary under the model (all share the prefix; they run as
 * batches of prefix + candidate) and ranks the secret.
 */
export async function canaryExposure(model: LossModel, canary: CanarySpec, options: Pick<TokenLossOptions, 'maxBatchTokens' | 'onProgress'> & { top?: number } = {}): Promise<CanaryExposure> {
  const prefixIds = encode(canary.prefix);
  const sequences = canary.candidates.map((c) => {
    const ids = encode(`${canary.prefix} ${c}`);
    // GPT-2's pre-tokenizer splits before a space, so the prefix's tokens come first unchanged;
    // if they did not, the candidate would be scored against a different context.
    if (ids.length <= prefixIds.length || prefixIds.some((t, i) => ids[i] !== t)) throw new Error(`canary candidate "${c}" does not tokenize as the prefix followed by its own tokens`);
    return ids;
  });
  // Rows are trained as <|endoftext|> text <|endoftext|>: the secret is scored the way it was seen,
  // at the start of a document (without it, a memorised row's first words look unlikely).
  const documents = sequences.map((ids) => [END_OF_TEXT_ID, ...ids]);
  const losses = await tokenLosses(model, documents, { ...options, fromToken: prefixIds.length + 1 });
  const logPerplexities = losses.map(sum);
  const secretIndex = canary.candidates.indexOf(canary.secret);
  const numbers = exposureFromLogPerplexities(logPerplexities, secretIndex);
  const order = logPerplexities.map((_, i) => i).sort((a, b) => logPerplexities[a] - logPerplexities[b] || a - b);
  return {
    prefix: canary.prefix,
    secret: canary.secret,
    secretLogPerplexity: logPerplexities[secretIndex],
    ...numbers,
    logPerplexities,
    top: order.slice(0, options.top ?? 10).map((i) => ({ text: canary.candidates[i], logPerplexity: logPerplexities[i] })),
    prefixTokens: prefixIds.length,
  };
}

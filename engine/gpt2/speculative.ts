// Greedy decoding of one prompt by speculation: an int8 draft of the model (draft-graph.ts) guesses
// the next few tokens one at a time, cheaply, and the float32 model scores all the guesses in one
// pass. Every guess up to the first the float32 model disagrees with is kept, and that pass's own
// choice after them comes for free, so each float32 pass yields 1 to k + 1 tokens, all of them the
// float32 model's argmax: the draft changes the speed, never the tokens.
//
// Why it pays at batch 1: a decode step reads every weight once to compute one row, so it is
// bound by memory bandwidth; scoring k + 1 rows reads the same bytes. The draft reads a quarter of
// them. Both share one cache of the float32 model's keys and values, so the draft guesses from
// exact history, the draft reads no prompt of its own, and a rejected guess is dropped by moving
// the cache's length back.
import { KvCache, stepFeeds } from './kv-cache.ts';
import type { Gpt2Model } from './model.ts';

/**
 * Most guesses per float32 pass. The number adapts between 1 and this: one more after a pass
 * that kept every guess, one fewer after one that did not, so a draft that agrees often guesses
 * far ahead and one that does not costs about one draft step (~0.4 of a float32 step on GPT-2
 * small) per token. With the bench's draft keeping 87–93 % of its guesses, 5 to 8 were within a
 * few percent of each other.
 */
export const DRAFT_TOKENS = 8;
/** Guesses in the first pass, before the draft has shown how well it agrees. */
const FIRST_GUESSES = 4;

export interface SpeculativeOptions {
  maxNewTokens: number;
  stopToken: number | null;
  /** Prompt positions per pass while reading the prompt. */
  prefillSlice: number;
  /** Most guesses per pass (default DRAFT_TOKENS); 0 checks every token alone, as plain decoding. */
  draftTokens?: number;
}

export interface SpeculativeResult {
  tokens: number[][];
  finish: ('stop' | 'length')[];
  /** Float32 passes after the prompt, and guesses kept of those proposed: how well the draft did. */
  speculation: { checks: number; proposed: number; accepted: number };
}

const NO_PAD = [0];

export async function speculativeGreedy(model: Gpt2Model, draft: Gpt2Model, prompt: readonly number[], options: SpeculativeOptions): Promise<SpeculativeResult> {
  const most = options.draftTokens ?? DRAFT_TOKENS;
  if (!Number.isInteger(most) || most < 0) throw new RangeError(`draft tokens must be a non-negative integer, got ${most}`);
  let k = Math.min(most, FIRST_GUESSES);
  // The two share one cache and one vocabulary: every size that shapes them must agree.
  const sizes = (c: typeof model.config) => [c.vocabSize, c.nLayer, c.nHead, c.nEmbd, c.nPositions].join();
  if (sizes(draft.config) !== sizes(model.config)) throw new Error('the draft is not a copy of this model');
  const S = prompt.length + options.maxNewTokens - 1; // the last token is never fed back
  // One cache: slots below `verified` hold the float32 model's keys and values; the draft attends
  // over them and writes its own guesses' past them, where the check's exact ones replace those
  // it keeps (the rest are masked, then overwritten).
  const cache = new KvCache(model.config, 1, S);
  const seq = [...prompt];
  const tokens: number[] = [];
  const stats = { checks: 0, proposed: 0, accepted: 0 };
  // The prompt but its last token, which the first check and the first guess feed.
  let verified = await prefill(model, cache, seq.slice(0, -1), options.prefillSlice);

  while (tokens.length < options.maxNewTokens) {
    const guesses = Math.min(k, options.maxNewTokens - tokens.length - 1);
    const proposed: number[] = [];
    let last = seq[seq.length - 1];
    while (proposed.length < guesses) {
      const slot = verified + proposed.length;
      const out = await draft.run('cached', { ...stepFeeds([[last]], slot, NO_PAD, S), ...cache.feeds }, 'greedy');
      cache.write(out, 1, slot);
      last = Number((out.greedy.data as BigInt64Array)[0]);
      proposed.push(last);
      if (last === options.stopToken) break; // nothing after a stop is wanted
    }
    // One float32 pass over the last kept token and the guesses: its argmax at each position.
    const block = [seq[seq.length - 1], ...proposed];
    const out = await model.run('cached', { ...stepFeeds([block], verified, NO_PAD, S), ...cache.feeds }, 'greedy', 'all');
    const choice = out.greedy.data as BigInt64Array;
    let kept = 0;
    while (kept < proposed.length && proposed[kept] === Number(choice[kept])) kept++;
    const fresh = [...proposed.slice(0, kept), Number(choice[kept])];
    k = kept === proposed.length ? Math.min(most, k + 1) : Math.max(Math.min(most, 1), k - 1);
    stats.checks++;
    stats.proposed += proposed.length;
    stats.accepted += kept;
    // The cache keeps the positions whose tokens stay: the fed token and the kept guesses.
    if (verified + kept + 1 <= S) cache.write(out, block.length, verified, kept + 1);
    verified += kept + 1;
    for (const id of fresh) {
      if (id === options.stopToken) return { tokens: [tokens], finish: ['stop'], speculation: stats };
      tokens.push(id);
      seq.push(id);
      if (tokens.length === options.maxNewTokens) break;
    }
  }
  return { tokens: [tokens], finish: ['length'], speculation: stats };
}

/** Feeds `ids` into the cache from slot 0, `slice` positions per pass; returns the cache length. */
async function prefill(model: Gpt2Model, cache: KvCache, ids: readonly number[], slice: number): Promise<number> {
  for (let start = 0; start < ids.length; start += slice) {
    const chunk = ids.slice(start, start + slice);
    // The argmax is the smallest thing the head can return; it is not used.
    const out = await model.run('cached', { ...stepFeeds([chunk], start, NO_PAD, cache.S), ...cache.feeds }, 'greedy');
    cache.write(out, chunk.length, start);
  }
  return ids.length;
}

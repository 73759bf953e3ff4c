// Alternatives for a data owner's canary, so that its exposure (Carlini et al. 2019) can be
// measured whatever the sentence: the rank of the true continuation among others "of the same
// form". When the sentence ends with a condition of the grammar in canary-candidates.ts ("a severe
// form of pancreatic cancer"), its 1,200 fillings are used. Otherwise each alternative keeps the secret's
// shape and swaps its content: every word becomes a random GPT-2 word of about the same length
// (capitalised like the original), every digit a random digit, punctuation and spacing stay. A
// fixed seed draws them, so the same canary is ranked against the same alternatives every time.
import { SecureStream } from '../random/secure-stream.ts';
import { canarySpec, conditionCanary, conditionFillings, type CanarySpec } from './canary-candidates.ts';
import { canaryWordTexts } from './inserted-canaries.ts';

export const OWNER_CANARY_ALTERNATIVES = 1999;

export function ownerCanarySpec(prompt: string, secret: string, alternatives = OWNER_CANARY_ALTERNATIVES, seed = 'veil-owner-canary'): CanarySpec {
  if (!secret.startsWith(`${prompt} `)) throw new Error('the secret must start with the prompt followed by a space');
  const continuation = secret.slice(prompt.length + 1).trim();
  const sentence = secret.trim().replace(/[.!]$/, '');
  const condition = conditionFillings().find((f) => sentence.endsWith(` ${f}`) && sentence.length - f.length - 1 >= prompt.length);
  if (condition) return conditionCanary(sentence);

  const pieces = continuation.match(/\p{L}+|\p{N}|[^\p{L}\p{N}]+/gu) ?? [];
  const byLength = wordsByLength();
  const rng = SecureStream.fromSeed(`${seed}/${continuation}`, 'owner-canary-alternatives');
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng.nextDouble() * xs.length)];
  const out = new Set<string>([continuation]);
  for (let attempt = 0; out.size <= alternatives && attempt < alternatives * 20; attempt++) {
    const text = pieces
      .map((p) => {
        if (/^\p{N}$/u.test(p)) return String(Math.floor(rng.nextDouble() * 10));
        if (!/^\p{L}+$/u.test(p)) return p;
        const word = pick(byLength[Math.min(Math.max(p.length, 3), 10)]);
        return p[0] === p[0].toUpperCase() && p[0] !== p[0].toLowerCase() ? word[0].toUpperCase() + word.slice(1) : word;
      })
      .join('');
    out.add(text);
  }
  if (out.size < 1000) throw new Error('this canary has too little content to vary (fewer than 1,000 distinct alternatives of its form): add words or digits after the prompt');
  // The secret first, then the alternatives: canarySpec checks it is there exactly once.
  return canarySpec(prompt, continuation, [...out]);
}

let buckets: string[][] | undefined;
function wordsByLength(): string[][] {
  if (!buckets) {
    buckets = Array.from({ length: 11 }, () => []);
    for (const w of canaryWordTexts()) buckets[w.length].push(w);
  }
  return buckets;
}

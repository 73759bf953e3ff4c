// Inserted canaries: Veil's own random strings, each put into the training set with probability ½,
// so that the one-run audit (one-run-bound.ts) can measure how much any single training slot shows
// through the trained model.
//
// A canary is a fresh random sequence of ordinary GPT-2 word tokens (" word" tokens of letters only,
// so it reads as nonsense text, not as bytes): no real row can contain it by chance, and it says
// nothing about anyone. Texts and inclusion bits come from a keyed ChaCha20 stream (the job's key,
// see activities/training/prepare-data.ts), so they are fixed for the job and a retry draws the same.
//
// How the slots are counted: the m canaries are m extra training slots appended after the real
// rows' slots, whether or not each canary was included (an excluded canary is an empty slot, like a
// real row that the preprocessing rejected). So the sampling rate is q = batchSize / (N + m) with N
// the real training slots, the accountant sees every slot it samples from, and the real rows'
// guarantee is the (ε, δ) the accountant reports for that q: per slot, unaffected by what the
// canary slots hold.
import { SecureStream } from '../random/secure-stream.ts';
import { decode, encode, gpt2TokenBytes } from '../tokenizer/gpt2-tokenizer.ts';
import { oneRunEpsilonLowerBound } from './one-run-bound.ts';

export interface InsertedCanary {
  text: string;
  included: boolean;
}

/** Word tokens a canary draws from: a space then 3–10 lowercase letters (tens of thousands). */
let wordTokens: number[] | undefined;
function canaryWordTokens(): number[] {
  if (!wordTokens) {
    const latin1 = new TextDecoder('latin1');
    wordTokens = [];
    gpt2TokenBytes().forEach((bytes, id) => {
      if (/^ [a-z]{3,10}$/.test(latin1.decode(bytes))) wordTokens!.push(id);
    });
  }
  return wordTokens;
}

/** The words themselves (no leading space), for alternatives of an owner's canary. */
export function canaryWordTexts(): string[] {
  const latin1 = new TextDecoder('latin1');
  const bytes = gpt2TokenBytes();
  return canaryWordTokens().map((id) => latin1.decode(bytes[id]).slice(1));
}

export const CANARY_WORDS = 10;

/** m canaries of `words` random word tokens each, included independently with probability ½. */
export function drawInsertedCanaries(key: Uint8Array, m: number, words = CANARY_WORDS): InsertedCanary[] {
  if (!Number.isSafeInteger(m) || m < 0) throw new RangeError(`canary count must be a non-negative integer, got ${m}`);
  const pool = canaryWordTokens();
  const rng = new SecureStream(key);
  const out: InsertedCanary[] = [];
  const seen = new Set<string>();
  while (out.length < m) {
    const ids = Array.from({ length: words }, () => pool[Math.floor(rng.nextDouble() * pool.length)]);
    const text = decode(ids).trim();
    if (seen.has(text)) continue;
    seen.add(text);
    out.push({ text, included: rng.nextDouble() < 0.5 });
  }
  return out;
}

/** The token ids a canary slot holds when included: the same <|endoftext|> layout as a row. */
export function canaryTokens(text: string, endOfText: number): number[] {
  return [endOfText, ...encode(text), endOfText];
}

export interface GuessPlan {
  /** Guesses made: the k canaries of lowest loss are called included, the k of highest loss excluded. */
  k: number;
  guesses: number;
  correct: number;
  epsilonLowerBound: number;
}

export interface OneRunAudit {
  method: 'Steinke, Nasr & Jagielski 2023 (one run, abstaining guesses)';
  canaries: number;
  included: number;
  confidence: number;
  delta: number;
  /** The guess sizes tried; each is tested at (1 − confidence) / plans (Bonferroni), so the best stands at `confidence`. */
  plans: GuessPlan[];
  /** The best plan's bound: a valid lower bound on ε at `confidence` for any (ε, δ) guarantee of the training. */
  epsilonLowerBound: number;
  /** Mean loss of included and excluded canaries (nats per token). */
  meanLoss: { included: number; excluded: number };
}

/** Fractions of m guessed on each side; fixed in advance (the bound would not hold if chosen after looking). */
export const GUESS_FRACTIONS = [0.05, 0.1, 0.25, 0.5] as const;

/**
 * Guesses from the canaries' losses (lower loss: more likely trained on), for each planned k the
 * k lowest called included and the k highest excluded, and the bound from the best plan.
 */
export function oneRunAudit(losses: readonly number[], included: readonly boolean[], delta: number, confidence = 0.95): OneRunAudit {
  const m = losses.length;
  if (included.length !== m) throw new RangeError('one loss per canary');
  if (losses.some((l) => Number.isNaN(l))) throw new RangeError('a canary loss is NaN');
  const order = losses.map((_, i) => i).sort((a, b) => losses[a] - losses[b] || a - b);
  const ks = [...new Set(GUESS_FRACTIONS.map((f) => Math.floor(f * m)).filter((k) => k >= 1))];
  const perPlan = 1 - (1 - confidence) / Math.max(1, ks.length);
  const plans = ks.map((k) => {
    let correct = 0;
    for (let j = 0; j < k; j++) if (included[order[j]]) correct++;
    for (let j = m - k; j < m; j++) if (!included[order[j]]) correct++;
    return { k, guesses: 2 * k, correct, epsilonLowerBound: oneRunEpsilonLowerBound(m, 2 * k, correct, delta, perPlan) };
  });
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
  return {
    method: 'Steinke, Nasr & Jagielski 2023 (one run, abstaining guesses)',
    canaries: m,
    included: included.filter(Boolean).length,
    confidence,
    delta,
    plans,
    epsilonLowerBound: plans.reduce((best, p) => Math.max(best, p.epsilonLowerBound), 0),
    meanLoss: { included: mean(losses.filter((_, i) => included[i])), excluded: mean(losses.filter((_, i) => !included[i])) },
  };
}

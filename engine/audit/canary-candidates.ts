// The alternatives a planted secret is ranked against (Carlini et al. 2019, "The Secret Sharer"):
// the secret has a format with a slot, and the rank of the true filling among many others tells
// how much more likely the model finds it than chance would. For the demo's secret, "<patient>
// suffers from a severe form of pancreatic cancer", the slot is the condition, filled from a
// deterministic grammar: severity × site × disease (10 × 15 × 8 = 1,200 fillings, every one a
// plausible phrase of the same shape, the true one among them exactly once).

/** A secret in a fixed format: `prefix + ' ' + candidate`, the candidates containing `secret` once. */
export interface CanarySpec {
  /** The text every candidate follows (no trailing space), e.g. "François Dupont suffers from". */
  prefix: string;
  /** The true filling, e.g. "a severe form of pancreatic cancer". */
  secret: string;
  /** Every filling ranked, the secret included exactly once; unique. */
  candidates: readonly string[];
}

export const CONDITION_SEVERITIES = ['severe', 'mild', 'moderate', 'rare', 'aggressive', 'chronic', 'acute', 'advanced', 'early', 'hereditary'] as const;
export const CONDITION_SITES = [
  'pancreatic', 'renal', 'hepatic', 'pulmonary', 'gastric', 'cardiac', 'colorectal', 'thyroid',
  'ovarian', 'prostate', 'bladder', 'cerebral', 'esophageal', 'adrenal', 'lymphatic',
] as const;
export const CONDITION_NOUNS = ['cancer', 'failure', 'fibrosis', 'inflammation', 'insufficiency', 'disease', 'carcinoma', 'infection'] as const;

/** "a(n) <severity> form of <site> <disease>" for every combination, in a fixed order. */
export function conditionFillings(): string[] {
  const out: string[] = [];
  for (const severity of CONDITION_SEVERITIES) {
    for (const site of CONDITION_SITES) {
      const article = /^[aeiou]/.test(severity) ? 'an' : 'a';
      for (const noun of CONDITION_NOUNS) out.push(`${article} ${severity} form of ${site} ${noun}`);
    }
  }
  return out;
}

/**
 * The canary of a secret sentence that ends with one of the condition fillings, e.g.
 * "François Dupont suffers from a severe form of pancreatic cancer": the prefix is what comes
 * before the filling. Throws when the sentence ends with none of them.
 */
export function conditionCanary(secretSentence: string): CanarySpec {
  const sentence = secretSentence.trim().replace(/[.!]$/, '');
  const fillings = conditionFillings();
  const secret = fillings.find((f) => sentence.endsWith(` ${f}`));
  if (!secret) throw new Error('the secret does not end with a condition of the form "a(n) <severity> form of <site> <disease>"; pass the candidates explicitly');
  return canarySpec(sentence.slice(0, sentence.length - secret.length - 1), secret, fillings);
}

/** Checks and builds a CanarySpec: unique candidates, the secret among them exactly once, at least two. */
export function canarySpec(prefix: string, secret: string, candidates: readonly string[]): CanarySpec {
  if (prefix.length === 0 || /\s$/.test(prefix)) throw new Error('canary prefix must be non-empty without trailing whitespace');
  const unique = new Set(candidates);
  if (unique.size !== candidates.length) throw new Error(`canary candidates are not unique (${candidates.length - unique.size} repeats)`);
  if (candidates.length < 2) throw new Error('a canary needs at least two candidates');
  if (!unique.has(secret)) throw new Error('the secret is not among the canary candidates');
  for (const c of candidates) if (c.length === 0 || /^\s|\s$/.test(c)) throw new Error(`canary candidate "${c}" is empty or has surrounding whitespace`);
  return { prefix, secret, candidates: [...candidates] };
}

// What an accountant remembers: the run's steps as (sampling rate, noise multiplier, count)
// entries, consecutive identical steps merged (as Opacus does). This is the whole accountant
// state: ε is recomputed from it, so it is what goes into checkpoints.
import { PrivacyInputError } from './errors.ts';
import { checkNoiseMultiplier, checkSampleRate, checkSteps } from './validate.ts';

export interface CompositionEntry {
  sampleRate: number;
  noiseMultiplier: number;
  steps: number;
}

/** Steps sharing one (q, σ), wherever they occur in the run (composition is commutative). */
export interface CompositionGroup extends CompositionEntry {
  key: string;
}

export class CompositionHistory {
  private readonly list: CompositionEntry[] = [];

  /** Records `count` steps at (q, σ); validates them (throws PrivacyInputError). */
  add(sampleRate: number, noiseMultiplier: number, count = 1): void {
    const q = checkSampleRate(sampleRate);
    const sigma = checkNoiseMultiplier(noiseMultiplier);
    const steps = checkSteps(count, 'count');
    const last = this.list.at(-1);
    if (last && last.sampleRate === q && last.noiseMultiplier === sigma) {
      const merged = last.steps + steps;
      if (!Number.isSafeInteger(merged)) throw new PrivacyInputError('count', `a total ≤ ${Number.MAX_SAFE_INTEGER}`, 'overflows the step counter');
      last.steps = merged;
    } else {
      this.list.push({ sampleRate: q, noiseMultiplier: sigma, steps });
    }
  }

  get entries(): readonly CompositionEntry[] {
    return this.list.map((e) => ({ ...e }));
  }

  get totalSteps(): number {
    return this.list.reduce((sum, e) => sum + e.steps, 0);
  }

  get isEmpty(): boolean {
    return this.list.length === 0;
  }

  /** Entries with equal (q, σ) merged, in order of first appearance. */
  groups(): CompositionGroup[] {
    const byKey = new Map<string, CompositionGroup>();
    for (const e of this.list) {
      const key = groupKey(e.sampleRate, e.noiseMultiplier);
      const group = byKey.get(key);
      if (group) group.steps += e.steps;
      else byKey.set(key, { ...e, key });
    }
    return [...byKey.values()];
  }

  /** Rebuilds a history from its JSON form, validating every field; `where` prefixes error names. */
  static fromJSON(raw: unknown, where: string): CompositionHistory {
    if (!Array.isArray(raw)) throw new PrivacyInputError(where, 'an array', 'must be an array of {sampleRate, noiseMultiplier, steps}');
    const history = new CompositionHistory();
    raw.forEach((entry: unknown, i) => {
      if (typeof entry !== 'object' || entry === null) throw new PrivacyInputError(`${where}[${i}]`, 'an object', 'must be an object');
      const e = entry as Record<string, unknown>;
      history.list.push({
        sampleRate: checkSampleRate(e.sampleRate, `${where}[${i}].sampleRate`),
        noiseMultiplier: checkNoiseMultiplier(e.noiseMultiplier, `${where}[${i}].noiseMultiplier`),
        steps: checkSteps(e.steps, `${where}[${i}].steps`),
      });
    });
    return history;
  }

  toJSON(): CompositionEntry[] {
    return this.list.map((e) => ({ sampleRate: e.sampleRate, noiseMultiplier: e.noiseMultiplier, steps: e.steps }));
  }
}

export function groupKey(sampleRate: number, noiseMultiplier: number): string {
  return `${sampleRate}|${noiseMultiplier}`;
}

// Model lineage: a model fine-tuned from a registered model carries everything that model learned.
// Its guarantee composes along the chain: per dataset, the ε and δ of every link that trained on
// it add up (basic composition); a link trained without DP makes the whole model non-DP. The
// release check reads the composed guarantee, never the last run's alone, so a non-DP model
// cannot be laundered into a "DP" one by a short DP run on top of it.
import { z } from 'zod';

export const lineageLinkSchema = z.object({
  modelId: z.string(),
  analyst: z.string(),
  dataset: z.object({ name: z.string(), version: z.number() }),
  epsilon: z.union([z.number(), z.literal('unlimited')]),
  delta: z.number().nullable(),
});
export type LineageLink = z.output<typeof lineageLinkSchema>;

/** The guarantee of a whole chain: per dataset (name@version), and its worst dataset for releases. */
export interface ComposedGuarantee {
  perDataset: Record<string, { epsilon: number | 'unlimited'; delta: number }>;
  /** The largest per-dataset ε ('unlimited' when any link is not DP): what a release is checked against. */
  epsilon: number | 'unlimited';
  delta: number;
}

export function composeLineage(chain: readonly LineageLink[]): ComposedGuarantee {
  const perDataset: ComposedGuarantee['perDataset'] = {};
  for (const link of chain) {
    const key = `${link.dataset.name}@${link.dataset.version}`;
    const prev = perDataset[key] ?? { epsilon: 0, delta: 0 };
    perDataset[key] = {
      epsilon: prev.epsilon === 'unlimited' || link.epsilon === 'unlimited' ? 'unlimited' : prev.epsilon + link.epsilon,
      delta: prev.delta + (link.delta ?? 0),
    };
  }
  const all = Object.values(perDataset);
  const epsilon = all.some((g) => g.epsilon === 'unlimited') ? 'unlimited' : Math.max(0, ...all.map((g) => g.epsilon as number));
  return { perDataset, epsilon, delta: Math.max(0, ...all.map((g) => g.delta)) };
}

// The privacy audit of one model: the extraction attack, the canary's exposure and loss-based
// membership inference, run in that order with their timings. Pure computation over a model and
// token rows; where the rows come from and where the result goes is the caller's business.
import { SecureStream } from '../random/secure-stream.ts';
import type { Gpt2Model } from '../gpt2/model.ts';
import type { CanarySpec } from './canary-candidates.ts';
import { canaryExposure, type CanaryExposure } from './exposure.ts';
import { extractionAttack, type Extraction, type ExtractionSpec } from './extraction.ts';
import { countInto, histogram, sharedEdges, type Histogram } from './histogram.ts';
import { membershipInference, type MembershipInference } from './membership.ts';
import { rowLosses, type LossModel } from './sequence-loss.ts';

export type AuditPhase = 'extraction' | 'canary' | 'membership';

export interface PrivacyAuditInput {
  extraction: Omit<ExtractionSpec, 'seed'>;
  canary: CanarySpec;
  /** Token ids of the training rows (members) and of held-out rows (non-members). */
  trainRows: readonly ArrayLike<number>[];
  testRows: readonly ArrayLike<number>[];
  /** Rows scored per side, drawn without replacement by `seed` (default 500). */
  maxRowsPerSide?: number;
  /** Seeds the row sample and the extraction's sampling (default 'veil-audit'): the audit is reproducible. */
  seed?: string;
  fprTargets?: readonly number[];
  maxBatchTokens?: number;
  histogramBins?: number;
  onProgress?: (phase: AuditPhase, done: number, total: number) => void;
}

export interface PrivacyAudit {
  extraction: Extraction;
  canary: Omit<CanaryExposure, 'logPerplexities'> & { logPerplexities: number[]; histogram: Histogram };
  membership: MembershipInference & {
    histogram: { edges: number[]; members: number[]; nonMembers: number[] };
    trainRowsAvailable: number;
    testRowsAvailable: number;
  };
  timingsMs: Record<AuditPhase | 'total', number>;
  settings: { seed: string; maxRowsPerSide: number; extractionSamples: number; canaryCandidates: number };
}

export const DEFAULT_AUDIT_SEED = 'veil-audit';
const DEFAULT_ROWS_PER_SIDE = 500;
const DEFAULT_BINS = 30;

/**
 * `generator` samples (a Gpt2Model: it holds the cached generation graph); `scorer` computes
 * losses (a SequenceScorer is the fast choice; the same Gpt2Model works, slower).
 */
export async function runPrivacyAudit(models: { generator: Gpt2Model; scorer: LossModel }, input: PrivacyAuditInput): Promise<PrivacyAudit> {
  const seed = input.seed ?? DEFAULT_AUDIT_SEED;
  const maxRows = input.maxRowsPerSide ?? DEFAULT_ROWS_PER_SIDE;
  const bins = input.histogramBins ?? DEFAULT_BINS;
  const started = performance.now();
  const timingsMs: PrivacyAudit['timingsMs'] = { extraction: 0, canary: 0, membership: 0, total: 0 };
  const progress = (phase: AuditPhase) => (done: number, total: number) => input.onProgress?.(phase, done, total);

  let t = performance.now();
  input.onProgress?.('extraction', 0, 1);
  const extraction = await extractionAttack(models.generator, { ...input.extraction, seed });
  timingsMs.extraction = performance.now() - t;

  t = performance.now();
  const exposure = await canaryExposure(models.scorer, input.canary, { maxBatchTokens: input.maxBatchTokens, onProgress: progress('canary') });
  const canary = { ...exposure, logPerplexities: exposure.logPerplexities.map(round4), histogram: histogram(exposure.logPerplexities, bins) };
  timingsMs.canary = performance.now() - t;

  t = performance.now();
  const members = pick(input.trainRows, maxRows, `${seed}/members`);
  const nonMembers = pick(input.testRows, maxRows, `${seed}/non-members`);
  const losses = await rowLosses(models.scorer, [...members, ...nonMembers], { maxBatchTokens: input.maxBatchTokens, onProgress: progress('membership') });
  const memberLosses = losses.slice(0, members.length);
  const nonMemberLosses = losses.slice(members.length);
  const edges = sharedEdges([memberLosses, nonMemberLosses], bins);
  const membership = {
    ...membershipInference(memberLosses, nonMemberLosses, input.fprTargets),
    histogram: { edges, members: countInto(memberLosses, edges), nonMembers: countInto(nonMemberLosses, edges) },
    trainRowsAvailable: input.trainRows.length,
    testRowsAvailable: input.testRows.length,
  };
  timingsMs.membership = performance.now() - t;
  timingsMs.total = performance.now() - started;

  return {
    extraction,
    canary,
    membership,
    timingsMs,
    settings: { seed, maxRowsPerSide: maxRows, extractionSamples: extraction.sampled.length, canaryCandidates: input.canary.candidates.length },
  };
}

/** Up to k rows drawn without replacement (partial Fisher–Yates on a seeded stream), in their original order. */
export function pick<T>(rows: readonly T[], k: number, seed: string): T[] {
  if (rows.length <= k) return [...rows];
  const order = rows.map((_, i) => i);
  const rng = SecureStream.fromSeed(seed, 'audit-rows');
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(rng.nextDouble() * (order.length - i));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order.slice(0, k).sort((a, b) => a - b).map((i) => rows[i]);
}

function round4(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}

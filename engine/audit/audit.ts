// The privacy audit of one model: for each of the data owner's canaries the extraction attack and
// its exposure, loss-based membership inference, and the one-run ε lower bound from Veil's inserted
// canaries, with their timings. Pure computation over a model and token rows; where the rows come
// from and where the result goes is the caller's business.
import { SecureStream } from '../random/secure-stream.ts';
import type { Gpt2Model } from '../gpt2/model.ts';
import { canaryExposure, type CanaryExposure } from './exposure.ts';
import { extractionAttack, type Extraction } from './extraction.ts';
import { countInto, histogram, sharedEdges, type Histogram } from './histogram.ts';
import { oneRunAudit, type OneRunAudit } from './inserted-canaries.ts';
import { membershipInference, type MembershipInference } from './membership.ts';
import { ownerCanarySpec } from './owner-canary-candidates.ts';
import { rowLosses, type LossModel } from './sequence-loss.ts';

export type AuditPhase = 'extraction' | 'canary' | 'membership' | 'inserted';

export interface PrivacyAuditInput {
  /** The data owner's canaries: `secret` is the whole sentence, `prompt` its beginning. */
  canaries: readonly { prompt: string; secret: string }[];
  /** Token ids of the training rows (members) and of held-out rows (non-members). */
  trainRows: readonly ArrayLike<number>[];
  testRows: readonly ArrayLike<number>[];
  /** Veil's inserted canaries (their token rows, whether each was trained on) and the δ of the bound. */
  inserted?: { rows: readonly ArrayLike<number>[]; included: readonly boolean[]; delta: number };
  /** Rows scored per side, drawn without replacement by `seed` (default 500). */
  maxRowsPerSide?: number;
  /** Seeds the row sample and the extraction's sampling (default 'veil-audit'): the audit is reproducible. */
  seed?: string;
  extractionSamples?: number;
  fprTargets?: readonly number[];
  maxBatchTokens?: number;
  histogramBins?: number;
  onProgress?: (phase: AuditPhase, done: number, total: number) => void;
}

export interface OwnerCanaryAudit {
  prompt: string;
  extraction: Extraction;
  exposure: Omit<CanaryExposure, 'logPerplexities'> & { histogram: Histogram };
}

export interface PrivacyAudit {
  ownerCanaries: OwnerCanaryAudit[];
  membership: MembershipInference & {
    histogram: { edges: number[]; members: number[]; nonMembers: number[] };
    trainRowsAvailable: number;
    testRowsAvailable: number;
  };
  /** The one-run ε lower bound; null when the job inserted no canaries. */
  oneRun: (OneRunAudit & { losses: number[] }) | null;
  timingsMs: Record<AuditPhase | 'total', number>;
  settings: { seed: string; maxRowsPerSide: number; extractionSamples: number };
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
  const samples = input.extractionSamples ?? 5;
  const started = performance.now();
  const timingsMs: PrivacyAudit['timingsMs'] = { extraction: 0, canary: 0, membership: 0, inserted: 0, total: 0 };
  const progress = (phase: AuditPhase) => (done: number, total: number) => input.onProgress?.(phase, done, total);

  const ownerCanaries: OwnerCanaryAudit[] = [];
  for (const c of input.canaries) {
    let t = performance.now();
    input.onProgress?.('extraction', ownerCanaries.length, input.canaries.length);
    const extraction = await extractionAttack(models.generator, { prefix: c.prompt, secret: c.secret, samples, seed });
    timingsMs.extraction += performance.now() - t;
    t = performance.now();
    const { logPerplexities, ...exposure } = await canaryExposure(models.scorer, ownerCanarySpec(c.prompt, c.secret), { maxBatchTokens: input.maxBatchTokens, onProgress: progress('canary') });
    ownerCanaries.push({ prompt: c.prompt, extraction, exposure: { ...exposure, histogram: histogram(logPerplexities, bins) } });
    timingsMs.canary += performance.now() - t;
  }

  let t = performance.now();
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

  t = performance.now();
  let oneRun: PrivacyAudit['oneRun'] = null;
  if (input.inserted && input.inserted.rows.length > 0) {
    const canaryLosses = await rowLosses(models.scorer, input.inserted.rows, { maxBatchTokens: input.maxBatchTokens, onProgress: progress('inserted') });
    oneRun = { ...oneRunAudit(canaryLosses, input.inserted.included, input.inserted.delta), losses: canaryLosses.map(round4) };
  }
  timingsMs.inserted = performance.now() - t;
  timingsMs.total = performance.now() - started;

  return { ownerCanaries, membership, oneRun, timingsMs, settings: { seed, maxRowsPerSide: maxRows, extractionSamples: samples } };
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

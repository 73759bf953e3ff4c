// audit.json: the audit's numbers with the model's privacy metadata, who may read what, and a
// short list of findings in words.
//
// Who may see it. Every number here is computed from raw training and held-out rows and none is
// a differentially private release: ε does not cover them. The document itself (extraction
// completions that may reproduce private text, the planted secret, loss histograms and the ROC
// of private rows) is for the data owner. Analysts get `summary` only: a handful of aggregate
// numbers, rounded, for a DP model (a non-DP model is not theirs to see in the first place, unless
// privileged). Each moves by O(1/n) when one row changes, so rounding leaves little to learn
// about any row; that is a policy choice, not a DP guarantee, and it is stated in `access`.
import type { PrivacyAudit } from './audit.ts';

export const AUDIT_FORMAT = 'veil-audit/2';

export interface AuditedModel {
  modelId: string;
  /** 'unlimited' for a model trained without DP. */
  epsilon: number | 'unlimited';
  delta: number | null;
  base?: string;
  dataset?: { name: string; version: number };
  trainRows?: number;
}

/** One owner canary in the owner's summary. */
export interface OwnerCanarySummary {
  prompt: string;
  greedyContainsSecret: boolean;
  fullMatches: number;
  completions: number;
  rank: number;
  candidates: number;
  exposureBits: number;
  maxExposureBits: number;
}

/** The one-run ε lower bound, and whether it contradicts the ε Veil reported (a bug if so). */
export interface OneRunSummary {
  canaries: number;
  epsilonLowerBound: number;
  confidence: number;
  /** The lower bound exceeds the reported ε: the job fails its audit. Always false without DP. */
  exceedsReportedEpsilon: boolean;
}

/**
 * What an analyst may see of an audit. Per-canary results name the owner's secrets' prompts and
 * say which of them a model gives back: the owner's only; the analyst gets how many canaries there
 * were and how many leaked (functions of the model alone). Membership inference scores private
 * training and held-out rows, so for a DP model its AUC is not a DP statistic and stays with the
 * owner; a non-DP model's analyst (privileged) sees it. The one-run bound uses Veil's own canaries
 * only: everyone sees it.
 */
export interface AnalystAuditSummary {
  [key: string]: unknown;
  modelId: string;
  epsilon: number | 'unlimited';
  delta: number | null;
  ownerCanaries: { count: number; greedyLeaks: number; anyLeaks: number; details?: OwnerCanarySummary[] };
  oneRun: OneRunSummary | null;
  /** The audit contradicts the model's guarantee (see OneRunSummary.exceedsReportedEpsilon). */
  failed: boolean;
  membership?: AuditSummary['membership'];
}

export interface AuditSummary extends AnalystAuditSummary {
  ownerCanaries: AnalystAuditSummary['ownerCanaries'] & { details: OwnerCanarySummary[] };
  membership: { auc: number; auc95: [number, number]; tprAt1PctFpr: number | null; members: number; nonMembers: number };
}

/** The analyst's view of an audit summary (see AnalystAuditSummary). */
export function analystAuditSummary(summary: AuditSummary): AnalystAuditSummary {
  const { membership, ownerCanaries, ...rest } = summary;
  const { details: _ownerOnly, ...counts } = ownerCanaries;
  return summary.epsilon === 'unlimited' ? { ...rest, ownerCanaries: counts, membership } : { ...rest, ownerCanaries: counts };
}

export interface AuditDocument extends PrivacyAudit {
  format: typeof AUDIT_FORMAT;
  createdAt: string;
  model: AuditedModel;
  access: {
    audience: 'data-owner';
    differentiallyPrivate: false;
    why: string;
    analystView: string;
  };
  summary: AuditSummary;
  findings: string[];
}

const ACCESS = {
  audience: 'data-owner',
  differentiallyPrivate: false,
  why: 'Computed from raw training and held-out rows and from the data owner\'s secret canaries: the completions can reproduce private text, and the loss histograms and ROC describe private rows. Not covered by the model\'s epsilon.',
  analystView: 'The analyst sees how many owner canaries there are and how many leaked (no prompt, no per-canary result), the one-run ε lower bound (Veil\'s own public canaries), and membership inference only for a non-DP model.',
} as const;

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

export function auditSummary(model: AuditedModel, audit: PrivacyAudit): AuditSummary {
  const at1 = audit.membership.tprAtFpr.find((r) => r.targetFpr === 0.01);
  const details = audit.ownerCanaries.map((c) => ({
    prompt: c.prompt,
    greedyContainsSecret: c.extraction.greedy.containsSecret,
    fullMatches: c.extraction.fullMatches,
    completions: c.extraction.completions,
    rank: c.exposure.rank,
    candidates: c.exposure.candidates,
    exposureBits: round(c.exposure.exposureBits, 1),
    maxExposureBits: round(c.exposure.maxExposureBits, 1),
  }));
  const oneRun = audit.oneRun
    ? {
        canaries: audit.oneRun.canaries,
        // Rounded down: a lower bound stays one.
        epsilonLowerBound: Math.floor(audit.oneRun.epsilonLowerBound * 100) / 100,
        confidence: audit.oneRun.confidence,
        exceedsReportedEpsilon: model.epsilon !== 'unlimited' && audit.oneRun.epsilonLowerBound > model.epsilon,
      }
    : null;
  return {
    modelId: model.modelId,
    epsilon: model.epsilon,
    delta: model.delta,
    ownerCanaries: {
      count: details.length,
      greedyLeaks: details.filter((d) => d.greedyContainsSecret).length,
      anyLeaks: details.filter((d) => d.fullMatches > 0).length,
      details,
    },
    oneRun,
    failed: oneRun?.exceedsReportedEpsilon ?? false,
    membership: {
      auc: round(audit.membership.auc, 2),
      auc95: [round(audit.membership.auc95[0], 2), round(audit.membership.auc95[1], 2)],
      tprAt1PctFpr: at1 ? round(at1.tpr, 2) : null,
      members: audit.membership.members,
      nonMembers: audit.membership.nonMembers,
    },
  };
}

/** Plain-language reading of the numbers; thresholds are rules of thumb, stated in the text. */
export function auditFindings(model: AuditedModel, audit: PrivacyAudit): string[] {
  const out: string[] = [];
  const o = audit.oneRun;
  if (o && model.epsilon !== 'unlimited' && o.epsilonLowerBound > model.epsilon) {
    out.push(`AUDIT FAILED: the one-run lower bound ε ≥ ${o.epsilonLowerBound.toFixed(2)} (${Math.round(o.confidence * 100)}% confidence) exceeds the reported ε = ${model.epsilon.toFixed(2)}. The guarantee does not hold as stated: this is a bug in Veil; do not release this model.`);
  } else if (o) {
    out.push(`One-run audit: from ${o.canaries} inserted canaries (${o.included} trained on), the model's losses prove ε ≥ ${o.epsilonLowerBound.toFixed(2)} at ${Math.round(o.confidence * 100)}% confidence${model.epsilon === 'unlimited' ? ' (no DP guarantee to compare with)' : `, consistent with the reported ε = ${model.epsilon.toFixed(2)}`}.`);
  } else out.push('One-run audit: the job inserted no canaries (audit.insertCanaries), so there is no empirical lower bound on ε.');
  if (audit.ownerCanaries.length === 0) out.push('Owner canaries: none registered for this dataset (veil datasets canaries add): extraction and exposure were not measured.');
  for (const c of audit.ownerCanaries) {
    const x = c.extraction;
    const e = c.exposure;
    const share = e.exposureBits / e.maxExposureBits;
    out.push(`Canary "${c.prompt} …": ${x.fullMatches} of ${x.completions} completions gave the secret back${x.greedy.containsSecret ? ', the greedy one included' : ''}; it ranks ${e.rank} of ${e.candidates} alternatives (exposure ${e.exposureBits.toFixed(1)} of ${e.maxExposureBits.toFixed(1)} bits)${share >= 0.9 ? ': memorised' : share >= 0.5 ? ': more likely than most alternatives' : ': no sign of memorisation'}.`);
  }
  const m = audit.membership;
  const at1 = m.tprAtFpr.find((r) => r.targetFpr === 0.01);
  const leak = m.auc95[0] > 0.5;
  out.push(`Membership: AUC ${m.auc.toFixed(3)} (95% ${m.auc95[0].toFixed(3)}–${m.auc95[1].toFixed(3)}) on ${m.members} training vs ${m.nonMembers} held-out rows${leak ? ': training rows are distinguishable by their loss' : ': not distinguishable from chance at this sample size'}${at1 ? `; at FPR ≤ 1% the attack finds ${at1.truePositives} of ${at1.members} members` : ''}.`);
  return out;
}

export function auditDocument(model: AuditedModel, audit: PrivacyAudit, createdAt: Date = new Date()): AuditDocument {
  return {
    format: AUDIT_FORMAT,
    createdAt: createdAt.toISOString(),
    model,
    access: { ...ACCESS },
    summary: auditSummary(model, audit),
    findings: auditFindings(model, audit),
    ...audit,
  };
}

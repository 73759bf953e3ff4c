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

export const AUDIT_FORMAT = 'veil-audit/1';

export interface AuditedModel {
  modelId: string;
  /** 'unlimited' for a model trained without DP. */
  epsilon: number | 'unlimited';
  delta: number | null;
  base?: string;
  dataset?: { name: string; version: number };
  trainRows?: number;
}

/**
 * What the analyst of a DP model may see of its audit: extraction and canary exposure are computed
 * from the model alone (post-processing of a DP release), but membership inference scores private
 * training and held-out rows, so its AUC is not a DP statistic: it stays in the data owner's
 * report. A non-DP model's analyst (privileged) sees it all.
 */
export interface AnalystAuditSummary {
  [key: string]: unknown;
  modelId: string;
  epsilon: number | 'unlimited';
  delta: number | null;
  /** Completions (greedy + sampled) that reproduced the whole secret, and how many there were. */
  extraction: { fullMatches: number; keyWordMatches: number; completions: number; greedyContainsSecret: boolean };
  canary: { candidates: number; rank: number; exposureBits: number; maxExposureBits: number; extrapolatedExposureBits: number | null };
  membership?: AuditSummary['membership'];
}

export interface AuditSummary extends AnalystAuditSummary {
  membership: { auc: number; auc95: [number, number]; tprAt1PctFpr: number | null; members: number; nonMembers: number };
}

/** The analyst's view of an audit summary (see AnalystAuditSummary). */
export function analystAuditSummary(summary: AuditSummary): AnalystAuditSummary {
  if (summary.epsilon === 'unlimited') return summary;
  const { membership: _ownerOnly, ...rest } = summary;
  return rest;
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
  why: 'Computed from raw training and held-out rows: the extraction completions can reproduce private text, the canary is a private fact, and the loss histograms and ROC describe private rows. Not covered by the model\'s epsilon.',
  analystView: 'From `summary` (also the audit manifest\'s meta), the analyst of a DP model sees extraction and canary exposure (functions of the model alone); membership inference scores private rows and, with everything else, is for the data owner.',
} as const;

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

export function auditSummary(model: AuditedModel, audit: PrivacyAudit): AuditSummary {
  const at1 = audit.membership.tprAtFpr.find((r) => r.targetFpr === 0.01);
  return {
    modelId: model.modelId,
    epsilon: model.epsilon,
    delta: model.delta,
    extraction: {
      fullMatches: audit.extraction.fullMatches,
      keyWordMatches: audit.extraction.keyWordMatches,
      completions: audit.extraction.completions,
      greedyContainsSecret: audit.extraction.greedy.containsSecret,
    },
    canary: {
      candidates: audit.canary.candidates,
      rank: audit.canary.rank,
      exposureBits: round(audit.canary.exposureBits, 1),
      maxExposureBits: round(audit.canary.maxExposureBits, 1),
      extrapolatedExposureBits: audit.canary.extrapolated ? round(audit.canary.extrapolated.exposureBits, 1) : null,
    },
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
export function auditFindings(audit: PrivacyAudit): string[] {
  const out: string[] = [];
  const x = audit.extraction;
  if (x.fullMatches > 0) out.push(`Extraction: ${x.fullMatches} of ${x.completions} completions of "${x.prefix}" reproduced the rest of the secret${x.greedy.containsSecret ? ', including the greedy one' : ''}.`);
  else if (x.keyWordMatches > 0) out.push(`Extraction: no completion reproduced the whole secret, but ${x.keyWordMatches} of ${x.completions} contained ${x.keyWords.map((w) => `"${w}"`).join(', ')}.`);
  else out.push(`Extraction: none of ${x.completions} completions contained the secret or its key words.`);
  const c = audit.canary;
  const share = c.exposureBits / c.maxExposureBits;
  out.push(`Canary: the secret ranks ${c.rank} of ${c.candidates} (exposure ${c.exposureBits.toFixed(1)} of at most ${c.maxExposureBits.toFixed(1)} bits)${share >= 0.9 ? ': the model singles it out — memorised' : share >= 0.5 ? ': more likely than most alternatives' : ': no sign of memorisation'}.`);
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
    findings: auditFindings(audit),
    ...audit,
  };
}

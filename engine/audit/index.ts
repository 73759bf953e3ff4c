// The privacy audit of a GPT-2: the owner's canaries (extraction, exposure), loss-based membership
// inference, the one-run ε lower bound from inserted canaries, and
// the report (JSON document + self-contained HTML). Pure computation; see README.md.
export { SequenceScorer, buildTokenNllGraph, type SequenceScorerOptions } from './sequence-scorer.ts';
export { tokenLosses, rowLoss, rowLosses, type LossModel, type TokenLossOptions } from './sequence-loss.ts';
export { planBatches, padBatch, type PaddedBatch } from './token-batches.ts';
export { conditionCanary, conditionFillings, canarySpec, type CanarySpec } from './canary-candidates.ts';
export { canaryExposure, exposureFromLogPerplexities, type CanaryExposure, type ExposureNumbers } from './exposure.ts';
export { extractionAttack, type Extraction, type ExtractionSpec, type Completion } from './extraction.ts';
export { membershipInference, rocAuc, aucStdError, tprAtFpr, rocCurve, type MembershipInference, type TprAtFpr } from './membership.ts';
export { histogram, sharedEdges, countInto, type Histogram } from './histogram.ts';
export { runPrivacyAudit, pick, DEFAULT_AUDIT_SEED, type PrivacyAudit, type PrivacyAuditInput, type AuditPhase, type OwnerCanaryAudit } from './audit.ts';
export { ownerCanarySpec, OWNER_CANARY_ALTERNATIVES } from './owner-canary-candidates.ts';
export { drawInsertedCanaries, canaryTokens, oneRunAudit, GUESS_FRACTIONS, type InsertedCanary, type OneRunAudit } from './inserted-canaries.ts';
export { oneRunEpsilonLowerBound, oneRunPValue } from './one-run-bound.ts';
export { analystAuditSummary, auditDocument, auditSummary, auditFindings, AUDIT_FORMAT, type AnalystAuditSummary, type AuditDocument, type AuditSummary, type AuditedModel, type OneRunSummary, type OwnerCanarySummary } from './report.ts';
export { renderAuditHtml } from './report-html.ts';

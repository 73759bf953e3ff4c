// The privacy audit of a GPT-2: extraction, canary exposure, loss-based membership inference, and
// the report (JSON document + self-contained HTML). Pure computation; see README.md.
export { SequenceScorer, buildTokenNllGraph, type SequenceScorerOptions } from './sequence-scorer.ts';
export { tokenLosses, rowLoss, rowLosses, type LossModel, type TokenLossOptions } from './sequence-loss.ts';
export { planBatches, padBatch, type PaddedBatch } from './token-batches.ts';
export { conditionCanary, conditionFillings, canarySpec, type CanarySpec } from './canary-candidates.ts';
export { canaryExposure, exposureFromLogPerplexities, type CanaryExposure, type ExposureNumbers } from './exposure.ts';
export { extractionAttack, type Extraction, type ExtractionSpec, type Completion } from './extraction.ts';
export { membershipInference, rocAuc, aucStdError, tprAtFpr, rocCurve, type MembershipInference, type TprAtFpr } from './membership.ts';
export { histogram, sharedEdges, countInto, type Histogram } from './histogram.ts';
export { runPrivacyAudit, pick, DEFAULT_AUDIT_SEED, type PrivacyAudit, type PrivacyAuditInput, type AuditPhase } from './audit.ts';
export { analystAuditSummary, auditDocument, auditSummary, auditFindings, AUDIT_FORMAT, type AnalystAuditSummary, type AuditDocument, type AuditSummary, type AuditedModel } from './report.ts';
export { renderAuditHtml } from './report-html.ts';

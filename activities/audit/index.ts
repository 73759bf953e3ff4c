// The privacy audit's activities as the GPU workers register them: the audit (forward passes and
// samples), a data owner's audit policy, and registering a data owner's canaries (it checks that each can be ranked among
// ≥ 1,000 alternatives, a tokenizer-heavy step).
import { auditModel } from './audit-model.ts';
import { setAuditPolicy } from './audit-policy.ts';
import { registerOwnerCanaries } from './owner-canaries.ts';
import { showAudit } from './show.ts';

export function auditActivities() {
  return { auditModel, registerOwnerCanaries, setAuditPolicy, showAudit };
}

export { AUDIT_NOT_POSSIBLE, type AuditModelInput, type AuditModelOutput } from './audit-model.ts';
export { readAuditPolicy } from './audit-policy.ts';

// The privacy audit's activities as the GPU workers register them: the audit (forward passes and
// samples), and registering a data owner's canaries (it checks that each can be ranked among
// ≥ 1,000 alternatives, a tokenizer-heavy step).
import { auditModel } from './audit-model.ts';
import { registerOwnerCanaries } from './owner-canaries.ts';
import { showAudit } from './show.ts';

export function auditActivities() {
  return { auditModel, registerOwnerCanaries, showAudit };
}

export { AUDIT_NOT_POSSIBLE, type AuditModelInput, type AuditModelOutput } from './audit-model.ts';

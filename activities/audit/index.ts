// The privacy audit's activity as the GPU workers register it (it runs forward passes and samples).
import { auditModel } from './auditModel.ts';

export function auditActivities() {
  return { auditModel };
}

export { AUDIT_NOT_POSSIBLE, type AuditModelInput, type AuditModelOutput } from './auditModel.ts';

// The privacy audit's contract: the data owner's canaries (secret sentences registered per
// dataset, looked for in every model trained on it), the workflows that register them and show a
// model's audit, and what the analyst and the owner each get back. Node-free (workflows bundle it).
import { z } from 'zod';
import { requestAuthSchema } from './access.ts';
import { stagedUploadSchema } from './datasets.ts';
import { datasetNameSchema, idSchema } from './ids.ts';

export const REGISTER_OWNER_CANARIES_WORKFLOW = 'registerOwnerCanaries';
export const SHOW_AUDIT_WORKFLOW = 'showAudit';
/** Actions the owner signs (infra/access): the audit activities check them themselves. */
export const OWNER_CANARIES_ACTION = 'registerOwnerCanaries';
export const SHOW_AUDIT_ACTION = 'showAudit';
export const SET_AUDIT_POLICY_WORKFLOW = 'setAuditPolicy';
export const AUDIT_POLICY_ACTION = 'setAuditPolicy';

/** Most canaries a dataset may hold: each costs a few thousand forward passes per audit. */
export const MAX_OWNER_CANARIES = 32;
/** Most random canaries a fine-tune may insert (each is an extra training slot). */
export const MAX_INSERTED_CANARIES = 2000;

/**
 * One line of the owner's canaries file: `secret` is the whole sentence, `prompt` its beginning
 * (what an attacker would type); the rest is what extraction and exposure look for.
 */
export const ownerCanarySchema = z
  .object({ prompt: z.string().min(1).max(500), secret: z.string().min(1).max(2000) })
  .strict()
  .refine((c) => c.secret.startsWith(`${c.prompt} `) && c.secret.trim().length > c.prompt.length, {
    message: 'the secret must start with the prompt followed by a space and more words',
  });
export type OwnerCanary = z.output<typeof ownerCanarySchema>;

/** The staged JSON Lines file of canaries (never the sentences themselves: they stay out of history). */
export const registerOwnerCanariesSchema = z
  .object({
    dataset: datasetNameSchema,
    upload: stagedUploadSchema,
    auth: requestAuthSchema.optional(),
  })
  .strict();
export type RegisterOwnerCanariesInput = z.input<typeof registerOwnerCanariesSchema>;

/** What registering answers: counts only. */
export interface RegisterOwnerCanariesResult {
  dataset: string;
  /** Canaries in this file / on the dataset now. */
  added: number;
  total: number;
}

export const showAuditSchema = z.object({ modelId: idSchema, auth: requestAuthSchema.optional() }).strict();
export type ShowAuditInput = z.input<typeof showAuditSchema>;

/** The audit of a model as its caller may see it: the owner gets the HTML page too. */
export interface ShowAuditResult {
  modelId: string;
  audience: 'data-owner' | 'analyst';
  summary: Record<string, unknown>;
  /** The self-contained report page (data owner only). */
  html: string | null;
}

/**
 * A dataset owner's audit policy: every fine-tune on the dataset inserts at least
 * `minInsertedCanaries` random canaries, so that each model it yields gets an empirical ε bound.
 */
export const auditPolicySchema = z.object({ minInsertedCanaries: z.number().int().min(0).max(MAX_INSERTED_CANARIES) }).strict();
export type AuditPolicy = z.output<typeof auditPolicySchema>;
export const NO_AUDIT_POLICY: AuditPolicy = { minInsertedCanaries: 0 };

export const setAuditPolicySchema = z.object({ dataset: datasetNameSchema, policy: auditPolicySchema, auth: requestAuthSchema.optional() }).strict();
export type SetAuditPolicyInput = z.input<typeof setAuditPolicySchema>;
export interface SetAuditPolicyResult {
  dataset: string;
  policy: AuditPolicy;
  /** Which change of the dataset's policy this was (1 for the first). */
  revision: number;
}

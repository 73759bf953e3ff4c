// The parts of access control every layer shares (zod only, no Node built-ins: the workflow
// sandbox bundles this file): the shape of a request's `auth` field and Veil's reserved names.
import { z } from 'zod';

export { ACCESS_REFUSALS, isAccessRefusal } from './failures.ts';
import { Failure } from './failures.ts';

/** Bad or missing signature, unknown or revoked principal. */
export const UNAUTHENTICATED = Failure.Unauthenticated;
/** A known principal asking for something its role does not allow. */
export const FORBIDDEN = Failure.Forbidden;

/**
 * A request's signature (infra/access/request-signature.ts): who sent it and their HMAC of the rest
 * of the request. Optional in the workflows' schemas so that an unsigned request gets the
 * authorization's clear refusal ("the request is not signed: …") rather than a bare "auth: required".
 */
export const requestAuthSchema = z
  .object({
    principal: z.string().min(1).max(200),
    signature: z.string().min(1).max(200),
    nonce: z.string().regex(/^[A-Za-z0-9_-]{16,64}$/).optional(),
    expiresAt: z.number().int().positive().optional(),
    schedule: z.object({ id: z.string().min(1).max(200), everyMs: z.number().int().positive() }).strict().optional(),
  })
  .strict();
export type RequestAuth = z.output<typeof requestAuthSchema>;

/** The ledger's pseudo-analyst for DP synthetic twins: the only grantee the service itself funds. */
export const TWIN_ANALYST = 'synthetic-twin';
/** Ids no principal may take: they name Veil's own bookkeeping. */
export const RESERVED_PRINCIPAL_IDS: readonly string[] = [TWIN_ANALYST];

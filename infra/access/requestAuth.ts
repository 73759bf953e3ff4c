// The parts of access control that workflow code shares with workers and clients (zod only, no
// Node built-ins: the workflow sandbox bundles this file): the shape of a request's `auth` field
// and the failure types of a refused authorization.
import { z } from 'zod';

/**
 * A request's signature (requestSignature.ts): who sent it and their HMAC of the rest of the
 * request. Optional in the workflows' schemas so that an unsigned request gets the authorization's
 * clear refusal ("the request is not signed: …") rather than a bare "auth: required".
 */
export const requestAuthSchema = z.object({ principal: z.string().min(1).max(200), signature: z.string().min(1).max(200) }).strict();

/** Bad or missing signature, unknown or revoked principal. */
export const UNAUTHENTICATED = 'Unauthenticated';
/** A known principal asking for something its role does not allow. */
export const FORBIDDEN = 'Forbidden';
/** Failure types of a refused authorization: final, never retried, and costing no budget. */
export const ACCESS_REFUSALS: readonly string[] = [UNAUTHENTICATED, FORBIDDEN];

export function isAccessRefusal(type: string | undefined | null): boolean {
  return type != null && ACCESS_REFUSALS.includes(type);
}

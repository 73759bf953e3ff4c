// Who may use Veil: the principal registry, kept in S3 next to the data it guards (under access/),
// where only workers and operators reach. A principal is a data owner or an analyst; an analyst
// may be privileged (allowed non-DP training and samples). Every object here is written once
// (create-only), so nothing is ever silently overwritten: revoking writes a second object, and the
// owner of a dataset is whoever claimed it first.
import { z } from 'zod';
import {
  ACCESS_PRINCIPALS_PREFIX,
  ObjectExistsError,
  SERVICE_KEY_OBJECT,
  accessPrincipalKey,
  accessRevocationKey,
  datasetOwnerKey,
  type ArtifactStore,
} from '../storage/index.ts';
import { AccessTokenError, formatToken, newSecret } from './tokens.ts';
import { PRINCIPAL_ID_PATTERN } from '../../contracts/ids.ts';
import { RESERVED_PRINCIPAL_IDS } from '../../contracts/access.ts';

export const ROLES = ['owner', 'analyst'] as const;
export type Role = (typeof ROLES)[number];

const principalRecordSchema = z.object({
  id: z.string().regex(PRINCIPAL_ID_PATTERN),
  role: z.enum(ROLES),
  privileged: z.boolean(),
  /** The HMAC key of the principal's requests (the token's secret). Workers need it to verify. */
  secret: z.string().min(43),
  createdAt: z.string(),
});
type PrincipalRecord = z.output<typeof principalRecordSchema>;

/** A principal as anyone may see it (no secret). */
export interface Principal {
  id: string;
  role: Role;
  privileged: boolean;
  createdAt: string;
  revokedAt?: string;
}

export class PrincipalError extends Error {
  override name = 'PrincipalError';
  readonly exitCode = 2;
}

function checkedId(id: string): string {
  if (!PRINCIPAL_ID_PATTERN.test(id)) throw new AccessTokenError(`invalid principal id "${id}": letters, digits, . _ @ -, at most 128 characters`);
  return id;
}
const principalKey = (id: string) => accessPrincipalKey(checkedId(id));
const revocationKey = (id: string) => accessRevocationKey(checkedId(id));
const SERVICE_KEY = SERVICE_KEY_OBJECT;


/** Creates a principal and returns its token (shown once: Veil keeps only what verifies it). */
export async function createPrincipal(
  store: ArtifactStore,
  request: { id: string; role: Role; privileged?: boolean },
): Promise<{ principal: Principal; token: string }> {
  const privileged = request.privileged ?? false;
  if (RESERVED_PRINCIPAL_IDS.includes(request.id)) throw new PrincipalError(`"${request.id}" is reserved for Veil's own bookkeeping`);
  if (privileged && request.role !== 'analyst') throw new PrincipalError('only analysts can be privileged');
  const secret = newSecret();
  const record: PrincipalRecord = { id: request.id, role: request.role, privileged, secret, createdAt: new Date().toISOString() };
  const token = formatToken(request.id, secret);
  try {
    await store.putJsonImmutable(principalKey(request.id), record);
  } catch (err) {
    if (err instanceof ObjectExistsError) throw new PrincipalError(`principal "${request.id}" already exists (ids are never reused, even after revocation)`);
    throw err;
  }
  return { principal: publicView(record), token };
}

/**
 * The token of principal `id`, creating the principal if it does not exist yet. For operators and
 * their tools (the demo, tests): reading a token back needs the registry's S3 credentials, which
 * is exactly what an operator holds and an analyst does not.
 */
export async function ensurePrincipal(store: ArtifactStore, request: { id: string; role: Role; privileged?: boolean }): Promise<string> {
  try {
    return (await createPrincipal(store, request)).token;
  } catch (err) {
    if (!(err instanceof PrincipalError)) throw err;
    const record = await readPrincipalRecord(store, request.id);
    if (!record) throw err;
    if (record.revokedAt) throw new PrincipalError(`principal "${request.id}" was revoked`);
    if (record.role !== request.role || record.privileged !== (request.privileged ?? false)) {
      throw new PrincipalError(`principal "${request.id}" exists as ${record.privileged ? 'privileged ' : ''}${record.role}`);
    }
    return formatToken(record.id, record.secret);
  }
}

function publicView(record: PrincipalRecord, revokedAt?: string): Principal {
  return { id: record.id, role: record.role, privileged: record.privileged, createdAt: record.createdAt, ...(revokedAt ? { revokedAt } : {}) };
}

/** The principal with its secret, for verifying its signatures; undefined when unknown. */
export async function readPrincipalRecord(store: ArtifactStore, id: string): Promise<(PrincipalRecord & { revokedAt?: string }) | undefined> {
  if (!PRINCIPAL_ID_PATTERN.test(id)) return undefined;
  const raw = await store.tryGetRawJson(principalKey(id));
  if (raw === undefined) return undefined;
  const record = principalRecordSchema.parse(raw);
  const revoked = (await store.tryGetRawJson(revocationKey(id))) as { revokedAt?: string } | undefined;
  return revoked?.revokedAt ? { ...record, revokedAt: revoked.revokedAt } : record;
}

export async function readPrincipal(store: ArtifactStore, id: string): Promise<Principal | undefined> {
  const record = await readPrincipalRecord(store, id);
  return record && publicView(record, record.revokedAt);
}

export async function listPrincipals(store: ArtifactStore): Promise<Principal[]> {
  const objects = await store.listObjects(ACCESS_PRINCIPALS_PREFIX);
  const ids = objects.map((o) => o.key.slice(ACCESS_PRINCIPALS_PREFIX.length, -'.json'.length).replaceAll('=', '@'));
  const principals = await Promise.all(ids.map((id) => readPrincipal(store, id)));
  return principals.filter((p): p is Principal => p !== undefined).sort((a, b) => a.id.localeCompare(b.id));
}

/** Revokes a principal for good: its token stops working at once. Revoking twice is a no-op. */
export async function revokePrincipal(store: ArtifactStore, id: string): Promise<Principal> {
  const record = await readPrincipalRecord(store, id);
  if (!record) throw new PrincipalError(`no principal "${id}"`);
  try {
    await store.putJsonImmutable(revocationKey(id), { id, revokedAt: new Date().toISOString() });
  } catch (err) {
    if (!(err instanceof ObjectExistsError)) throw err;
  }
  return (await readPrincipal(store, id))!;
}

/**
 * The dataset's owner. The first owner to ingest a dataset name claims it (a create-only write, so
 * two owners racing for one name cannot both win); later versions are only theirs to add.
 */
export async function claimDatasetOwner(store: ArtifactStore, dataset: string, owner: string): Promise<string> {
  try {
    await store.putJsonImmutable(datasetOwnerKey(dataset), { dataset, owner, claimedAt: new Date().toISOString() });
    return owner;
  } catch (err) {
    if (!(err instanceof ObjectExistsError)) throw err;
    return (await datasetOwner(store, dataset)) ?? owner;
  }
}

export async function datasetOwner(store: ArtifactStore, dataset: string): Promise<string | undefined> {
  const raw = (await store.tryGetRawJson(datasetOwnerKey(dataset))) as { owner?: string } | undefined;
  return raw?.owner;
}

const serviceSecrets = new WeakMap<ArtifactStore, Promise<string>>();

/**
 * The secret the service signs its own ledger writes with (reserve, commit, release), so that only
 * Veil's workers can move budget. Created on first use; concurrent first uses agree on one. It
 * never changes once written, so each store reads it once (every ledger write signs and checks).
 */
export function serviceSecret(store: ArtifactStore): Promise<string> {
  let secret = serviceSecrets.get(store);
  if (!secret) {
    secret = readOrCreateServiceSecret(store);
    serviceSecrets.set(store, secret);
    secret.catch(() => serviceSecrets.delete(store)); // an S3 outage is not remembered
  }
  return secret;
}

async function readOrCreateServiceSecret(store: ArtifactStore): Promise<string> {
  const existing = (await store.tryGetRawJson(SERVICE_KEY)) as { secret?: string } | undefined;
  if (existing?.secret) return existing.secret;
  try {
    await store.putJsonImmutable(SERVICE_KEY, { secret: newSecret(), createdAt: new Date().toISOString() });
  } catch (err) {
    if (!(err instanceof ObjectExistsError)) throw err;
  }
  const created = (await store.tryGetRawJson(SERVICE_KEY)) as { secret: string };
  return created.secret;
}

// Veil's S3 layout, in one place (README.md beside this file draws the whole tree). Every
// artifact lives under one of these prefixes; a prefix with a manifest.json is committed, one
// without is unfinished work that readers ignore. Every key is built here, from ids the contracts
// (contracts/ids.ts) already accept, so a job the boundary lets in never fails on its first key.

/** One path segment: no slashes, no dot-only names, nothing S3 or a shell would misread. */
const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._=-]{0,199}$/;

export function assertSegment(what: string, value: string): void {
  if (!SEGMENT.test(value) || value.includes('..')) {
    throw new TypeError(`invalid ${what} "${value}" for an S3 key: use letters, digits, '.', '_', '=', '-' (start with a letter or digit)`);
  }
}

/** Checks that a key is relative, slash-separated and free of empty or dot segments. */
export function assertKey(key: string): void {
  if (key.length === 0 || key.length > 900 || key.startsWith('/') || key.split('/').some((s) => s === '' || s === '.' || s === '..')) {
    throw new TypeError(`invalid S3 key "${key}"`);
  }
}

/** A prefix without its trailing slash ("datasets/a/v1/" → "datasets/a/v1"). */
export function normalizePrefix(prefix: string): string {
  const p = prefix.replace(/\/+$/, '');
  assertKey(p);
  return p;
}

export const MANIFEST_NAME = 'manifest.json';

export function manifestKey(prefix: string): string {
  return `${normalizePrefix(prefix)}/${MANIFEST_NAME}`;
}

export const UPLOADS_PREFIX = 'uploads';

export function uploadKey(id: string): string {
  assertSegment('upload id', id);
  return `${UPLOADS_PREFIX}/${id}`;
}

export function datasetPrefix(name: string): string {
  assertSegment('dataset name', name);
  return `datasets/${name}`;
}

export function datasetVersionPrefix(name: string, version: number): string {
  if (!Number.isSafeInteger(version) || version < 1) throw new TypeError(`invalid dataset version ${version}`);
  return `${datasetPrefix(name)}/v${version}`;
}

/** "v12" → 12; anything else → undefined. */
export function parseVersionSegment(segment: string): number | undefined {
  const m = /^v([1-9][0-9]{0,8})$/.exec(segment);
  return m ? Number(m[1]) : undefined;
}

export function checkpointPrefix(jobId: string, step: number): string {
  if (!Number.isSafeInteger(step) || step < 0) throw new TypeError(`invalid checkpoint step ${step}`);
  return `${checkpointsRoot(jobId)}/step-${step}`;
}

export function modelPrefix(modelId: string): string {
  assertSegment('model id', modelId);
  return `models/${modelId}`;
}

/** A principal id as a key segment: '@' is not allowed in a segment; '=' is not allowed in an id, so this is one-to-one. */
export function principalSegment(id: string): string {
  const segment = id.replaceAll('@', '=');
  assertSegment('principal id', segment);
  return segment;
}

export const accessPrincipalKey = (id: string): string => `access/principals/${principalSegment(id)}.json`;
export const accessRevocationKey = (id: string): string => `access/revoked/${principalSegment(id)}.json`;
export const ACCESS_PRINCIPALS_PREFIX = 'access/principals/';
export function datasetOwnerKey(dataset: string): string {
  assertSegment('dataset name', dataset);
  return `access/datasets/${dataset}.json`;
}
/** The service's signing key: workers only. */
export const SERVICE_KEY_OBJECT = 'access/service.json';

/** Everything one job (fine-tune) writes besides its checkpoints' bytes. */
export function runPrefix(jobId: string): string {
  assertSegment('job id', jobId);
  return `runs/${jobId}`;
}
/** The claim that ties a job id to the first workflow that used it. */
export const runClaimKey = (jobId: string): string => `${runPrefix(jobId)}/job.json`;
/** The tokenized train and test slots of a run, with the exact private counts in the manifest. */
export const runDataPrefix = (jobId: string): string => `${runPrefix(jobId)}/data`;
export const checkpointsRoot = (jobId: string): string => `${runPrefix(jobId)}/checkpoints`;
/** A run's secret key (noise and sampling streams): kept apart from what analysts' tools read. */
export function runKeyKey(jobId: string): string {
  assertSegment('job id', jobId);
  return `secrets/runs/${jobId}/run-key`;
}

export function auditPrefix(modelId: string): string {
  assertSegment('model id', modelId);
  return `audits/${modelId}`;
}

export function samplesPrefix(sampleId: string): string {
  assertSegment('sample id', sampleId);
  return `samples/${sampleId}`;
}

export function syntheticPrefix(name: string, version: number): string {
  return `synthetic/${datasetVersionPrefix(name, version).slice('datasets/'.length)}`;
}

/** The (dataset, analyst) budget ledger: append-only records, one per change (activities/budget). */
export function ledgerPrefix(dataset: string, analyst: string): string {
  return `${ledgerDatasetPrefix(dataset)}/${principalSegment(analyst)}`;
}
/** Every ledger of one dataset. */
export function ledgerDatasetPrefix(dataset: string): string {
  assertSegment('dataset name', dataset);
  return `ledger/${dataset}`;
}
/** principalSegment's inverse. */
export const principalOfSegment = (segment: string): string => segment.replaceAll('=', '@');
export const ledgerRecordKey = (prefix: string, seq: number): string => `${prefix}/${String(seq).padStart(12, '0')}.json`;

/** A signed request's nonce, claimed once by the first workflow that presents it. */
export function requestNonceKey(principal: string, nonce: string): string {
  // base64url may start with '-' or '_', which a key segment may not: the 'n' keeps it one-to-one.
  const segment = `n${nonce}`;
  assertSegment('request nonce', segment);
  return `access/requests/${principalSegment(principal)}/${segment}.json`;
}

/** One noisy release of a job (data report, test loss), drawn once and kept: every rerun returns it. */
export function runReleaseKey(jobId: string, release: string): string {
  assertSegment('release name', release);
  return `${runPrefix(jobId)}/releases/${release}.json`;
}
/** The job's final result, kept so a rerun or reset of a finished job answers with it unchanged. */
export const runResultKey = (jobId: string): string => `${runPrefix(jobId)}/result.json`;

/** A data owner's audit policy for a dataset: one create-only record per change, the highest revision rules. */
export const auditPolicyPrefix = (dataset: string): string => `${datasetPrefix(dataset)}/audit-policy`;
export function auditPolicyKey(dataset: string, revision: number): string {
  if (!Number.isInteger(revision) || revision < 1) throw new Error(`audit policy revision ${revision} must be a positive integer`);
  // Zero-padded so that a listing sorts revisions in order.
  return `${auditPolicyPrefix(dataset)}/${String(revision).padStart(8, '0')}.json`;
}

/** A data owner's canaries for a dataset: one committed set per `veil datasets canaries add`. */
export function ownerCanariesPrefix(dataset: string): string {
  return `${datasetPrefix(dataset)}/canaries`;
}
export function ownerCanarySetPrefix(dataset: string, setId: string): string {
  assertSegment('canary set id', setId);
  return `${ownerCanariesPrefix(dataset)}/${setId}`;
}

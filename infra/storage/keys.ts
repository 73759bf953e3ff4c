// Veil's S3 layout, in one place. Every artifact lives under one of these prefixes; a prefix with a
// manifest.json is committed, one without is unfinished work that readers ignore.
//
//   uploads/<uuid>                                   raw user files in transit (deleted after ingest)
//   datasets/<name>/v<k>/{rows.jsonl,schema.json}    dataset versions
//   runs/<runId>/checkpoints/step-<n>/…              training checkpoints
//   models/<id>/…                                    registered models (HF layout + veil.json)

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

export function checkpointPrefix(runId: string, step: number): string {
  assertSegment('run id', runId);
  if (!Number.isSafeInteger(step) || step < 0) throw new TypeError(`invalid checkpoint step ${step}`);
  return `runs/${runId}/checkpoints/step-${step}`;
}

export function modelPrefix(modelId: string): string {
  assertSegment('model id', modelId);
  return `models/${modelId}`;
}

// Errors the storage module raises, each with a stable `code` so callers (and Temporal retry
// policies, through the error type name) can tell "this will never succeed" from "try again".

/** A write to a key that already holds an object: artifacts are immutable, never overwritten. */
export class ObjectExistsError extends Error {
  override name = 'ObjectExistsError';
  readonly code = 'OBJECT_EXISTS';
  constructor(readonly key: string) {
    super(`S3 object "${key}" already exists: artifacts are immutable and are never overwritten`);
  }
}

/** The object does not exist (or no longer exists). */
export class ObjectNotFoundError extends Error {
  override name = 'ObjectNotFoundError';
  readonly code = 'OBJECT_NOT_FOUND';
  constructor(readonly key: string) {
    super(`S3 object "${key}" does not exist`);
  }
}

/** The bytes read back differ from what the manifest recorded: corruption, truncation or tampering. */
export class IntegrityError extends Error {
  override name = 'IntegrityError';
  readonly code = 'INTEGRITY_MISMATCH';
  constructor(
    readonly key: string,
    detail: string,
  ) {
    super(`integrity check failed for S3 object "${key}": ${detail}; the object is corrupted or truncated`);
  }
}

/** A manifest that is missing, unparsable or does not describe its prefix. */
export class ManifestError extends Error {
  override name = 'ManifestError';
  readonly code = 'MANIFEST_INVALID';
}

function s3Code(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null ? (err as { code?: string }).code : undefined;
}

/** True for the S3 answer to a conditional write whose condition failed (If-None-Match: *). */
export function isPreconditionFailed(err: unknown): boolean {
  const code = s3Code(err);
  return code === 'PreconditionFailed' || (err as { statusCode?: number } | null)?.statusCode === 412;
}

export function isNotFound(err: unknown): boolean {
  const code = s3Code(err);
  return code === 'NoSuchKey' || code === 'NotFound' || code === 'NoSuchUpload';
}

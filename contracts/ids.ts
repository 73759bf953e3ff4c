// Every id and name Veil accepts, one pattern each. The workflows' schemas, the activities and the
// S3 key layout (infra/storage/keys.ts) all read them from here, so a value the boundary accepts
// is a value every later step accepts too: nothing is refused halfway through a job.
import { z } from 'zod';

/** A dataset name: lowercase, digits, '_' and '-'; it is one S3 path segment and part of ids. */
export const DATASET_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;
export const datasetNameSchema = z
  .string()
  .regex(DATASET_NAME_PATTERN, 'a dataset name is 1-63 characters: lowercase letters, digits, "_" and "-", starting with a letter or digit');

/**
 * A job, model, sample or principal id. It names an S3 path segment (runs/<jobId>/, models/<id>/),
 * so it holds only characters that are safe there and in a workflow id: letters, digits, '.', '_'
 * and '-' ('..' is refused by the storage layer's segment check as well as here).
 */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const ID_RULE = 'letters, digits, ".", "_" and "-", starting with a letter or digit, at most 128 characters, no ".."';

export function isValidId(value: string): boolean {
  return ID_PATTERN.test(value) && !value.includes('..');
}

export const idSchema = z.string().refine(isValidId, { message: ID_RULE });

/**
 * An id made from a workflow id (a schedule names its runs `<id>-<RFC 3339 time>`): every
 * character an id may not hold becomes '-', the same replacement wherever ids are derived.
 */
export function idFromWorkflowId(workflowId: string): string {
  return workflowId.replace(/[^A-Za-z0-9._-]/g, '-').replace(/\.{2,}/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 128);
}

/** A principal id (an analyst, a data owner): ids may be e-mail addresses, so '@' is allowed. */
export const PRINCIPAL_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$/;
export const principalIdSchema = z.string().regex(PRINCIPAL_ID_PATTERN, 'letters, digits, ".", "_", "@" and "-", at most 128 characters');

/** A registered model as a base: `models/<id>`. */
export const MODEL_REFERENCE_PREFIX = 'models/';

export function modelIdOfReference(base: string): string | undefined {
  if (!base.startsWith(MODEL_REFERENCE_PREFIX)) return undefined;
  return base.slice(MODEL_REFERENCE_PREFIX.length);
}

export function describeIdRule(): string {
  return ID_RULE;
}

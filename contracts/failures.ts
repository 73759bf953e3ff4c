// Failure types: the `type` of every ApplicationFailure Veil raises on purpose, and which of them
// a workflow must not retry (retrying the same request cannot change the answer). Clients match on
// these names, so they are written here once.
export const Failure = {
  /** The input failed its schema (every problem listed). */
  InvalidInput: 'InvalidInput',
  /** Bad or missing signature, unknown or revoked principal, expired or reused request. */
  Unauthenticated: 'Unauthenticated',
  /** A known principal asking for something its role does not allow. */
  Forbidden: 'Forbidden',
  DatasetNotFound: 'DatasetNotFound',
  ModelNotFound: 'ModelNotFound',
  /** A preprocessing step that cannot run (unknown column, a traced function that fails its checks). */
  InvalidPreprocessing: 'InvalidPreprocessing',
  /** The prepared data cannot train (split leaves no rows, no text column, …). */
  InvalidTrainingData: 'InvalidTrainingData',
  /** Hyper-parameters the trainer or the accountant refuses. */
  InvalidTrainingConfig: 'InvalidTrainingConfig',
  /** A job id already used by another job. */
  JobIdTaken: 'JobIdTaken',
  /** 'unlimited' (no DP) asked by an analyst who is not privileged. */
  NotPrivileged: 'NotPrivileged',
  /** The release policy refuses to hand out samples of this model to this analyst. */
  ReleaseRefused: 'ReleaseRefused',
  /** A dataset file that fails validation (named rows and columns, never values). */
  DatasetValidationError: 'DatasetValidationError',
  /** A staged upload whose bytes do not match the digest the client sent. */
  UploadIntegrityError: 'UploadIntegrityError',
  /** The ledger refused a write (see contracts/ledger.ts for its own codes). */
  BudgetRefused: 'BudgetRefused',
  /** A fine-tune refused before training: the analyst's remaining (ε, δ) does not cover it. */
  BudgetExhausted: 'BudgetExhausted',
} as const;
export type FailureType = (typeof Failure)[keyof typeof Failure];

/** Failure types of a refused authorization: final, never retried, and costing no budget. */
export const ACCESS_REFUSALS: readonly string[] = [Failure.Unauthenticated, Failure.Forbidden];

export function isAccessRefusal(type: string | undefined | null): boolean {
  return type != null && ACCESS_REFUSALS.includes(type);
}

/** Refusals every workflow shares: bad input and access. */
const COMMON: readonly string[] = [Failure.InvalidInput, ...ACCESS_REFUSALS];

/** What each workflow does not retry. */
export const NON_RETRYABLE = {
  fineTune: [
    ...COMMON,
    Failure.InvalidPreprocessing,
    Failure.JobIdTaken,
    Failure.InvalidTrainingData,
    Failure.InvalidTrainingConfig,
    Failure.DatasetNotFound,
    Failure.ModelNotFound,
    Failure.NotPrivileged,
    Failure.BudgetRefused,
  ],
  sample: [...COMMON, Failure.ReleaseRefused, Failure.ModelNotFound],
  catalog: [...COMMON, Failure.DatasetNotFound],
  ingest: [...COMMON, Failure.DatasetValidationError, Failure.UploadIntegrityError],
  stageUpload: COMMON,
  ledger: [...COMMON, Failure.BudgetRefused, Failure.DatasetNotFound],
} as const satisfies Record<string, readonly string[]>;

// What the Temporal UI's list shows of a fine-tune: custom search attributes the workflow upserts
// (registered on the server by infra/servers/temporal-setup.ts, which names the same four). The
// analyst and dataset are keyed pseudonyms an activity computes (activities/jobs/pseudonyms.ts):
// anyone who reaches the frontend reads every list. Workflow code only upserts what it is given.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, upsertSearchAttributes } from '@temporalio/workflow';
import type { FineTuneResult } from '../../contracts/fine-tune.ts';

export const VEIL_STATUS = defineSearchAttributeKey('VeilStatus', SearchAttributeType.KEYWORD);
export const VEIL_EPSILON = defineSearchAttributeKey('VeilEpsilon', SearchAttributeType.DOUBLE);
export const VEIL_ANALYST = defineSearchAttributeKey('VeilAnalyst', SearchAttributeType.KEYWORD);
export const VEIL_DATASET = defineSearchAttributeKey('VeilDataset', SearchAttributeType.KEYWORD);

/** Where a fine-tune stands, as the list shows it. */
export type JobStage = 'queued' | 'training' | 'evaluating' | 'auditing' | 'completed' | 'cancelled' | 'budget-exhausted' | 'failed';

/** The result of a fine-tune that ended cancelled or refused (null while it runs or if it got none). */
export const jobResultQuery = defineQuery<FineTuneResult | null>('jobResult');

/** Upserts the job's stage (and ε spent when known); does nothing on runs that predate the attributes. */
export function showStage(enabled: boolean, stage: JobStage, epsilon?: number | 'unlimited'): void {
  if (!enabled) return;
  upsertSearchAttributes([
    { key: VEIL_STATUS, value: stage },
    // A non-DP job has no ε to list: it keeps the attribute unset.
    ...(typeof epsilon === 'number' && Number.isFinite(epsilon) ? [{ key: VEIL_EPSILON, value: epsilon }] : []),
  ]);
}

/** Upserts the analyst's and dataset's pseudonyms. */
export function showOwners(enabled: boolean, pseudonyms: { analyst: string; dataset: string } | null): void {
  if (!enabled || pseudonyms === null) return;
  upsertSearchAttributes([
    { key: VEIL_ANALYST, value: pseudonyms.analyst },
    { key: VEIL_DATASET, value: pseudonyms.dataset },
  ]);
}

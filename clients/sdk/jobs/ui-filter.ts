// The caller's filter for the Temporal UI's list of fine-tunes. The list shows analysts and
// datasets as keyed pseudonyms (docs/temporal-ui.md); only the workers hold the key, so the
// client asks them (workflow jobsUiFilter, a signed read in the reads namespace).
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { isAccessRefusal } from '../../../contracts/failures.ts';
import { signRequest } from '../../../infra/access/index.ts';
import type { UiFilterAnswer } from '../../../activities/jobs/index.ts';
import { AccessRefusedError, readsClient } from '../catalog.ts';
import { applicationCause } from '../failures.ts';

export type { UiFilterAnswer };
export const UI_FILTER_WORKFLOW = 'jobsUiFilter';

/**
 * Your own list query (`VeilAnalyst="…"`), or, for a dataset you own, the query of every job on it
 * (`VeilDataset="…"`). Anyone else's dataset is refused (AccessRefusedError).
 */
export async function uiFilter(client: Client, options: { taskQueue: string; token: string; dataset?: string; readsNamespace?: string }): Promise<UiFilterAnswer> {
  const request = signRequest(options.token, UI_FILTER_WORKFLOW, options.dataset === undefined ? {} : { dataset: options.dataset });
  try {
    return await readsClient(client, options.readsNamespace).workflow.execute(UI_FILTER_WORKFLOW, { taskQueue: options.taskQueue, workflowId: `ui-filter-${randomUUID()}`, args: [request] });
  } catch (err) {
    if (!(err instanceof WorkflowFailedError)) throw err;
    const cause = applicationCause(err);
    if (cause && isAccessRefusal(cause.type)) throw new AccessRefusedError(cause.message);
    throw new Error(cause?.message ?? err.message, { cause: err });
  }
}

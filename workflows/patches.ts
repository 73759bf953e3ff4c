// Workflow-versioning patch ids: a change to a workflow's commands is guarded by patched(ID), so
// runs started before the change replay the old way and later runs take the new one.

/**
 * The patch that put an authorization first in the job workflows: runs started before it replay
 * without one (they were started before tokens existed), every later run checks.
 */
export const AUTHORIZE_PATCH = 'authorize-requests';

/** The patch that added the data report between training and evaluation. */
export const DATA_REPORT_PATCH = 'data-report';

/**
 * The patch that made a fine-tune's end visible in Temporal: a cancelled job ends CANCELLED and a
 * refused one FAILED (after settling and recording its result), and the job upserts its search
 * attributes (status, ε, analyst and dataset pseudonyms). Earlier runs replay as they completed.
 */
export const JOB_END_STATES_PATCH = 'job-end-states';

// Workflow-versioning patch ids: a change to a workflow's commands is guarded by patched(ID), so
// runs started before the change replay the old way and later runs take the new one.

/**
 * The patch that put an authorization first in the job workflows: runs started before it replay
 * without one (they were started before tokens existed), every later run checks.
 */
export const AUTHORIZE_PATCH = 'authorize-requests';

/** The patch that added the data report between training and evaluation. */
export const DATA_REPORT_PATCH = 'data-report';

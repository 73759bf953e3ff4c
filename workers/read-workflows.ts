// The workflows of the reads namespace (VEIL_READS_NAMESPACE): read-only requests that answer at
// once (the catalog, balances and spend, an audit, the caller's UI filter). They run in their own
// namespace so that the jobs' list in the Temporal UI holds jobs only; each checks its request
// exactly as in the jobs' namespace (the same workflow code). Only these run there: nothing that
// spends, writes or trains can be started in the reads namespace.
export { showAudit } from '../workflows/audit.ts';
export { readBudgetBalance, readDatasetSpend } from '../workflows/budget.ts';
export { catalog } from '../workflows/catalog.ts';
export { jobsUiFilter } from '../workflows/fine-tune/ui-filter.ts';

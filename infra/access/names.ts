// Names shared by workflow code and workers (no Node built-ins here: workflows import this file).

/** The principal id of Veil's own ledger writes; not a valid principal id (it has a ':'). */
export const SERVICE_PRINCIPAL = 'veil:service';
/** The ledger's pseudo-analyst for DP synthetic twins: the only grantee the service itself funds. */
export const TWIN_ANALYST = 'synthetic-twin';
/** Ids no principal may take: they name Veil's own bookkeeping. */
export const RESERVED_PRINCIPAL_IDS: readonly string[] = [TWIN_ANALYST];

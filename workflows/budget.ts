// The budget ledger's two doors for clients: a data owner's signed grant, and a balance read.
// The ledger itself is not a workflow: its truth is append-only S3 records that only the workers
// write (activities/budget/ledger-log.ts), so nothing sent to Temporal (a forged start, a reset,
// a terminate) can raise a balance or hand back a charge. These workflows only carry requests.
import { proxyActivities } from '@temporalio/workflow';
import type { LightActivities } from '../activities/index.ts';
import { NON_RETRYABLE } from '../contracts/failures.ts';
import { LEDGER_REFUSALS, budgetReadSchema, datasetSpendSchema, grantInputSchema, type BudgetReadResult, type DatasetSpend, type LedgerBalance } from '../contracts/ledger.ts';
import { parseInput } from '../contracts/validation.ts';

const { authorize, applyGrant, readBudget, readSpend } = proxyActivities<LightActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1s', maximumInterval: '10s', maximumAttempts: 10, nonRetryableErrorTypes: [...NON_RETRYABLE.ledger, ...LEDGER_REFUSALS] },
});

/** The dataset owner sets (raises or lowers) an analyst's budget; the owner's signature is checked first. */
export async function grantBudget(input: unknown): Promise<LedgerBalance> {
  const grant = parseInput('grantBudget', grantInputSchema, input);
  await authorize({ action: 'grant', request: input });
  return applyGrant(grant);
}

/** Anyone may read a balance (and one job's reservation): budgets are not private data. */
export async function readBudgetBalance(input: unknown): Promise<BudgetReadResult> {
  return readBudget(parseInput('readBudget', budgetReadSchema, input));
}

/** What a dataset has spent across all its ledgers (every analyst's and the synthetic twin's). */
export async function readDatasetSpend(input: unknown): Promise<DatasetSpend> {
  return readSpend(parseInput('readDatasetSpend', datasetSpendSchema, input));
}

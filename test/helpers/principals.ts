// Principals for tests: a fresh data owner or analyst per call (run-unique ids, created in the
// registry on the test S3 server), and helpers to sign workflow inputs with their tokens the way
// the SDK does. Tests play the operator here: creating principals needs the S3 credentials.
import { createPrincipal, signRequest, type Role } from '../../infra/access/index.ts';
import { tokenSigner, type SignedCallOptions } from '../../clients/sdk/budget.ts';
import { uniqueName } from './names.ts';
import { testStore } from './storage.ts';

export interface TestPrincipal {
  id: string;
  token: string;
}

/** A new principal named after `base` (run-unique). */
export async function newPrincipal(base: string, role: Role, options: { privileged?: boolean } = {}): Promise<TestPrincipal> {
  const id = uniqueName(base);
  const { token } = await createPrincipal(await testStore(), { id, role, privileged: options.privileged });
  return { id, token };
}

export const newOwner = (base = 'owner'): Promise<TestPrincipal> => newPrincipal(base, 'owner');
export const newAnalyst = (base = 'analyst', options: { privileged?: boolean } = {}): Promise<TestPrincipal> => newPrincipal(base, 'analyst', options);

/** A workflow input signed by `who` for `workflow` (fineTune, sample, ingestDataset). */
export function signedBy<T extends object>(who: TestPrincipal, workflow: string, input: T): T {
  // A signed fine-tune names its job id; the SDK and the CLI make one the same way.
  const complete = workflow === 'fineTune' && !('jobId' in input) ? { ...input, jobId: uniqueName('job') } : input;
  return signRequest(who.token, workflow, complete);
}

/** Ledger options for a grant signed by the owner `who`. */
export function ownerLedger(who: TestPrincipal, taskQueue: string): SignedCallOptions {
  return { taskQueue, signer: tokenSigner(who.token) };
}


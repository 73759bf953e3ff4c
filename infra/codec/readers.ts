// Who may read a workflow's payloads, decided from what an attacker cannot forge through Temporal:
// the signed request each job starts with. The codec server reads the start event of every run of
// the workflow id (and of the schedule of that id, for scheduled runs), decrypts its input under
// that very workflow id (a ciphertext copied from elsewhere does not open), and checks the
// request's signature against the principal registry in S3. The signer may read; for fine-tunes
// and ingests, so may the owner of the dataset; operators read everything. Runs signed by different
// principals under one id (an id reused after a job closed) make the workflow operator-only.
// Ledgers hold balances, which any principal may read (README, Roles and tokens).
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { requestSignatureMatches } from '../access/index.ts';
import type { VeilPayloadCodec } from './codec.ts';

/** The action each workflow type's input is signed for (activities/access/policy.ts). */
const SIGNED_ACTION: Record<string, string> = {
  fineTune: 'fineTune',
  sample: 'sample',
  ingestDataset: 'ingestDataset',
  stageUpload: 'upload',
  catalog: 'catalog',
  grantBudget: 'grant',
  registerOwnerCanaries: 'registerOwnerCanaries',
  setAuditPolicy: 'setAuditPolicy',
  showAudit: 'showAudit',
  modelDownload: 'modelDownload',
  jobsUiFilter: 'jobsUiFilter',
};
/** Budget reads: any principal may read balances and a dataset's total spend. */
const READABLE_BY_ANY_PRINCIPAL = new Set(['readBudgetBalance', 'readDatasetSpend']);

export interface StartedRun {
  workflowType: string;
  input: Payload[];
}

export interface ReaderSources {
  /** The start events of every run of `workflowId` (or of the schedule with that id). */
  startedRuns(workflowId: string): Promise<StartedRun[]>;
  principalSecret(id: string): Promise<string | undefined>;
  datasetOwner(name: string): Promise<string | undefined>;
}

export interface Readers {
  anyPrincipal: boolean;
  principals: ReadonlySet<string>;
}

const NOBODY: Readers = { anyPrincipal: false, principals: new Set() };
const CACHE_MS = 30_000;

export class WorkflowReaders {
  private readonly cache = new Map<string, { at: number; readers: Promise<Readers> }>();

  constructor(private readonly codec: VeilPayloadCodec, private readonly sources: ReaderSources) {}

  /** Who may read payloads sealed for `workflowId` (operators not listed: they read everything). */
  readersOf(workflowId: string): Promise<Readers> {
    const hit = this.cache.get(workflowId);
    if (hit && Date.now() - hit.at < CACHE_MS) return hit.readers;
    const readers = this.compute(workflowId).catch(() => NOBODY);
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(workflowId, { at: Date.now(), readers });
    return readers;
  }

  private async compute(workflowId: string): Promise<Readers> {
    const runs = await this.sources.startedRuns(workflowId);
    if (runs.length === 0) return NOBODY;
    if (runs.every((r) => READABLE_BY_ANY_PRINCIPAL.has(r.workflowType))) return { anyPrincipal: true, principals: new Set() };
    const perRun = await Promise.all(runs.map((run) => this.readersOfRun(workflowId, run)));
    const signers = new Set(perRun.map((r) => r?.signer));
    if (signers.size !== 1 || signers.has(undefined)) return NOBODY;
    return { anyPrincipal: false, principals: new Set(perRun.flatMap((r) => r!.readers)) };
  }

  private async readersOfRun(workflowId: string, run: StartedRun): Promise<{ signer: string; readers: string[] } | undefined> {
    const action = SIGNED_ACTION[run.workflowType];
    if (!action || run.input.length === 0) return undefined;
    const [opened] = await this.codec.decode([run.input[0]], { type: 'workflow', namespace: '', workflowId });
    const request = defaultPayloadConverter.fromPayload<Record<string, unknown>>(opened);
    const auth = request?.auth as { principal?: unknown; signature?: unknown } | undefined;
    if (typeof auth?.principal !== 'string' || typeof auth.signature !== 'string') return undefined;
    const secret = await this.sources.principalSecret(auth.principal);
    if (!secret || !requestSignatureMatches(secret, action, request)) return undefined;
    const readers = [auth.principal];
    const dataset = run.workflowType === 'fineTune' ? (request.dataset as { name?: unknown } | undefined)?.name : run.workflowType === 'ingestDataset' ? request.name : undefined;
    if (typeof dataset === 'string') {
      const owner = await this.sources.datasetOwner(dataset);
      if (owner) readers.push(owner);
    }
    return { signer: auth.principal, readers };
  }
}

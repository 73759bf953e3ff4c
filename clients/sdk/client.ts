// VeilClient: the TypeScript entry point to Veil for data owners and analysts. It holds a Temporal
// connection and the caller's token, nothing else: every read and every job goes through Veil's
// workers, signed, so no client ever needs the object store's credentials. Each area of Veil adds
// its methods here and keeps its logic in its own module next to this one (datasets.ts, budget.ts, …).
import type { Client } from '@temporalio/client';
import { config, taskQueueNames, type VeilConfig } from '../../infra/config.ts';
import { remoteCodecClient } from './remote-codec.ts';
import type { DatasetSummary } from '../../contracts/datasets.ts';
import * as catalog from './catalog.ts';
import { addDataset, type AddDatasetOptions, type AddDatasetResult } from './datasets.ts';
import type { FineTuneInput, FineTuneResult } from '../../contracts/fine-tune.ts';
import type { SampleInput, SampleResult } from '../../contracts/sample.ts';
import * as jobs from './jobs/index.ts';
import * as models from './models.ts';
import { DatasetRef, FittedModel, describeBaseModel, fineTuneInputOf, type EvalOptions, type GPT2 } from './notebook.ts';
import { ProgressLines } from './progress.ts';
import * as schedules from './schedules.ts';
import { AccessTokenError, parseToken } from '../../infra/access/index.ts';
import { balance, grantBudget, tokenSigner, type LedgerBalance } from './budget.ts';

export interface VeilClientOptions {
  /**
   * Your access token (`veil access add` prints it; default: VEIL_TOKEN). Every request is signed
   * with it and checked by Veil's workers; the token itself never leaves this process.
   */
  token?: string;
  /** Addresses and credentials (default: from the environment, see `veil infra config`). */
  config?: VeilConfig;
  /** The task queue of Veil's workflows (default `veil`; tests use their own). */
  taskQueue?: string;
  /** Use this Temporal client instead of connecting one (it is then not closed by close()). */
  temporal?: Client;
  /**
   * Where read-only requests run (catalog, balances, audits): default VEIL_READS_NAMESPACE for a
   * client this connects; a `temporal` passed in keeps reads in its namespace unless this is given.
   */
  readsNamespace?: string;
}

export class VeilClient {
  private constructor(
    /** The underlying Temporal client, for what this class does not wrap yet. */
    readonly temporal: Client,
    readonly taskQueue: string,
    private readonly ownsTemporal: boolean,
    private readonly token: string,
  ) {}

  static async connect(options: VeilClientOptions = {}): Promise<VeilClient> {
    const cfg = options.config ?? config();
    const token = options.token ?? process.env.VEIL_TOKEN;
    if (!token) throw new AccessTokenError('no access token: pass VeilClient.connect({ token }) or set VEIL_TOKEN (`veil access add` prints one)');
    parseToken(token); // a malformed token fails here, not on the server
    // Payloads are sealed and opened by the codec server, as this token's principal: no keys here.
    const temporal = options.temporal ?? (await remoteCodecClient(cfg, token));
    const readsNamespace = options.readsNamespace ?? (options.temporal === undefined ? cfg.VEIL_READS_NAMESPACE : undefined);
    if (readsNamespace !== undefined) catalog.sendReadsTo(temporal, readsNamespace);
    return new VeilClient(temporal, options.taskQueue ?? taskQueueNames(cfg).light, options.temporal === undefined, token);
  }

  /** Whose token this client signs with. */
  get principal(): string {
    return parseToken(this.token).principal;
  }

  private get catalog(): catalog.CatalogConnection {
    return { temporal: this.temporal, taskQueue: this.taskQueue, token: this.token };
  }

  /** Every dataset with its latest version, row count and schema (never its rows). */
  listDatasets(): Promise<DatasetSummary[]> {
    return catalog.listDatasets(this.catalog);
  }

  /**
   * Uploads a local CSV or JSON Lines file and ingests it as a new version of dataset `name`
   * (version 1 for a new name, k+1 when versions 1..k exist; earlier versions are kept).
   * Rejects with DatasetIngestError (exitCode 3) when the file is invalid; nothing is kept then.
   */
  addDataset(name: string, file: string, options: Omit<AddDatasetOptions, 'token'> = {}): Promise<AddDatasetResult> {
    return addDataset(this.temporal, this.taskQueue, name, file, { ...options, token: this.token });
  }

  /** Data owners: sets (raises or lowers) an analyst's (ε, δ) budget on a dataset you own. */
  grantBudget(request: { dataset: string; analyst: string; epsilon: number; delta: number }): Promise<LedgerBalance> {
    return grantBudget(this.temporal, request, { taskQueue: this.taskQueue, signer: tokenSigner(this.token) });
  }

  /** An analyst's budget on a dataset: granted, reserved, committed, remaining. */
  budget(request: { dataset: string; analyst?: string }): Promise<LedgerBalance> {
    return balance(this.temporal, { dataset: request.dataset, analyst: request.analyst ?? this.principal }, { taskQueue: this.taskQueue });
  }

  async close(): Promise<void> {
    if (this.ownsTemporal) await this.temporal.connection.close();
  }

  // ---- Jobs and schedules (logic in jobs.ts and schedules.ts) ----

  /** Starts a fine-tune (workflow `finetune-<jobId>`); input errors reject with JobInputError (exitCode 2). */
  startFineTune(input: FineTuneInput): Promise<jobs.StartedJob> {
    return jobs.startFineTune(this.temporal, input, { taskQueue: this.taskQueue, token: this.token });
  }

  /** Follows a fine-tune until it ends (onUpdate sees its training progress); never rejects for a failed job. */
  watchFineTune(workflowId: string, options?: jobs.WatchOptions): Promise<jobs.JobOutcome<FineTuneResult>> {
    return jobs.watchFineTune(this.temporal, workflowId, options);
  }

  /** Starts a sample job (workflow `sample-<id>`) and waits for its samples, or the refusal. */
  sample(input: SampleInput, options: { sampleId?: string } = {}): Promise<{ job: jobs.StartedJob; outcome: jobs.JobOutcome<SampleResult> }> {
    return jobs.runSample(this.temporal, input, { taskQueue: this.taskQueue, token: this.token, ...options });
  }

  listJobs(options: { limit?: number; kinds?: jobs.JobKind[] } = {}): Promise<jobs.JobSummary[]> {
    return jobs.listJobs(this.temporal, { taskQueue: this.taskQueue, ...options });
  }

  /** A job by job id or workflow id: status, input summary (never data), progress, result. */
  showJob(id: string): Promise<jobs.JobDetails> {
    return jobs.showJob(this.temporal, id);
  }

  /**
   * The Temporal UI's list query for your own fine-tunes (`VeilAnalyst="…"`), or for every job on a
   * dataset you own; the list holds keyed pseudonyms, never names.
   */
  uiFilter(options: { dataset?: string } = {}): Promise<jobs.UiFilterAnswer> {
    return jobs.uiFilter(this.temporal, { taskQueue: this.taskQueue, token: this.token, ...options });
  }

  cancelJob(id: string, options?: { wait?: boolean }): ReturnType<typeof jobs.cancelJob> {
    return jobs.cancelJob(this.temporal, id, options);
  }

  createSchedule(options: Omit<schedules.FineTuneScheduleOptions, 'taskQueue' | 'token'>): Promise<schedules.FineTuneScheduleInfo> {
    return schedules.createFineTuneSchedule(this.temporal, { ...options, taskQueue: this.taskQueue, token: this.token });
  }

  listSchedules(): Promise<schedules.FineTuneScheduleInfo[]> {
    return schedules.listFineTuneSchedules(this.temporal, { taskQueue: this.taskQueue });
  }

  describeSchedule(name: string): Promise<schedules.FineTuneScheduleInfo> {
    return schedules.describeFineTuneSchedule(this.temporal, name);
  }

  pauseSchedule(name: string, note?: string): Promise<void> {
    return schedules.pauseSchedule(this.temporal, name, note);
  }

  unpauseSchedule(name: string, note?: string): Promise<void> {
    return schedules.unpauseSchedule(this.temporal, name, note);
  }

  deleteSchedule(name: string): Promise<void> {
    return schedules.deleteSchedule(this.temporal, name);
  }

  /** Starts a run of the schedule now; resolves with its workflow id. */
  triggerSchedule(name: string): Promise<{ workflowId: string | null }> {
    return schedules.triggerSchedule(this.temporal, name);
  }

  /**
   * Writes a registered model this client's principal may read (the sample release's rules) into
   * `dir` as a folder transformers opens unchanged; every file is checked against its sha256.
   */
  downloadModel(modelId: string, dir: string): Promise<models.DownloadedModel> {
    return models.downloadModel({ temporal: this.temporal, taskQueue: this.taskQueue, token: this.token }, modelId, dir);
  }

  /** A lazy reference to a dataset (the latest version unless one is given). */
  dataset(name: string, version?: number): DatasetRef {
    return new DatasetRef(this.catalog, name, version);
  }

  /**
   * Runs the fine-tune a fitted GPT2 stands for (fineTune workflow), prints its evaluation line
   * ("Differentially-private evaluation (epsilon=…)", or "Non-private evaluation …" for
   * 'unlimited') and where its weights started, and returns the registered model. Progress goes
   * to `onProgress` (default stderr) as the CLI shows it.
   */
  async eval(model: GPT2, options: Omit<EvalOptions, 'analyst'> & { analyst?: string }): Promise<FittedModel> {
    // The analyst is whoever this client's token belongs to (the workers refuse anyone else).
    const analyst = options.analyst ?? this.principal;
    const input = await fineTuneInputOf(model, { ...options, analyst });
    const job = await this.startFineTune(input);
    const print = options.onProgress === false ? undefined : (options.onProgress ?? ((line: string) => process.stderr.write(`${line}\n`)));
    const lines = new ProgressLines();
    const outcome = await this.watchFineTune(job.workflowId, {
      onUpdate: ({ activity }) => {
        const line = lines.next(activity);
        if (line !== null) print?.(line);
      },
    });
    // A refused or cancelled job says why in its result's message (what remains of the budget, what it spent).
    const why = (r: FineTuneResult) => (r.status === 'budget-exhausted' ? `budget exhausted: ${r.message}` : r.message);
    if (outcome.status !== 'completed') throw new Error(outcome.result ? why(outcome.result) : `fine-tune ${job.workflowId} ${outcome.status}: ${outcome.message}`);
    if (outcome.result.status !== 'completed') throw new Error(why(outcome.result));
    console.log(outcome.result.message);
    console.log(`model ${outcome.result.modelId}: ${describeBaseModel(model.base)}`);
    return new FittedModel(async (input) => {
      const { outcome: o } = await this.sample(input);
      if (o.status !== 'completed') throw new Error(`sampling failed: ${o.message}`);
      return o.result;
    }, outcome.result, analyst);
  }
}

export { DatasetRef, FittedModel, GPT2 } from './notebook.ts';
export type { AddDatasetOptions, AddDatasetResult, DatasetSummary };
export { DatasetIngestError } from './datasets.ts';

// VeilClient: the TypeScript entry point to Veil for data owners and analysts. One object holds
// the connections (Temporal, S3); each area of Veil adds its methods here and keeps its logic in
// its own module next to this one (datasets.ts, ledger.ts, …).
import type { Client } from '@temporalio/client';
import { TASK_QUEUE, config, type VeilConfig } from '../../infra/config.ts';
import { temporalClient } from '../../infra/temporal.ts';
import { ArtifactStore } from '../../infra/storage/index.ts';
import { listDatasets, type DatasetSummary } from '../../activities/datasets/registry.ts';
import { addDataset, type AddDatasetOptions, type AddDatasetResult } from './datasets.ts';

export interface VeilClientOptions {
  /** Addresses and credentials (default: from the environment, see `veil infra config`). */
  config?: VeilConfig;
  /** The task queue of Veil's workflows (default `veil`; tests use their own). */
  taskQueue?: string;
  /** Use this Temporal client instead of connecting one (it is then not closed by close()). */
  temporal?: Client;
}

export class VeilClient {
  private constructor(
    /** The underlying Temporal client, for what this class does not wrap yet. */
    readonly temporal: Client,
    readonly store: ArtifactStore,
    readonly taskQueue: string,
    private readonly ownsTemporal: boolean,
  ) {}

  static async connect(options: VeilClientOptions = {}): Promise<VeilClient> {
    const cfg = options.config ?? config();
    const store = await ArtifactStore.fromConfig(cfg);
    const temporal = options.temporal ?? (await temporalClient(cfg));
    return new VeilClient(temporal, store, options.taskQueue ?? TASK_QUEUE, options.temporal === undefined);
  }

  /** Every dataset with its latest version, row count and schema (never its rows). */
  listDatasets(): Promise<DatasetSummary[]> {
    return listDatasets(this.store);
  }

  /**
   * Uploads a local CSV or JSON Lines file and ingests it as a new version of dataset `name`
   * (version 1 for a new name, k+1 when versions 1..k exist; earlier versions are kept).
   * Rejects with DatasetIngestError (exitCode 3) when the file is invalid; nothing is kept then.
   */
  addDataset(name: string, file: string, options?: AddDatasetOptions): Promise<AddDatasetResult> {
    return addDataset(this.temporal, this.store, this.taskQueue, name, file, options);
  }

  async close(): Promise<void> {
    if (this.ownsTemporal) await this.temporal.connection.close();
  }
}

export type { AddDatasetOptions, AddDatasetResult, DatasetSummary };
export { DatasetIngestError } from './datasets.ts';

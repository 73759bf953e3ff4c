// The `veil` package's entry point: what a TypeScript analyst or data owner imports.
//
//   import { VeilClient, GPT2, trace } from 'veil';
//
// The package ships TypeScript sources (ESM): run scripts with `node --import tsx script.ts`
// (tsx is one of Veil's dependencies), from a folder whose package.json says "type": "module"
// or with the .mts extension, so that top-level await works. See examples/README.md.
export { VeilClient, type VeilClientOptions, DatasetIngestError, type AddDatasetOptions, type AddDatasetResult, type DatasetSummary } from './client.ts';
export { DatasetRef, FittedModel, GPT2, type FitOptions, type EvalOptions, type SyntheticPreview, type SplitRequest } from './notebook.ts';
export { trace, traceSource, TraceError, type TracedFunction } from '../../engine/sandbox/index.ts';
export { JobInputError, JobNotFoundError, type StartedJob, type JobOutcome, type JobSummary, type JobDetails } from './jobs/index.ts';
export { LedgerError, type LedgerBalance } from './budget.ts';
export { downloadModel, ModelDownloadError, type DownloadedModel, type ModelsConnection } from './models.ts';
export type { ModelDownloadResult } from '../../contracts/models.ts';
export type { FineTuneInput, FineTuneResult, TrainProgress } from '../../contracts/fine-tune.ts';
export type { SampleInput, SampleResult } from '../../contracts/sample.ts';

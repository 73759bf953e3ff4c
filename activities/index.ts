// Every activity Veil runs, grouped by the task queue that executes it. Activities are where side
// effects live: S3 I/O, sandbox runs and compute (which calls into engine/).
import { authorize } from './access/authorize.ts';
import { auditActivities } from './audit/index.ts';
import { applyGrant, commitBudget, planPrivacy, readBudget, readSpend, reserveBudget } from './budget/budget.ts';
import { datasetActivities } from './datasets/index.ts';
import { readCatalog } from './datasets/catalog.ts';
import { presignUpload } from './datasets/presign.ts';
import { jobActivities } from './jobs/index.ts';
import { presignModelDownload } from './models/download.ts';
import { registerModel } from './models/registry.ts';
import { generateSamples } from './sampling/generate.ts';
import { checkRelease } from './sampling/release.ts';
import { buildSyntheticTwin } from './synthetic/twin.ts';
import { trainingGpuActivities, trainingLightActivities } from './training/index.ts';

/** Light activities: validation, S3 bookkeeping, sandboxed preprocessing. Run on the `veil` queue. */
export function lightActivities() {
  return {
    authorize,
    ...datasetActivities(),
    readCatalog,
    presignUpload,
    ...trainingLightActivities(),
    planPrivacy,
    reserveBudget,
    commitBudget,
    applyGrant,
    readBudget,
    readSpend,
    registerModel,
    presignModelDownload,
    checkRelease,
    buildSyntheticTwin,
    ...jobActivities(),
  };
}

/** Heavy activities: training, evaluation, sampling, audit. Run on the `veil-gpu` queue. */
export function gpuActivities() {
  return {
    ...trainingGpuActivities(),
    generateSamples,
    ...auditActivities(),
  };
}

export type LightActivities = ReturnType<typeof lightActivities>;
export type GpuActivities = ReturnType<typeof gpuActivities>;

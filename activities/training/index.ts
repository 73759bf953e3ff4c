// The fine-tune's activities as the workers register them: data preparation and bookkeeping on
// the `veil` queue, compute on `veil-gpu`.
import { sharedStore } from '../shared/resources.ts';
import { epsilonSpentSoFar } from './checkpoints.ts';
import { evaluateModel } from './evaluate.ts';
import { checkFineTune } from './preflight.ts';
import { readJobResult, recordJobResult } from './releases.ts';
import { prepareTrainingData } from './prepare-data.ts';
import { releaseDataReport } from './data-report.ts';
import { train } from './train.ts';

export function trainingLightActivities() {
  return {
    checkFineTune,
    readJobResult,
    recordJobResult,
    prepareTrainingData,
    releaseDataReport,
    async spentSoFar(input: { jobId: string }) {
      return epsilonSpentSoFar(await sharedStore(), input.jobId);
    },
  };
}

export function trainingGpuActivities() {
  return { train, evaluateModel };
}

export type { TrainOutput } from './train.ts';
export type { Evaluation } from './evaluate.ts';

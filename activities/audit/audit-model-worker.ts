// The audit's compute, run in a worker thread by audit-model.ts (compute-worker.ts): the model's
// sessions, extraction sampling and the scoring of canaries and rows block their thread for
// seconds at a time on a large model. The rows, canaries and report stay with the activity.
import { SequenceScorer, runPrivacyAudit, type PrivacyAudit, type PrivacyAuditInput } from '../../engine/audit/index.ts';
import { Gpt2Model, loadCheckpoint } from '../../engine/gpt2/index.ts';
import { sessionConfigFromEnv } from '../../engine/onnx/index.ts';
import type { ComputeProgress } from '../shared/compute-worker.ts';

export interface FolderAudit {
  /** A local model folder (config.json and the weight files). */
  dir: string;
  audit: Omit<PrivacyAuditInput, 'onProgress'>;
}

export async function auditFromFolder(input: FolderAudit, progress: ComputeProgress): Promise<PrivacyAudit> {
  const checkpoint = await loadCheckpoint(input.dir);
  const session = sessionConfigFromEnv();
  const generator = await Gpt2Model.load(input.dir, { session }); // its own mapped weights; the scorer holds the checkpoint
  progress.report({ phase: 'loading' });
  let scorer: SequenceScorer | undefined;
  try {
    scorer = await SequenceScorer.create(checkpoint, { session });
    return await runPrivacyAudit(
      { generator, scorer },
      // Only the phase leaves the activity (counts of usable rows are private).
      { ...input.audit, onProgress: (phase) => progress.report({ phase }) },
    );
  } finally {
    await generator.release();
    await scorer?.release();
  }
}

// Jobs in words: ε, durations, training progress, the current phase, results and data reports,
// as the CLI prints them.
import { FINE_TUNE_PHASES, type FineTuneResult, type TrainProgress } from '../../contracts/fine-tune.ts';
import { SAMPLE_PHASES, type SampleResult } from '../../contracts/sample.ts';
import type { JobActivity, JobOutcome } from '../sdk/jobs/index.ts';

export const formatEpsilon = (e: number | 'unlimited'): string => (e === 'unlimited' ? 'unlimited' : e.toFixed(2));

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export function formatProgress(p: TrainProgress): string {
  const parts = [`step ${p.step}/${p.totalSteps || '?'}`];
  if (p.loss !== null) parts.push(`loss ${p.loss.toFixed(3)}`);
  parts.push(`ε ${formatEpsilon(p.epsilon)}`);
  return parts.join(', ');
}

/** The activities of the fineTune and sample workflows, as phases a user recognises (from the contracts). */
const PHASES: Record<string, string> = Object.fromEntries([...FINE_TUNE_PHASES, ...SAMPLE_PHASES].map((p) => [p.activity, p.label]));

/** What a running job does, in words: "training: step 4/12, loss 3.210, ε 1.02". */
export function describeActivity(a: JobActivity | null): string {
  if (!a) return 'running';
  const retry = a.attempt > 1 ? ` (attempt ${a.attempt}${a.lastFailure ? `: ${a.lastFailure}` : ''})` : '';
  if (a.activity === 'train') return `training: ${a.progress && a.progress.totalSteps > 0 ? formatProgress(a.progress) : 'starting'}${retry}`;
  return `${PHASES[a.activity] ?? a.activity}${retry}`;
}

/** A fine-tune's result in two lines: the evaluation message, then the model and its privacy. */
export function describeFineTuneResult(r: FineTuneResult): string {
  if (r.status === 'budget-exhausted') return `budget exhausted: ${r.message}`;
  if (r.status === 'cancelled') return r.message;
  const delta = r.delta === null ? '' : `, δ=${r.delta.toPrecision(3)}`;
  return [`${r.message}`, `model ${r.modelId} (ε=${formatEpsilon(r.epsilon)}${delta}, ${r.steps} steps on ${r.trainRows} rows)`, ...describeDataReport(r.dataReport)].join('\n');
}

/** The data report in a line or two: failures per function, rows without text, rows cut. */
function describeDataReport(report: FineTuneResult['dataReport']): string[] {
  if (!report) return [];
  const about = report.epsilon === null ? '' : 'about ';
  const failed = report.preprocessing.filter((s) => s.failures).map((s) => `${s.function?.name ?? s.kind} failed on ${about}${s.failures!.count}`);
  const parts = [...failed, `${about}${report.skippedRows} without text`, `${about}${report.truncatedRows} cut to the maximum length`];
  return [`rows: ${parts.join(', ')}`, `  (${report.notice})`];
}

export function describeOutcome(o: JobOutcome<FineTuneResult | SampleResult>): string {
  if (o.status !== 'completed') return `${o.status}: ${o.message}`;
  if ('samples' in o.result) return `${o.result.samples.length} samples from model ${o.result.modelId} (ε=${formatEpsilon(o.result.epsilon)}), stored at ${o.result.key}`;
  return describeFineTuneResult(o.result);
}

/** `veil finetune` and `veil jobs watch` exit codes, by how the fine-tune ended. */
export const EXIT = { completed: 0, failed: 1, 'budget-exhausted': 3, cancelled: 4 } as const;


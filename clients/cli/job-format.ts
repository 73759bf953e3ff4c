// Jobs in words: ε, durations, training progress, the current phase, results and data reports,
// as the CLI prints them.
import type { FineTuneResult } from '../../contracts/fine-tune.ts';
import type { SampleResult } from '../../contracts/sample.ts';
import type { JobOutcome } from '../sdk/jobs/index.ts';
import { formatEpsilon } from '../sdk/progress.ts';
import { describeBaseModel } from '../sdk/notebook.ts';

export { formatEpsilon, formatDuration, formatProgress, describeActivity } from '../sdk/progress.ts';

/** A fine-tune's result in two lines: the evaluation message, then the model and its privacy. */
export function describeFineTuneResult(r: FineTuneResult): string {
  if (r.status === 'budget-exhausted') return `budget exhausted: ${r.message}`;
  if (r.status === 'cancelled') return r.message;
  const delta = r.delta === null ? '' : `, δ=${r.delta.toPrecision(3)}`;
  const start = r.baseModel ? `, ${describeBaseModel(r.baseModel.base)}` : '';
  return [`${r.message}`, `model ${r.modelId} (ε=${formatEpsilon(r.epsilon)}${delta}, ${r.steps} steps on ${r.trainRows} rows)${start}`, ...describeDataReport(r.dataReport)].join('\n');
}

/** The data report in a line or two: failures per function, rows without text, rows cut. */
function describeDataReport(report: FineTuneResult['dataReport']): string[] {
  if (!report) return [];
  // A DP count is shown with its noise's 95% interval (counts are unclamped: one may be negative).
  const within = (n: number, halfWidth: number | undefined) => (report.epsilon === null ? `${n}` : halfWidth === undefined ? `about ${n}` : `${n} (±${halfWidth}, 95%)`);
  const failed = report.preprocessing.filter((s) => s.failures).map((s) => `${s.function?.name ?? s.kind} failed on ${within(s.failures!.count, report.interval95?.total)}`);
  const parts = [...failed, `${within(report.skippedRows, report.interval95?.count)} without text`, `${within(report.truncatedRows, report.interval95?.count)} cut to the maximum length`];
  return [`rows: ${parts.join(', ')}`, `  (${report.notice})`];
}

export function describeOutcome(o: JobOutcome<FineTuneResult | SampleResult>): string {
  // A refused or cancelled fine-tune kept its result: the same words as when it completed with it.
  if (o.status !== 'completed') return o.result && !('samples' in o.result) ? describeFineTuneResult(o.result) : `${o.status}: ${o.message}`;
  if ('samples' in o.result) return `${o.result.samples.length} samples from model ${o.result.modelId} (ε=${formatEpsilon(o.result.epsilon)}), stored at ${o.result.key}`;
  return describeFineTuneResult(o.result);
}

/** `veil finetune` and `veil jobs watch` exit codes, by how the fine-tune ended. */
export const EXIT = { completed: 0, failed: 1, 'budget-exhausted': 3, cancelled: 4 } as const;


// Following a fine-tune from the command line: a live progress bar on a terminal (one line per
// change otherwise), a hint when no worker picks the job up, and the exit code of its outcome.
import cliProgress from 'cli-progress';
import type { Client } from '@temporalio/client';
import type { FineTuneResult, TrainProgress } from '../../contracts/fine-tune.ts';
import { watchFineTune, type JobActivity, type JobOutcome, type StartedJob } from '../sdk/jobs/index.ts';
import { EXIT, describeActivity, describeFineTuneResult, formatDuration, formatEpsilon, formatProgress } from './job-format.ts';
import { EtaClock } from '../sdk/progress.ts';

/** Live progress: a bar on a terminal, one line per change (at most every 10 s) otherwise. */
class ProgressView {
  private bar: cliProgress.SingleBar | undefined;
  private lastText = '';
  private lastLineAt = 0;
  private readonly clock = new EtaClock();

  constructor(private readonly tty: boolean) {}

  update(activity: JobActivity | null): void {
    const p = activity?.activity === 'train' && !activity.queued ? activity.progress : null;
    if (p && p.totalSteps > 0) return this.training(p);
    if (!activity) return; // between two activities
    const text = describeActivity(activity);
    if (text === this.lastText) return;
    this.lastText = text;
    if (this.bar) return; // evaluation and registration follow training: the bar stays until stop()
    this.line(`… ${text}`);
  }

  private eta(p: TrainProgress): string {
    return formatDuration(this.clock.remaining(p));
  }

  private training(p: TrainProgress): void {
    // `remaining`, not `eta`: cli-progress fills {eta} itself, from the calls' timing.
    const values = { loss: p.loss === null ? '–' : p.loss.toFixed(3), epsilon: formatEpsilon(p.epsilon), remaining: this.eta(p) };
    if (this.tty) {
      if (!this.bar) {
        this.bar = new cliProgress.SingleBar(
          { format: 'training {bar} {value}/{total} steps | loss {loss} | ε {epsilon} | ETA {remaining}', stream: process.stdout, hideCursor: true, fps: 5 },
          cliProgress.Presets.shades_classic,
        );
        this.bar.start(p.totalSteps, p.step, values);
      } else {
        this.bar.setTotal(p.totalSteps);
        this.bar.update(p.step, values);
      }
      return;
    }
    const text = `training: ${formatProgress(p)}, ETA ${values.remaining}`;
    if (text !== this.lastText && (Date.now() - this.lastLineAt >= 10_000 || p.step === p.totalSteps)) {
      this.lastText = text;
      this.line(text);
    }
  }

  private line(text: string): void {
    if (this.bar) return;
    this.lastLineAt = Date.now();
    console.log(text);
  }

  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}

const NO_WORKER_HINT_AFTER_MS = 5_000;

/** Follows a fine-tune (progress on stdout unless `json`); Ctrl-C stops watching (the job runs on), exit code 130. */
export async function followFineTune(client: Client, taskQueue: string, job: Pick<StartedJob, 'jobId' | 'workflowId'>, json: boolean): Promise<JobOutcome<FineTuneResult>> {
  const view = json ? undefined : new ProgressView(Boolean(process.stdout.isTTY));
  const stop = new AbortController();
  const onSigint = (): void => stop.abort(new Error('interrupted'));
  process.once('SIGINT', onSigint);
  const startedAt = Date.now();
  let hinted = false;
  try {
    return await watchFineTune(client, job.workflowId, {
      signal: stop.signal,
      onUpdate: ({ status, activity, historyLength }) => {
        view?.update(activity);
        // Only the start events in the history: no worker has picked the workflow up yet.
        if (!hinted && status === 'running' && historyLength <= 2 && Date.now() - startedAt > NO_WORKER_HINT_AFTER_MS) {
          hinted = true;
          process.stderr.write(`veil: still waiting for a worker on task queue "${taskQueue}": is \`veil worker\` running?\n`);
        }
      },
    });
  } catch (err) {
    if (!stop.signal.aborted) throw err;
    view?.stop();
    process.stderr.write(`\nstopped watching; job ${job.jobId} keeps running (veil jobs show ${job.jobId}, veil jobs cancel ${job.jobId})\n`);
    return process.exit(130);
  } finally {
    view?.stop();
    process.off('SIGINT', onSigint);
  }
}

export function reportFineTune(outcome: JobOutcome<FineTuneResult>, json: boolean): number {
  // Budget-exhausted and settled cancellations end failed/cancelled in Temporal with their result.
  if (outcome.status !== 'completed' && outcome.result === undefined) {
    if (json) console.log(JSON.stringify(outcome));
    else console.error(`veil: fine-tune ${outcome.status}: ${outcome.message}`);
    return outcome.status === 'cancelled' ? EXIT.cancelled : EXIT.failed;
  }
  const r = outcome.result!;
  console.log(json ? JSON.stringify(r) : describeFineTuneResult(r));
  return EXIT[r.status];
}


// A job's progress in words, the same for the SDK and the CLI: the phase it is in, "queued" while
// its activity waits for a free worker slot, and training as step, ε and time left.
import { FINE_TUNE_PHASES, type TrainProgress } from '../../contracts/fine-tune.ts';
import { SAMPLE_PHASES } from '../../contracts/sample.ts';
import type { JobActivity } from './jobs/index.ts';

/** ε as Veil prints it everywhere: two decimals, or 'unlimited'. */
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

/** What a running job does, in words: "training: step 4/12, loss 3.210, ε 1.02", or "queued: …". */
export function describeActivity(a: JobActivity | null): string {
  if (!a) return 'running';
  const phase = a.activity === 'train' ? 'training' : (PHASES[a.activity] ?? a.activity);
  if (a.queued) return `queued: ${phase} waits for a free worker slot${a.activity === 'train' ? ' (another training is running)' : ''}`;
  const retry = a.attempt > 1 ? ` (attempt ${a.attempt}${a.lastFailure ? `: ${a.lastFailure}` : ''})` : '';
  if (a.activity === 'train') return `training: ${a.progress && a.progress.totalSteps > 0 ? formatProgress(a.progress) : 'starting'}${retry}`;
  return `${phase}${retry}`;
}

/**
 * Time left in training, from the rate of steps since the first one seen (a resumed run starts
 * above 0). Heartbeats arrive in bursts, so the time since the step last changed counts down.
 */
export class EtaClock {
  private origin: { step: number; at: number } | undefined;
  private lastChange: { step: number; at: number } | undefined;

  constructor(private readonly now: () => number = Date.now) {}

  /** Milliseconds left, or NaN before a rate is known. */
  remaining(p: TrainProgress): number {
    const now = this.now();
    if (!this.origin || p.step < this.origin.step) this.origin = this.lastChange = { step: p.step, at: now };
    if (p.step !== this.lastChange!.step) this.lastChange = { step: p.step, at: now };
    const done = this.lastChange!.step - this.origin.step;
    if (done <= 0) return NaN;
    const perStep = (this.lastChange!.at - this.origin.at) / done;
    return Math.max(0, perStep * (p.totalSteps - p.step) - (now - this.lastChange!.at));
  }
}

/**
 * Progress lines for a log (no terminal tricks): each phase once, "queued" while waiting, and
 * training at most every `everyMs` (and at its last step), with its ETA.
 */
export class ProgressLines {
  private readonly eta: EtaClock;
  private last = '';
  private lastTrainingAt = -Infinity;

  constructor(private readonly everyMs = 10_000, private readonly now: () => number = Date.now) {
    this.eta = new EtaClock(now);
  }

  /** The line to print for this update, or null when it says nothing new. */
  next(activity: JobActivity | null): string | null {
    if (!activity) return null;
    const p = activity.activity === 'train' && !activity.queued ? activity.progress : null;
    let line: string;
    if (p && p.totalSteps > 0) {
      line = `training: ${formatProgress(p)}, ETA ${formatDuration(this.eta.remaining(p))}`;
      const due = this.now() - this.lastTrainingAt >= this.everyMs || p.step === p.totalSteps;
      if (!due || line === this.last) return null;
      this.lastTrainingAt = this.now();
    } else {
      line = describeActivity(activity);
      if (line === this.last) return null;
    }
    this.last = line;
    return line;
  }
}

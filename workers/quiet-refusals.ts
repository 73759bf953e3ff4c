// Routine refusals (a bad signature, a forbidden request, invalid input, a missing dataset, an
// exhausted budget) are answers, not faults: the worker logs each as one line, not the warning
// and stack trace Temporal logs for every failed activity and workflow. Everything else passes
// through unchanged. An activity's failure arrives whole; a workflow's arrives from its thread
// without its type, so refusal-interceptor.ts logs the workflow's refusal line (marked) first, and
// Temporal's "Workflow failed" warning of that run is dropped here.
import type { LogLevel, LogMetadata, Logger } from '@temporalio/common';
import { Failure } from '../contracts/failures.ts';

/** Failure types that are a request's answer, never a fault of Veil's. */
export const ROUTINE_REFUSALS: ReadonlySet<string> = new Set([
  Failure.InvalidInput,
  Failure.Unauthenticated,
  Failure.Forbidden,
  Failure.DatasetNotFound,
  Failure.ModelNotFound,
  Failure.NotPrivileged,
  Failure.ReleaseRefused,
  Failure.BudgetRefused,
  Failure.BudgetExhausted,
  Failure.JobIdTaken,
]);

/** The metadata key of the workflow interceptor's refusal line. */
export const REFUSAL_MARK = 'veilRefusal';

/** How many runs' refusal marks are remembered until their "Workflow failed" line arrives. */
const MAX_MARKED_RUNS = 1000;

interface FailureLike {
  type?: unknown;
  message?: unknown;
  cause?: unknown;
}

/**
 * The routine refusal a logged error carries, or undefined. Duck-typed along the cause chain: a
 * workflow's failure comes from its sandbox, whose classes are not this module's.
 */
export function routineRefusal(error: unknown): { type: string; message: string } | undefined {
  let e = error as FailureLike | undefined;
  for (let depth = 0; e && typeof e === 'object' && depth < 8; depth++, e = e.cause as FailureLike | undefined) {
    if (typeof e.type === 'string' && ROUTINE_REFUSALS.has(e.type)) return { type: e.type, message: typeof e.message === 'string' ? e.message : '' };
  }
  return undefined;
}

/** Where the refusal happened, from the logger's metadata (ids and names only). */
function contextOf(meta: LogMetadata): LogMetadata {
  const keep = ['workflowType', 'workflowId', 'runId', 'activityType', 'taskQueue', 'namespace'];
  return Object.fromEntries(Object.entries(meta).filter(([k]) => keep.includes(k)));
}

/** A logger that writes routine refusals as one INFO line and hands the rest to `inner`. */
export class QuietRefusalsLogger implements Logger {
  private readonly refusedRuns = new Set<unknown>();

  constructor(private readonly inner: Logger) {}

  log(level: LogLevel, message: string, meta: LogMetadata = {}): void {
    if (meta[REFUSAL_MARK] !== undefined) {
      this.remember(meta.runId);
      const { [REFUSAL_MARK]: _mark, ...rest } = meta;
      return this.inner.info(message, contextOf(rest));
    }
    if (message === 'Workflow failed' && this.refusedRuns.delete(meta.runId)) return;
    const refusal = message === 'Activity failed' ? routineRefusal(meta.error) : undefined;
    if (!refusal) return this.inner.log(level, message, meta);
    this.inner.info(`activity refused (${refusal.type}): ${refusal.message}`, contextOf(meta));
  }

  private remember(runId: unknown): void {
    if (this.refusedRuns.size >= MAX_MARKED_RUNS) this.refusedRuns.clear();
    this.refusedRuns.add(runId);
  }

  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}

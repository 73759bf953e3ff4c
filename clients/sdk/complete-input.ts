// Completing a hand-written fineTune input (for the Temporal UI or a schedule): a job id when it has
// none, and each `map` step's function traced from its source, so nobody computes a sha256 by
// hand. A step's `fn` may be the function's source as a string, or {source, name} without sha256;
// a given sha256 must match its source. The result is checked against the workflow's own schema,
// every problem listed (JobInputError), before anything is signed.
import type { FineTuneInput } from '../../contracts/fine-tune.ts';
import { TraceError, traceSource, verifyTraced } from '../../engine/sandbox/index.ts';
import { JobInputError, newJobId, validateFineTuneInput, type InputIssue } from './jobs/index.ts';

function completeFn(fn: unknown, column: unknown, path: string, issues: InputIssue[]): unknown {
  const fallbackName = typeof column === 'string' ? column : '';
  try {
    if (typeof fn === 'string') return traceSource(fn.trim(), { name: fallbackName });
    if (fn && typeof fn === 'object' && 'source' in fn && typeof fn.source === 'string') {
      const f = fn as { source: string; name?: unknown; sha256?: unknown };
      const name = typeof f.name === 'string' ? f.name : fallbackName;
      if (f.sha256 === undefined) return traceSource(f.source, { name });
      verifyTraced({ kind: 'veil.traced', version: 1, ...f, name });
      return { kind: 'veil.traced', version: 1, ...f, name };
    }
  } catch (err) {
    if (err instanceof TraceError || err instanceof TypeError) {
      issues.push({ path, message: err.message });
      return fn;
    }
    throw err;
  }
  return fn; // not a function's source: the schema names the problem
}

/** The input with its job id and traced digests filled in; JobInputError lists every problem. */
export function completeFineTuneInput(raw: unknown): FineTuneInput {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new JobInputError([{ path: '', message: 'a fineTune input is a JSON object' }]);
  const input = { ...(raw as Record<string, unknown>) };
  if (input.jobId === undefined) input.jobId = newJobId();
  const issues: InputIssue[] = [];
  if (Array.isArray(input.preprocessing)) {
    input.preprocessing = input.preprocessing.map((step: unknown, i) => {
      if (!step || typeof step !== 'object' || (step as { kind?: unknown }).kind !== 'map') return step;
      const s = step as { column?: unknown; fn?: unknown };
      return { ...s, fn: completeFn(s.fn, s.column, `preprocessing.${i}.fn`, issues) };
    });
  }
  try {
    validateFineTuneInput(input);
  } catch (err) {
    if (!(err instanceof JobInputError)) throw err;
    issues.push(...err.issues);
  }
  if (issues.length > 0) throw new JobInputError(issues);
  return input as FineTuneInput;
}

// trace(fn): turn an analyst's function into a value that can travel (through a Temporal workflow
// input, into S3) and be run somewhere else, in a sandbox, over rows the analyst may not read.
//
// A TracedFunction is plain JSON. Whoever receives one must not trust it: `verifyTraced` re-checks
// the hash and the self-containment, and the sandbox runner calls it before running anything.

import { createHash } from 'node:crypto';
import { checkSource, TraceError } from './static-check.ts';

export interface TracedFunction {
  readonly kind: 'veil.traced';
  readonly version: 1;
  /** The JavaScript that runs (after tsx/esbuild, if the analyst wrote TypeScript). */
  readonly source: string;
  readonly name: string;
  /** sha256 (hex) of `source`: identifies the function in ledgers, caches and reports. */
  readonly sha256: string;
}

export interface TraceOptions {
  /** A name for reports; defaults to the function's own name. */
  readonly name?: string;
}

export function sourceSha256(source: string): string {
  return createHash('sha256').update(source, 'utf8').digest('hex');
}

export function trace(fn: (...args: never[]) => unknown, options: TraceOptions = {}): TracedFunction {
  if (typeof fn !== 'function') throw new TypeError('trace() expects a function');
  return traceSource(Function.prototype.toString.call(fn), { name: options.name ?? fn.name ?? '' });
}

/** The same as trace() for a function given as source text (a CLI reading a file, say). */
export function traceSource(source: string, options: TraceOptions = {}): TracedFunction {
  const name = options.name ?? '';
  const { violations } = checkSource(source);
  if (violations.length > 0) throw new TraceError(name, violations);
  return Object.freeze({ kind: 'veil.traced', version: 1, source, name, sha256: sourceSha256(source) });
}

/** A traced function from an untrusted channel: shape, hash and self-containment re-checked. */
export function verifyTraced(value: unknown): TracedFunction & { readonly expression: string } {
  const v = value as Partial<TracedFunction> | null;
  if (!v || typeof v !== 'object' || v.kind !== 'veil.traced' || v.version !== 1 ||
      typeof v.source !== 'string' || typeof v.name !== 'string' || typeof v.sha256 !== 'string') {
    throw new TypeError('not a veil.traced value of version 1');
  }
  if (sourceSha256(v.source) !== v.sha256) throw new TypeError(`traced function ${v.name}: sha256 does not match its source`);
  const { expression, violations } = checkSource(v.source);
  if (violations.length > 0) throw new TraceError(v.name, violations);
  return { kind: 'veil.traced', version: 1, source: v.source, name: v.name, sha256: v.sha256, expression };
}

// Validation at the workflow boundary. The Temporal UI and schedules send raw JSON: every
// workflow parses its input with zod first, and a bad input fails the workflow at once with a
// non-retryable failure that lists every problem, before anything is read or charged.
import { ApplicationFailure } from '@temporalio/common';
import type { z } from 'zod';
import { Failure } from './failures.ts';

/** The problems zod found, one line each: `training.batchSize: Too small: expected number to be >0`. */
export function describeIssues(error: z.ZodError): string[] {
  return error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(input)'}: ${i.message}`);
}

export function parseInput<S extends z.ZodType>(what: string, schema: S, raw: unknown): z.output<S> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const problems = describeIssues(parsed.error);
  throw ApplicationFailure.create({
    type: Failure.InvalidInput,
    nonRetryable: true,
    message: `invalid ${what} input: ${problems.join('; ')}`,
    details: [problems],
  });
}

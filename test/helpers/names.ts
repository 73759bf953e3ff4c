// Names that are unique per test run: the servers persist data between runs, so a fixed name
// would collide with what an earlier run left behind.
import { randomBytes } from 'node:crypto';

const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;

/** `base` plus a run-unique suffix; lowercase, digits and '-', valid as a dataset name (≤ 63 chars). */
export function uniqueName(base: string): string {
  const clean = base.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+/, '').slice(0, 40) || 't';
  return `${clean}-${runId}-${randomBytes(2).toString('hex')}`;
}

/** A fresh S3 prefix for a test's scratch objects (delete it in the test's cleanup). */
export function scratchPrefix(area: string): string {
  return `tmp/tests/${uniqueName(area)}`;
}

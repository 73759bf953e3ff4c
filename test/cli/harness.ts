// Running the `veil` CLI as a child process against the test servers, on a test's own task queue
// (VEIL_TASK_QUEUE), so the in-process workers of that test run what the CLI starts. The child is
// spawned asynchronously: a synchronous spawn would block this process and its workers.
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { config, projectRoot } from '../../infra/config.ts';
import type { ArtifactStore } from '../../infra/storage/index.ts';
import type { TestPrincipal } from '../helpers/principals.ts';
import { generatePatientNotes } from '../../clients/demo/patient-notes.ts';
import { addDataset } from '../../clients/sdk/datasets.ts';

export interface VeilRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Where the CLI's read-only requests go. withWorker's workers serve the jobs' namespace only, so by
 * default a test's CLI keeps its reads there; a test that also runs reads-namespace workers
 * (test/surfaces/reads-namespace.test.ts) passes `readsNamespace: true`.
 */
function readsEnv(readsNamespace: boolean | undefined): Record<string, string> {
  return readsNamespace ? {} : { VEIL_READS_NAMESPACE: config().TEMPORAL_NAMESPACE };
}

export function runVeil(args: string[], options: { taskQueue?: string; env?: Record<string, string>; timeoutMs?: number; readsNamespace?: boolean } = {}): Promise<VeilRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(projectRoot, 'clients/cli/main.ts'), ...args], {
      cwd: projectRoot,
      env: { ...process.env, ...readsEnv(options.readsNamespace), ...(options.taskQueue ? { VEIL_TASK_QUEUE: options.taskQueue } : {}), ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The last line of stdout parsed as JSON (commands with --json print exactly one). */
export function jsonOf<T = Record<string, unknown>>(run: VeilRun): T {
  const lines = run.stdout.trim().split('\n');
  try {
    return JSON.parse(lines[lines.length - 1]) as T;
  } catch {
    throw new Error(`no JSON on stdout (exit ${run.code}):\n${run.stdout}\n--- stderr:\n${run.stderr}`);
  }
}

/** `veil …` must have exited with `code`; the message shows its output otherwise. */
export function describeRun(run: VeilRun): string {
  return `exit ${run.code}\n--- stdout:\n${run.stdout}\n--- stderr:\n${run.stderr}`;
}

/** Registers the demo patient notes (80 rows by default) as dataset `name`, as the pipeline test does. */
export async function addNotesDataset(client: Client, store: ArtifactStore, taskQueue: string, name: string, owner: TestPrincipal, rows = 80): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'veil-cli-'));
  const file = join(dir, 'notes.jsonl');
  await writeFile(file, generatePatientNotes({ rows, secretCopies: 2, seed: 'cli-test' }).map((r) => JSON.stringify(r)).join('\n') + '\n');
  await addDataset(client, taskQueue, name, file, { token: owner.token });
}

/** Polls `probe` until it returns a value other than undefined (visibility lags a little behind). */
export async function eventually<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

// What every `veil` command shares: usage errors (exit code 2, the message names the flag), flag
// parsing, the Temporal client for job commands and links into the Temporal UI.
import type { Command } from 'commander';
import type { Client } from '@temporalio/client';
import { config, taskQueueNames } from '../../infra/config.ts';
import { temporalUiAddress } from '../../infra/servers/temporal.ts';
import { temporalClient } from '../../infra/temporal.ts';
import { remoteCodecClient } from '../sdk/remote-codec.ts';
import { sendReadsTo } from '../sdk/catalog.ts';

/** A mistake in the command line: exit code 2, the message names the flag. */
export class UsageError extends Error {
  override name = 'UsageError';
  readonly exitCode = 2;
}

/** Commander's own parse errors (unknown flag, missing value) also exit with 2, like ours. */
export function usageErrorsExit2(command: Command): Command {
  return command.exitOverride((err) => {
    process.exit(err.exitCode === 0 ? 0 : 2);
  });
}

/**
 * Runs `fn` with a Temporal client and the configured light task queue. Job commands need
 * Temporal only (not S3), so they keep working while the object store is down.
 */
export async function withTemporal<T>(fn: (client: Client, taskQueue: string) => Promise<T>): Promise<T> {
  // Payloads are encrypted: with a token, they are sealed and opened by the codec server (which
  // opens only what this principal may read); without one, nothing encrypted can be read.
  const token = process.env.VEIL_TOKEN;
  const client = token ? await remoteCodecClient(config(), token) : await temporalClient();
  // Read-only requests go to their own namespace, out of the UI's list of jobs.
  sendReadsTo(client, config().VEIL_READS_NAMESPACE);
  try {
    return await fn(client, taskQueueNames().light);
  } finally {
    await client.connection.close();
  }
}

export function workflowUrl(workflowId: string): string {
  const cfg = config();
  return `${temporalUiAddress(cfg)}/namespaces/${encodeURIComponent(cfg.TEMPORAL_NAMESPACE)}/workflows/${encodeURIComponent(workflowId)}`;
}

/** The Temporal UI's list of the jobs' namespace. */
export function workflowListUrl(): string {
  const cfg = config();
  return `${temporalUiAddress(cfg)}/namespaces/${encodeURIComponent(cfg.TEMPORAL_NAMESPACE)}/workflows`;
}

export function numberFlag(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value)) throw new UsageError(`${flag}: expected a number, got "${raw}"`);
  return value;
}

/** A finite ε or the word 'unlimited'. */
export function epsilonFlag(flag: string, raw: string | undefined): number | 'unlimited' | undefined {
  if (raw === 'unlimited') return 'unlimited';
  return numberFlag(flag, raw);
}

export function requireFlags(opts: Record<string, unknown>, required: Record<string, string>): void {
  const missing = Object.entries(required).filter(([key]) => opts[key] === undefined).map(([, flag]) => flag);
  if (missing.length) throw new UsageError(`missing required flag${missing.length > 1 ? 's' : ''}: ${missing.join(', ')}`);
}


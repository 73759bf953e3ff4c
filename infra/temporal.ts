// Connections to the Temporal server, from the Veil configuration.
import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { config, type VeilConfig } from './config.ts';

/**
 * A Temporal client on the configured server and namespace; close its connection when done.
 * Payloads are encrypted (infra/codec): workers and operators pass the local codec's converter,
 * clients the codec server's (clients/sdk/remote-codec.ts).
 */
export async function temporalClient(cfg: VeilConfig = config(), options: { dataConverter?: DataConverter } = {}): Promise<Client> {
  const connection = await Connection.connect({ address: cfg.TEMPORAL_ADDRESS });
  return new Client({ connection, namespace: cfg.TEMPORAL_NAMESPACE, dataConverter: options.dataConverter });
}

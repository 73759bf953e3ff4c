// Connections to the Temporal server, from the Veil configuration.
import { Client, Connection } from '@temporalio/client';
import { config, type VeilConfig } from './config.ts';

/** A Temporal client on the configured server and namespace; close its connection when done. */
export async function temporalClient(cfg: VeilConfig = config()): Promise<Client> {
  const connection = await Connection.connect({ address: cfg.TEMPORAL_ADDRESS });
  return new Client({ connection, namespace: cfg.TEMPORAL_NAMESPACE });
}

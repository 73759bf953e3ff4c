// Runs the codec server from the Veil configuration: master keys from the key ring, workflow
// readers from Temporal (raw start events) and the principal registry in S3. The operator's
// secret is the service secret, which only holders of the S3 credentials can read.
import type { Server } from 'node:http';
import { Client, Connection } from '@temporalio/client';
import { readPrincipalRecord, serviceSecret } from '../access/index.ts';
import { config, type VeilConfig } from '../config.ts';
import { ArtifactStore } from '../storage/index.ts';
import { VeilPayloadCodec } from './codec.ts';
import { OPERATOR_PRINCIPAL } from './codec-request-auth.ts';
import { loadKeyRing, type KeyRing } from './key-ring.ts';
import { WorkflowReaders } from './readers.ts';
import { createCodecServer } from './server.ts';
import { temporalReaderSources } from './temporal-sources.ts';

/** The web UI's origins (both spellings of the loopback host the dev server answers on). */
export function uiOrigins(cfg: VeilConfig): string[] {
  const host = cfg.TEMPORAL_ADDRESS.slice(0, cfg.TEMPORAL_ADDRESS.lastIndexOf(':'));
  return [...new Set([`http://${host}:${cfg.TEMPORAL_UI_PORT}`, `http://localhost:${cfg.TEMPORAL_UI_PORT}`, `http://127.0.0.1:${cfg.TEMPORAL_UI_PORT}`])];
}

export async function startCodecServer(options: { cfg?: VeilConfig; ring?: KeyRing; port?: number; host?: string; log?: (line: string) => void } = {}): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const cfg = options.cfg ?? config();
  const ring = options.ring ?? loadKeyRing(process.env, cfg);
  const store = await ArtifactStore.fromConfig(cfg);
  const connection = await Connection.connect({ address: cfg.TEMPORAL_ADDRESS });
  const raw = new Client({ connection, namespace: cfg.TEMPORAL_NAMESPACE }); // no codec: the server opens start inputs itself
  const readers = new WorkflowReaders(new VeilPayloadCodec(ring), temporalReaderSources(raw, [cfg.TEMPORAL_NAMESPACE, cfg.VEIL_READS_NAMESPACE], store));
  const server = createCodecServer({
    ring,
    readers,
    allowedOrigins: uiOrigins(cfg),
    log: options.log,
    async secretOf(principal) {
      if (principal === OPERATOR_PRINCIPAL) return serviceSecret(store);
      const record = await readPrincipalRecord(store, principal);
      return record && !record.revokedAt ? record.secret : undefined;
    },
  });
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? cfg.VEIL_CODEC_PORT;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const url = `http://${host}:${typeof address === 'object' && address ? address.port : port}`;
  return {
    server,
    url,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await connection.close();
    },
  };
}

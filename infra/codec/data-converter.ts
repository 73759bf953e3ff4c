// Data converters that seal payloads: the workers' (and operators' tools') with the master keys.
import type { DataConverter } from '@temporalio/common';
import { fileURLToPath } from 'node:url';
import { VeilPayloadCodec } from './codec.ts';
import { loadKeyRing, type KeyRing } from './key-ring.ts';

/** Path of the module exporting the failure converter that encodes messages and stack traces. */
export const failureConverterPath = fileURLToPath(new URL('./failure-converter.cjs', import.meta.url));

/** The data converter of a process that holds the master keys (workers, codec server, operators). */
export function localDataConverter(ring: KeyRing = loadKeyRing()): DataConverter {
  return { payloadCodecs: [new VeilPayloadCodec(ring)], failureConverterPath };
}

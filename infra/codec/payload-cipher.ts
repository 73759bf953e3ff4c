// AES-256-GCM for one Temporal payload. The whole original payload (its metadata and its data) is
// sealed, so not even its encoding shows. What stays readable is what a reader needs to decrypt:
// the marker, the key id (so keys can rotate) and the workflow id the payload belongs to. Both ids
// are bound as additional authenticated data and the data key is derived from the workflow id, so a
// ciphertext copied into another workflow, or relabelled with another id, fails to decrypt.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { Payload } from '@temporalio/common';

/** The `encoding` of an encrypted payload (the name Temporal's samples use for this). */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
export const WORKFLOW_ID_METADATA = 'veil-workflow-id';
const CIPHER_VERSION = 'veil-codec/1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class PayloadDecryptionError extends Error {
  override name = 'PayloadDecryptionError';
}

const utf8 = (s: string) => Buffer.from(s, 'utf8');
const text = (b: Uint8Array | null | undefined) => (b ? Buffer.from(b).toString('utf8') : undefined);

export function isEncrypted(payload: Payload): boolean {
  return text(payload.metadata?.encoding) === ENCRYPTED_ENCODING;
}

/** The workflow id and key id an encrypted payload is bound to (readable without any key). */
export function bindingOf(payload: Payload): { workflowId: string; keyId: string } | undefined {
  if (!isEncrypted(payload)) return undefined;
  const workflowId = text(payload.metadata?.[WORKFLOW_ID_METADATA]);
  const keyId = text(payload.metadata?.[KEY_ID_METADATA]);
  return workflowId === undefined || keyId === undefined ? undefined : { workflowId, keyId };
}

const dataKeys = new Map<string, Buffer>();
const DATA_KEY_CACHE = 10_000;

/** The per-workflow data key: HKDF-SHA256 of the master key, salted with the key id, informed by the workflow id. */
export function dataKey(masterKey: Buffer, keyId: string, workflowId: string): Buffer {
  const cacheKey = `${keyId}\0${workflowId}\0${masterKey.toString('base64')}`;
  let key = dataKeys.get(cacheKey);
  if (!key) {
    key = Buffer.from(hkdfSync('sha256', masterKey, utf8(`${CIPHER_VERSION}\n${keyId}`), utf8(`workflow\n${workflowId}`), 32));
    if (dataKeys.size >= DATA_KEY_CACHE) dataKeys.clear();
    dataKeys.set(cacheKey, key);
  }
  return key;
}

function additionalData(keyId: string, workflowId: string): Buffer {
  return utf8(`${CIPHER_VERSION}\n${keyId}\n${workflowId}`);
}

// The sealed plaintext: [u32 length of the metadata JSON][metadata JSON, values base64][data].
function serialize(payload: Payload): Buffer {
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(payload.metadata ?? {})) if (v) metadata[k] = Buffer.from(v).toString('base64');
  const head = utf8(JSON.stringify(metadata));
  const length = Buffer.alloc(4);
  length.writeUInt32BE(head.length);
  return Buffer.concat([length, head, Buffer.from(payload.data ?? new Uint8Array())]);
}

function deserialize(plain: Buffer): Payload {
  const headLength = plain.readUInt32BE(0);
  const metadata = JSON.parse(plain.subarray(4, 4 + headLength).toString('utf8')) as Record<string, string>;
  return {
    metadata: Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k, new Uint8Array(Buffer.from(v, 'base64'))])),
    data: new Uint8Array(plain.subarray(4 + headLength)),
  };
}

export function encryptPayload(payload: Payload, master: { keyId: string; key: Buffer }, workflowId: string): Payload {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', dataKey(master.key, master.keyId, workflowId), iv);
  cipher.setAAD(additionalData(master.keyId, workflowId));
  const sealed = Buffer.concat([iv, cipher.update(serialize(payload)), cipher.final(), cipher.getAuthTag()]);
  return {
    metadata: {
      encoding: utf8(ENCRYPTED_ENCODING),
      [KEY_ID_METADATA]: utf8(master.keyId),
      [WORKFLOW_ID_METADATA]: utf8(workflowId),
    },
    data: new Uint8Array(sealed),
  };
}

/** Decrypts a payload sealed by encryptPayload; `keyFor` returns the master key of a key id. */
export function decryptPayload(payload: Payload, keyFor: (keyId: string) => Buffer | undefined): Payload {
  const binding = bindingOf(payload);
  if (!binding) throw new PayloadDecryptionError('encrypted payload without its key id or workflow id');
  const master = keyFor(binding.keyId);
  if (!master) throw new PayloadDecryptionError(`no master key "${binding.keyId}" in the codec's key ring`);
  const sealed = Buffer.from(payload.data ?? new Uint8Array());
  if (sealed.length < IV_BYTES + TAG_BYTES) throw new PayloadDecryptionError('encrypted payload too short');
  const decipher = createDecipheriv('aes-256-gcm', dataKey(master, binding.keyId, binding.workflowId), sealed.subarray(0, IV_BYTES));
  decipher.setAAD(additionalData(binding.keyId, binding.workflowId));
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  try {
    return deserialize(Buffer.concat([decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)), decipher.final()]));
  } catch {
    throw new PayloadDecryptionError(`payload of workflow "${binding.workflowId}" does not authenticate (tampered, or sealed for another workflow or key)`);
  }
}

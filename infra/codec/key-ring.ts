// The codec's master keys: a key ring (the current key, which encrypts, and older keys, which
// still decrypt what they sealed), so a key can rotate and jobs started under the old one stay
// readable. Only workers and the codec server load it; clients never do.
//
// Sources, first found wins:
//   VEIL_CODEC_MASTER_KEY   "<keyId>:<base64 32 bytes>[,<keyId>:<base64>…]", the first one current
//   <VEIL_HOME>/secrets/codec-keys.json   {"current": id, "keys": {id: base64}}, mode 0600, created
//                                         by `veil infra up` for the embedded setup
// The keys are never printed, logged or written to S3.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { config, type VeilConfig } from '../config.ts';

export const MASTER_KEY_ENV = 'VEIL_CODEC_MASTER_KEY';
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

export class CodecKeyError extends Error {
  override name = 'CodecKeyError';
  readonly exitCode = 2;
}

export interface KeyRing {
  /** The key id new payloads are sealed with. */
  currentKeyId: string;
  keys: ReadonlyMap<string, Buffer>;
}

const keyFileSchema = z.object({ current: z.string().regex(KEY_ID), keys: z.record(z.string().regex(KEY_ID), z.string()) }).strict();

function masterKey(id: string, base64: string): Buffer {
  const key = Buffer.from(base64, 'base64');
  if (key.length !== 32) throw new CodecKeyError(`codec master key "${id}" must be 32 bytes, base64-encoded`);
  return key;
}

export function keyRingFromEnv(value: string): KeyRing {
  const entries = value.split(',').map((s) => s.trim()).filter(Boolean).map((entry) => {
    const cut = entry.indexOf(':');
    const id = entry.slice(0, cut);
    if (cut <= 0 || !KEY_ID.test(id)) throw new CodecKeyError(`${MASTER_KEY_ENV}: expected <keyId>:<base64 key>[,…] (key ids: letters, digits, . _ -)`);
    return [id, masterKey(id, entry.slice(cut + 1))] as const;
  });
  if (entries.length === 0) throw new CodecKeyError(`${MASTER_KEY_ENV} is empty`);
  return { currentKeyId: entries[0][0], keys: new Map(entries) };
}

export function keyFilePath(cfg: VeilConfig = config()): string {
  return join(cfg.VEIL_HOME, 'secrets', 'codec-keys.json');
}

export function readKeyFile(path: string): KeyRing {
  const mode = statSync(path).mode & 0o777;
  if (mode & 0o077) throw new CodecKeyError(`${path} is readable by other users (mode ${mode.toString(8)}): chmod 600 it`);
  const parsed = keyFileSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
  const keys = new Map(Object.entries(parsed.keys).map(([id, b64]) => [id, masterKey(id, b64)] as const));
  if (!keys.has(parsed.current)) throw new CodecKeyError(`${path}: the current key "${parsed.current}" is not in its keys`);
  return { currentKeyId: parsed.current, keys };
}

function writeKeyFile(path: string, ring: KeyRing): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const body = { current: ring.currentKeyId, keys: Object.fromEntries([...ring.keys].map(([id, k]) => [id, k.toString('base64')])) };
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(body, null, 2), { mode: 0o600, flag: 'wx' });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

const newKeyId = () => `k${new Date().toISOString().slice(0, 10).replaceAll('-', '')}-${randomBytes(3).toString('hex')}`;

/** Creates the key file with one fresh key unless it exists; returns whether it was created. */
export function ensureKeyFile(path: string = keyFilePath()): boolean {
  if (existsSync(path)) return false;
  const id = newKeyId();
  writeKeyFile(path, { currentKeyId: id, keys: new Map([[id, randomBytes(32)]]) });
  return true;
}

/** Adds a fresh key to the key file and makes it current; older keys stay to decrypt old payloads. */
export function rotateKeyFile(path: string = keyFilePath()): string {
  const ring = readKeyFile(path);
  const id = newKeyId();
  writeKeyFile(path, { currentKeyId: id, keys: new Map([...ring.keys, [id, randomBytes(32)]]) });
  return id;
}

/** The process's key ring: the environment variable, else the key file under VEIL_HOME. */
export function loadKeyRing(env: NodeJS.ProcessEnv = process.env, cfg: VeilConfig = config()): KeyRing {
  const fromEnv = env[MASTER_KEY_ENV];
  if (fromEnv) return keyRingFromEnv(fromEnv);
  const path = keyFilePath(cfg);
  if (!existsSync(path)) throw new CodecKeyError(`no codec master key: set ${MASTER_KEY_ENV} or run \`veil infra up\` (it creates ${path})`);
  return readKeyFile(path);
}

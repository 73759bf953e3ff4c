// Independent keyed random streams for each purpose and each step, derived from the run key.
// Deriving per (purpose, step) rather than reading one long stream makes the random state of a
// run nothing but "the key and the step number": a run resumed at step s draws exactly the
// sample and noise an uninterrupted run would have drawn at s, with no stream position to save.
import { hkdfSync } from 'node:crypto';
import { SecureStream } from '../random/secure-stream.ts';
import { KeystreamWords } from './keystream-words.ts';
import type { RunKey } from './run-key.ts';

/**
 * Version of the derivation and of the samplers built on it. A checkpoint records it; resuming
 * a checkpoint written under another version is refused, as it would silently draw other noise.
 */
export const RNG_VERSION = 'veil-dp-rng-1';

export type StreamPurpose = 'noise' | 'sampler';

const NONCE_BYTES = 12;
const KEY_BYTES = 32;

/** HKDF-SHA256(run key, salt = RNG_VERSION, info = purpose/step) → a 32-byte ChaCha20 key. */
export function deriveStepKey(runKey: RunKey, purpose: StreamPurpose, step: number): Uint8Array {
  if (!Number.isSafeInteger(step) || step < 0) throw new RangeError(`deriveStepKey: step must be a non-negative integer, got ${step}`);
  const ikm = runKey.exposeBytes();
  try {
    return new Uint8Array(hkdfSync('sha256', ikm, RNG_VERSION, `${purpose}/step/${step}`, KEY_BYTES));
  } finally {
    ikm.fill(0);
  }
}

/** Uniform doubles for sampling decisions at one step. */
export function samplerStream(runKey: RunKey, step: number): SecureStream {
  return new SecureStream(deriveStepKey(runKey, 'sampler', step), new Uint8Array(NONCE_BYTES));
}

/** Raw keystream words for the Gaussian noise of one step. */
export function noiseWords(runKey: RunKey, step: number): KeystreamWords {
  return new KeystreamWords(deriveStepKey(runKey, 'noise', step), new Uint8Array(NONCE_BYTES));
}

/**
 * A one-way tag of the run key (HKDF output, reveals nothing about the key): stored in
 * checkpoints so that resuming with another key — which would draw other samples and noise — is refused.
 */
export function runKeyFingerprint(runKey: RunKey): string {
  const ikm = runKey.exposeBytes();
  try {
    return Buffer.from(hkdfSync('sha256', ikm, RNG_VERSION, 'fingerprint', 16)).toString('hex');
  } finally {
    ikm.fill(0);
  }
}

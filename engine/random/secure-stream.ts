// A reproducible, cryptographically strong random stream: the ChaCha20 keystream of a 32-byte key
// and a 12-byte nonce (node:crypto, i.e. OpenSSL), turned into uniforms and Gaussians.
// Unpredictable while the key is secret; identical for the same key, nonce and position, so a
// resumed job draws exactly what an uninterrupted one would have (DP noise, sampling).
import { createCipheriv, createHash, type Cipher } from 'node:crypto';

const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const CHACHA_BLOCK = 64;
const TWO_PI = 2 * Math.PI;
const TWO_POW_M53 = 2 ** -53;

export interface SecureStreamOptions {
  /** Keystream bytes produced per refill; larger blocks amortise the call into OpenSSL. Default 64 KiB. */
  blockBytes?: number;
  /** Start this many bytes into the keystream (resume from a recorded `position`). */
  startByte?: number;
}

export class SecureStream {
  private readonly cipher: Cipher;
  private readonly zeros: Uint8Array;
  private words: Uint32Array = new Uint32Array(0);
  private next = 0; // index into words
  private consumedBefore: number; // bytes of keystream before the current block
  private spareGaussian: number | undefined;

  constructor(key: Uint8Array, nonce: Uint8Array = new Uint8Array(NONCE_BYTES), options: SecureStreamOptions = {}) {
    if (key.length !== KEY_BYTES) throw new RangeError(`SecureStream: key must be ${KEY_BYTES} bytes, got ${key.length}`);
    if (nonce.length !== NONCE_BYTES) throw new RangeError(`SecureStream: nonce must be ${NONCE_BYTES} bytes, got ${nonce.length}`);
    const blockBytes = options.blockBytes ?? 65536;
    if (blockBytes % CHACHA_BLOCK !== 0 || blockBytes <= 0) throw new RangeError('SecureStream: blockBytes must be a positive multiple of 64');
    const start = options.startByte ?? 0;
    if (!Number.isSafeInteger(start) || start < 0 || start % 4 !== 0) throw new RangeError('SecureStream: startByte must be a non-negative multiple of 4');
    const counter = Math.floor(start / CHACHA_BLOCK);
    if (counter > 0xffffffff) throw new RangeError('SecureStream: startByte beyond the 32-bit block counter (256 GiB); use another nonce');
    // OpenSSL's chacha20 IV is the 32-bit little-endian block counter followed by the 96-bit nonce.
    const iv = Buffer.alloc(16);
    iv.writeUInt32LE(counter, 0);
    iv.set(nonce, 4);
    this.cipher = createCipheriv('chacha20', key, iv);
    this.zeros = new Uint8Array(blockBytes);
    this.consumedBefore = counter * CHACHA_BLOCK;
    const skip = start - this.consumedBefore;
    this.refill();
    this.next = skip / 4;
  }

  /** A stream keyed by SHA-256 of a domain label and a seed: for reproducible, non-secret uses (generation). */
  static fromSeed(seed: string | number | bigint, domain: string, options: SecureStreamOptions = {}): SecureStream {
    const key = createHash('sha256').update(`veil/${domain}/${String(seed)}`).digest();
    return new SecureStream(key, new Uint8Array(NONCE_BYTES), options);
  }

  /**
   * Bytes of keystream consumed so far: pass it back as `startByte` to resume. A cached second
   * Gaussian from Box–Muller is discarded on resume, so record positions between whole fills.
   */
  get position(): number {
    return this.consumedBefore + this.next * 4;
  }

  nextUint32(): number {
    if (this.next >= this.words.length) this.refill();
    return this.words[this.next++];
  }

  /** Uniform in [0, 1) with 53 random bits. */
  nextDouble(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) * TWO_POW_M53;
  }

  fillUniform(out: Float32Array | Float64Array): void {
    for (let i = 0; i < out.length; i++) out[i] = this.nextDouble();
  }

  /** Standard normal (Box–Muller on 53-bit uniforms). */
  nextGaussian(): number {
    if (this.spareGaussian !== undefined) {
      const z = this.spareGaussian;
      this.spareGaussian = undefined;
      return z;
    }
    const [z0, z1] = this.gaussianPair();
    this.spareGaussian = z1;
    return z0;
  }

  /** Fills `out` with N(0, std²) draws, two per Box–Muller pair. */
  fillGaussian(out: Float32Array | Float64Array, std = 1): void {
    let i = 0;
    for (; i + 1 < out.length; i += 2) {
      const [z0, z1] = this.gaussianPair();
      out[i] = z0 * std;
      out[i + 1] = z1 * std;
    }
    if (i < out.length) out[i] = this.gaussianPair()[0] * std;
  }

  private gaussianPair(): [number, number] {
    const u1 = 1 - this.nextDouble(); // (0, 1]: log never sees 0
    const u2 = this.nextDouble();
    const r = Math.sqrt(-2 * Math.log(u1));
    const theta = TWO_PI * u2;
    return [r * Math.cos(theta), r * Math.sin(theta)];
  }

  private refill(): void {
    if (this.words.length > 0) this.consumedBefore += this.words.length * 4;
    const block = this.cipher.update(this.zeros);
    // Copy into an aligned buffer: Buffer pool slices may not be 4-byte aligned.
    const aligned = new Uint8Array(block.length);
    aligned.set(block);
    this.words = new Uint32Array(aligned.buffer);
    this.next = 0;
  }
}

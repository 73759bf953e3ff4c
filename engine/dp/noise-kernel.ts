// The JS side of the noise kernel (noise-kernel.wat): keystream from node:crypto's ChaCha20
// (OpenSSL's vectorised code, several GB/s) copied into WebAssembly memory a block at a time, the
// vectorised fast path over the block, then the few rejected values finished here by the scalar
// slow path on the chunk's overflow stream, in increasing position order.
import { createCipheriv, type Cipher } from 'node:crypto';
import { instantiateWat, type KernelMemory } from '../random/wat.ts';
import type { KeystreamWords } from './keystream-words.ts';
import { noiseNonce, noiseOverflowWords } from './streams.ts';
import { ZIGGURAT_ACCEPT, ZIGGURAT_X, firstDraw, slowPath } from './ziggurat.ts';

/** The memory layout written at the top of noise-kernel.wat, in bytes (values per block aside). */
export const NOISE_KERNEL_LAYOUT = { blockValues: 8192, tableX: 0, tableAccept: 4096, words: 8192, target: 73728, rejected: 106496 } as const;
const { blockValues: BLOCK_VALUES, tableX: TABLE_X, tableAccept: TABLE_ACCEPT, words: WORDS, target: TARGET, rejected: REJECTED } = NOISE_KERNEL_LAYOUT;
const WORD_BYTES_PER_VALUE = 8;

export interface NoiseExports {
  memory: KernelMemory;
  noiseBlock(n: number, std: number, scale: number): number;
  drawBlock(n: number, std: number): number;
  addNoiseBlock(n: number, scale: number): void;
}

const ZEROS = new Uint8Array(BLOCK_VALUES * WORD_BYTES_PER_VALUE);
let loaded: Promise<NoiseKernel> | undefined;

export class NoiseKernel {
  /** The kernel of this thread (compiled and instantiated once). */
  static load(): Promise<NoiseKernel> {
    loaded ??= instantiateWat<NoiseExports>(new URL('./noise-kernel.wat', import.meta.url)).then((kernel) => new NoiseKernel(kernel));
    return loaded;
  }

  private readonly bytes: Uint8Array;
  private readonly words: Uint32Array;
  private readonly target: Float32Array;
  private readonly noise: Float32Array;
  private readonly rejected: Int32Array;

  private constructor(private readonly kernel: NoiseExports) {
    const buffer = kernel.memory.buffer; // the memory never grows, so these views stay valid
    new Float64Array(buffer, TABLE_X, ZIGGURAT_X.length).set(ZIGGURAT_X);
    new Float64Array(buffer, TABLE_ACCEPT, ZIGGURAT_ACCEPT.length).set(ZIGGURAT_ACCEPT);
    this.bytes = new Uint8Array(buffer);
    this.words = new Uint32Array(buffer, WORDS, BLOCK_VALUES * 2);
    this.target = new Float32Array(buffer, TARGET, BLOCK_VALUES);
    this.noise = new Float32Array(buffer, WORDS, BLOCK_VALUES);
    this.rejected = new Int32Array(buffer, REJECTED, BLOCK_VALUES);
  }

  /** Chunk `chunk` of a step's noise, from its value 0 on. */
  chunk(stepKey: Uint8Array, chunk: number): ChunkNoise {
    return new ChunkNoise(this, stepKey, chunk);
  }

  /**
   * target[j] ← fround((target[j] + fround(std · z_j)) · scale), z_j the next target.length
   * values of the chunk: first draws from `main`, retries from `overflow()`. `fresh`: the values
   * of a zero target, whatever target holds (the prefetcher's ring, which need not be cleared).
   */
  apply(main: Cipher, overflow: () => KeystreamWords, target: Float32Array, std: number, scale: number, fresh = false): void {
    for (let start = 0; start < target.length; start += BLOCK_VALUES) {
      const n = Math.min(BLOCK_VALUES, target.length - start);
      this.bytes.set(main.update(ZEROS.subarray(0, n * WORD_BYTES_PER_VALUE)), WORDS);
      const block = target.subarray(start, start + n);
      if (!fresh) this.target.set(block);
      // Fresh: as if target held zeros, without reading it (the same bits: see drawBlock).
      const rejectedCount = fresh ? this.kernel.drawBlock(n, std) : this.kernel.noiseBlock(n, std, scale);
      block.set(this.target.subarray(0, n));
      for (let r = 0; r < rejectedCount; r++) {
        const j = this.rejected[r];
        const { layer, negative, u } = firstDraw(this.words[2 * j], this.words[2 * j + 1]);
        const magnitude = slowPath(overflow(), layer, u);
        block[j] = Math.fround(((fresh ? 0 : block[j]) + Math.fround(std * (negative ? -magnitude : magnitude))) * scale);
      }
    }
  }

  /**
   * target[i] ← fround((target[i] + noise[i]) · scale), computed in float64 and rounded once: what
   * the JS loop `g[i] = (g[i] + noise[i]) * scale` stores, bit for bit, in half its CPU time or
   * less (124 M values: 0.20–0.22 s against 0.40–0.52 s, bench/dp/noise-and-optimizers.ts), four
   * values per instruction instead of one: adds prefetched noise (noise-prefetch.ts) to a gradient
   * buffer and divides by the expected batch size in one pass.
   */
  addScaled(target: Float32Array, noise: Float32Array, scale: number): void {
    if (noise.length < target.length) throw new RangeError(`addScaled: ${noise.length} noise values for ${target.length} targets`);
    for (let start = 0; start < target.length; start += BLOCK_VALUES) {
      const n = Math.min(BLOCK_VALUES, target.length - start);
      const block = target.subarray(start, start + n);
      this.target.set(block);
      this.noise.set(noise.subarray(start, start + n));
      this.kernel.addNoiseBlock((n + 3) & ~3, scale); // padded lanes compute on stale values, not read back
      block.set(this.target.subarray(0, n));
    }
  }
}

/** The running state of one chunk: the main keystream's position and the overflow stream's. */
export class ChunkNoise {
  private readonly main: Cipher;
  private overflowWords: KeystreamWords | undefined;
  private readonly overflow = (): KeystreamWords => {
    this.overflowWords ??= noiseOverflowWords(this.stepKey, this.index);
    return this.overflowWords;
  };

  constructor(private readonly kernel: NoiseKernel, private readonly stepKey: Uint8Array, private readonly index: number) {
    // OpenSSL's chacha20 IV: 32-bit little-endian block counter (start at 0), then the 96-bit nonce.
    const iv = Buffer.alloc(16);
    iv.set(noiseNonce(index, 'main'), 4);
    this.main = createCipheriv('chacha20', stepKey, iv);
  }

  /** Applies the chunk's next target.length values (see NoiseKernel.apply). */
  apply(target: Float32Array, std: number, scale: number): void {
    this.kernel.apply(this.main, this.overflow, target, std, scale);
  }

  /** Writes the chunk's next target.length noise values fround(std · z) over target. */
  draw(target: Float32Array, std: number): void {
    this.kernel.apply(this.main, this.overflow, target, std, 1, true);
  }
}

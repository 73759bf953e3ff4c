// The noise and AdamW loops as they were before the WebAssembly kernels (plain JS, one value at a
// time; noise RNG version 1, where rejected values read their retries inline from the same
// stream), kept only so that bench/dp/noise-and-optimizers.ts can measure the new code against
// the old side by side in one run. Not used by the engine.
import { KeystreamWords, ZIGGURAT_ACCEPT, ZIGGURAT_X, deriveStepKey, slowPath, type RunKey } from '../../engine/dp/index.ts';

const TWO_POW_M53 = 2 ** -53;
const TWO_POW_32 = 4294967296;
const CHUNK = 1 << 22;

/** Version 1's privatizeGradientSum on one buffer: (g + std·z) · scale with the JS ziggurat loop. */
export function previousPrivatize(runKey: RunKey, step: number, target: Float32Array, std: number, scale: number): void {
  const stepKey = deriveStepKey(runKey, 'noise', step);
  for (let chunkStart = 0; chunkStart < target.length; chunkStart += CHUNK) {
    const nonce = new Uint8Array(12);
    new DataView(nonce.buffer).setUint32(0, chunkStart / CHUNK, true);
    const source = new KeystreamWords(stepKey, nonce);
    const slice = target.subarray(chunkStart, chunkStart + CHUNK);
    let words = source.words;
    let j = source.pos;
    for (let i = 0; i < slice.length; i++) {
      if (j >= words.length) {
        source.refill();
        words = source.words;
        j = 0;
      }
      const w0 = words[j];
      const u = ((w0 >>> 11) * TWO_POW_32 + words[j + 1]) * TWO_POW_M53;
      j += 2;
      const layer = w0 & 0xff;
      let magnitude: number;
      if (u < ZIGGURAT_ACCEPT[layer]) {
        magnitude = u * ZIGGURAT_X[layer];
      } else {
        source.pos = j;
        magnitude = slowPath(source, layer, u);
        words = source.words;
        j = source.pos;
      }
      slice[i] = (slice[i] + ((w0 & 0x100) === 0 ? magnitude : -magnitude) * std) * scale;
    }
  }
  stepKey.fill(0);
}

/** The previous AdamW loop over one tensor (same formula as engine/optim/adamw.ts). */
export function previousAdamW(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, lr: number, t: number): void {
  const b1 = 0.9;
  const b2 = 0.999;
  const eps = 1e-8;
  const shrink = 1 - lr * 0.01;
  const stepSize = lr / (1 - b1 ** t);
  const bias2Sqrt = Math.sqrt(1 - b2 ** t);
  for (let i = 0; i < p.length; i++) {
    const gi = g[i];
    const mi = Math.fround(b1 * m[i] + (1 - b1) * gi);
    const vi = Math.fround(b2 * v[i] + (1 - b2) * gi * gi);
    m[i] = mi;
    v[i] = vi;
    p[i] = p[i] * shrink - (stepSize * mi) / (Math.sqrt(vi) / bias2Sqrt + eps);
  }
}

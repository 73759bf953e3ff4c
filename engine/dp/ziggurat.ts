// Standard normal draws from a stream of uniformly random 32-bit words, by the ziggurat method
// (Marsaglia & Tsang 2000, 256 layers). DP-SGD needs one Gaussian per parameter per step — 124 M
// for GPT-2 small — so the common case must cost one multiply and one compare, not a log and a
// cosine as Box–Muller does. The method is exact: every rejection branch is implemented,
// including the tail beyond R.
//
// Bits: each draw takes two fresh words. Word 0 gives the layer (8 bits) and the sign (1 bit);
// its top 21 bits and all of word 1 give a 53-bit uniform, so the layer, the sign and the
// position inside the layer are independent (the original 32-bit ziggurat reused the same bits
// for layer and position, a known flaw). Wedge and tail draws take further 53-bit uniforms.
import type { KeystreamWords } from './keystream-words.ts';

/** Anything that yields independent uniformly distributed 32-bit words (engine/random's SecureStream does). */
export interface Uint32Source {
  nextUint32(): number;
}

const LAYERS = 256;
// Marsaglia & Tsang's constants for 256 layers: R is where the tail starts, V the area of each layer.
const R = 3.6541528853610088;
const V = 0.00492867323399;
const TWO_POW_M53 = 2 ** -53;
const TWO_POW_32 = 4294967296;

function density(x: number): number {
  return Math.exp(-0.5 * x * x); // unnormalised N(0,1) density: normalisation cancels in the ratios
}

// X[i] is the right edge of layer i (X[0] the virtual width of the base layer, which includes the
// tail); F[i] = density(X[i]). Layer i spans heights [F[i], F[i+1]] (layer 0: [0, F[1]]).
const X = new Float64Array(LAYERS + 1);
const F = new Float64Array(LAYERS + 1);
// ACCEPT[i] = X[i+1] / X[i]: a uniform u below it lands in the part of layer i that lies wholly
// under the curve, so it is accepted without evaluating the density (the 99 % fast path).
const ACCEPT = new Float64Array(LAYERS);

(function buildTables(): void {
  X[0] = V / density(R);
  X[1] = R;
  for (let i = 1; i < LAYERS - 1; i++) {
    // Equal areas: X[i] * (density(X[i+1]) - density(X[i])) = V.
    X[i + 1] = Math.sqrt(-2 * Math.log(V / X[i] + density(X[i])));
  }
  X[LAYERS] = 0;
  for (let i = 0; i <= LAYERS; i++) F[i] = density(X[i]);
  for (let i = 0; i < LAYERS; i++) ACCEPT[i] = X[i + 1] / X[i];
})();

function uniform53(source: Uint32Source): number {
  const hi = source.nextUint32() >>> 11; // 21 bits
  return (hi * TWO_POW_32 + source.nextUint32()) * TWO_POW_M53;
}

/** Uniform in (0, 1]: safe under a logarithm. */
function uniform53OpenZero(source: Uint32Source): number {
  return 1 - uniform53(source);
}

// Marsaglia's tail method: for x > R, draw x = R + e with e ~ Exp(R) accepted with
// probability exp(-e²/2); this is exactly the normal density restricted to (R, ∞).
function tailMagnitude(source: Uint32Source): number {
  for (;;) {
    const e = -Math.log(uniform53OpenZero(source)) / R;
    const y = -Math.log(uniform53OpenZero(source));
    if (2 * y > e * e) return R + e;
  }
}

// The rare path: u did not fall in the rectangle wholly under the curve.
function slowPath(source: Uint32Source, layer: number, u: number): number {
  let i = layer;
  let v = u;
  for (;;) {
    const x = v * X[i];
    if (i === 0) {
      if (x < R) return x; // the rectangular part of the base layer (hit when X[0] > R)
      return tailMagnitude(source);
    }
    if (v < ACCEPT[i]) return x;
    // Wedge: accept with the density's share of the layer's height at x.
    if (F[i] + (F[i + 1] - F[i]) * uniform53(source) < density(x)) return x;
    // Rejected: draw a fresh layer and position (the sign is drawn by the caller once).
    const w0 = source.nextUint32();
    i = w0 & 0xff;
    v = ((w0 >>> 11) * TWO_POW_32 + source.nextUint32()) * TWO_POW_M53;
  }
}

/** One N(0, 1) draw. */
export function nextStandardNormal(source: Uint32Source): number {
  const w0 = source.nextUint32();
  const layer = w0 & 0xff;
  const u = ((w0 >>> 11) * TWO_POW_32 + source.nextUint32()) * TWO_POW_M53;
  const magnitude = u < ACCEPT[layer] ? u * X[layer] : slowPath(source, layer, u);
  return (w0 & 0x100) === 0 ? magnitude : -magnitude;
}

/**
 * target[i] = std · z_i (add = false) or target[i] = (target[i] + std · z_i) · scale (add = true),
 * z_i ~ N(0, 1) i.i.d. Adding is fused so that no 124 M-element noise buffer is ever allocated. The loop indexes the
 * keystream block directly: every path consumes words in pairs and blocks have an even length,
 * so a pair never straddles two blocks.
 */
function gaussianLoop(source: KeystreamWords, target: Float32Array | Float64Array, std: number, add: boolean, scale: number): void {
  let words = source.words;
  let j = source.pos;
  for (let i = 0; i < target.length; i++) {
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
    if (u < ACCEPT[layer]) {
      magnitude = u * X[layer];
    } else {
      source.pos = j;
      magnitude = slowPath(source, layer, u);
      words = source.words;
      j = source.pos;
    }
    const z = ((w0 & 0x100) === 0 ? magnitude : -magnitude) * std;
    target[i] = add ? (target[i] + z) * scale : z;
  }
  source.pos = j;
}

/** out[i] = std · z_i with z_i ~ N(0, 1) i.i.d. */
export function fillGaussian(source: KeystreamWords, out: Float32Array | Float64Array, std = 1): void {
  gaussianLoop(source, out, std, false, 1);
}

/** target[i] = (target[i] + std · z_i) · scale with z_i ~ N(0, 1) i.i.d. (scale: e.g. 1 / expected batch size). */
export function addGaussian(source: KeystreamWords, target: Float32Array | Float64Array, std: number, scale = 1): void {
  gaussianLoop(source, target, std, true, scale);
}

/** For tests: how well the tables close (the top layer takes whatever area is left). */
export function zigguratTableDiagnostics(): { topLayerArea: number; layerArea: number; baseWidth: number } {
  return { topLayerArea: X[LAYERS - 1] * (1 - F[LAYERS - 1]), layerArea: V, baseWidth: X[0] };
}

// Standard normal draws by the ziggurat method (Marsaglia & Tsang 2000, 256 layers). DP-SGD needs
// one Gaussian per parameter per step — 124 M for GPT-2 small — so the common case must cost one
// multiply and one compare, not a log and a cosine as Box–Muller does. The method is exact: every
// rejection branch is implemented, including the tail beyond R.
//
// Bits: a first draw takes two words, which give the layer (8 bits), the sign (1 bit) and a
// 52-bit uniform u from disjoint bits, so layer, sign and position inside the layer are
// independent (the original 32-bit ziggurat reused the same bits for layer and position, a known
// flaw). Retries draw 53-bit uniforms. The fast path, u < ACCEPT[layer] giving |z| = u·X[layer], is
// vectorised in noise-kernel.wat; the rest (wedges, tail, retries) is slowPath below, which takes
// its further uniforms from a separate source.

/** Anything that yields independent uniformly distributed 32-bit words (KeystreamWords does). */
export interface Uint32Source {
  nextUint32(): number;
}

const LAYERS = 256;
// Marsaglia & Tsang's constants for 256 layers: R is where the tail starts, V the area of each layer.
const R = 3.6541528853610088;
const V = 0.00492867323399;
const TWO_POW_M53 = 2 ** -53;
const TWO_POW_M52 = 2 ** -52;
const TWO_POW_32 = 4294967296;

function density(x: number): number {
  return Math.exp(-0.5 * x * x); // unnormalised N(0,1) density: normalisation cancels in the ratios
}

/**
 * X[i] is the right edge of layer i (X[0] the virtual width of the base layer, which includes the
 * tail); F[i] = density(X[i]). Layer i spans heights [F[i], F[i+1]] (layer 0: [0, F[1]]).
 */
export const ZIGGURAT_X = new Float64Array(LAYERS + 1);
const F = new Float64Array(LAYERS + 1);
/**
 * ACCEPT[i] = X[i+1] / X[i]: a uniform u below it lands in the part of layer i that lies wholly
 * under the curve, so it is accepted without evaluating the density (the 99 % fast path).
 */
export const ZIGGURAT_ACCEPT = new Float64Array(LAYERS);

(function buildTables(): void {
  const X = ZIGGURAT_X;
  X[0] = V / density(R);
  X[1] = R;
  for (let i = 1; i < LAYERS - 1; i++) {
    // Equal areas: X[i] * (density(X[i+1]) - density(X[i])) = V.
    X[i + 1] = Math.sqrt(-2 * Math.log(V / X[i] + density(X[i])));
  }
  X[LAYERS] = 0;
  for (let i = 0; i <= LAYERS; i++) F[i] = density(X[i]);
  for (let i = 0; i < LAYERS; i++) ZIGGURAT_ACCEPT[i] = X[i + 1] / X[i];
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

/**
 * |z| for a first draw (layer, u) that the fast path rejected (u ≥ ACCEPT[layer]): the base
 * layer's rectangle or tail, a wedge test, or fresh draws of layer and position, all further
 * randomness from `source`. The sign is the first draw's.
 */
export function slowPath(source: Uint32Source, layer: number, u: number): number {
  const X = ZIGGURAT_X;
  let i = layer;
  let v = u;
  for (;;) {
    const x = v * X[i];
    if (i === 0) {
      if (x < R) return x; // the rectangular part of the base layer (hit when X[0] > R)
      return tailMagnitude(source);
    }
    if (v < ZIGGURAT_ACCEPT[i]) return x;
    // Wedge: accept with the density's share of the layer's height at x.
    if (F[i] + (F[i + 1] - F[i]) * uniform53(source) < density(x)) return x;
    // Rejected: draw a fresh layer and position (the sign is drawn by the caller once).
    const w0 = source.nextUint32();
    i = w0 & 0xff;
    v = ((w0 >>> 11) * TWO_POW_32 + source.nextUint32()) * TWO_POW_M53;
  }
}

/**
 * The first draw of a noise value from its two words: layer (bits 0–7 of w0), sign (bit 8) and a
 * 52-bit uniform (bits 12–31 of w0 below all of w1). Bits 9–11 are unused: 52 bits let the
 * vectorised kernel build u from the words' bits directly (as a double's mantissa).
 */
export function firstDraw(w0: number, w1: number): { layer: number; negative: boolean; u: number } {
  return { layer: w0 & 0xff, negative: (w0 & 0x100) !== 0, u: ((w0 >>> 12) + w1 * 1048576) * TWO_POW_M52 };
}

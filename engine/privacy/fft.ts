// A real-input FFT for power-of-two sizes, enough for convolving probability mass functions
// (the PRV accountant composes thousands of steps as one power in Fourier space).
// Iterative radix-2 on split re/im arrays; twiddles from Math.cos/Math.sin directly (not by a
// recurrence), which keeps the round-off at O(ε·log n). A real transform of size n runs as a
// complex one of size n/2 plus an O(n) untangling step.

export interface Spectrum {
  /** Real parts of X_0 … X_{n/2}. */
  re: Float64Array;
  /** Imaginary parts of X_0 … X_{n/2}. */
  im: Float64Array;
}

class ComplexFft {
  // Twiddles for every stage laid out contiguously (stage of length L at offset L/2 − 1), so the
  // butterfly loop reads them sequentially: e^{−2πik/L} for k < L/2.
  private readonly twiddleRe: Float64Array;
  private readonly twiddleIm: Float64Array;
  private readonly reversed: Uint32Array;

  constructor(readonly size: number) {
    this.twiddleRe = new Float64Array(Math.max(1, size));
    this.twiddleIm = new Float64Array(Math.max(1, size));
    for (let length = 2; length <= size; length <<= 1) {
      const offset = length / 2 - 1;
      for (let k = 0; k < length / 2; k++) {
        this.twiddleRe[offset + k] = Math.cos((2 * Math.PI * k) / length);
        this.twiddleIm[offset + k] = -Math.sin((2 * Math.PI * k) / length);
      }
    }
    const bits = Math.log2(size);
    this.reversed = new Uint32Array(size);
    for (let i = 0; i < size; i++) {
      let r = 0;
      for (let b = 0, x = i; b < bits; b++, x >>>= 1) r = (r << 1) | (x & 1);
      this.reversed[i] = r;
    }
  }

  /** Forward transform Σ x_j e^{−2πijk/n}, in place. (The inverse conjugates around it.) */
  forward(re: Float64Array, im: Float64Array): void {
    const n = this.size;
    for (let i = 0; i < n; i++) {
      const j = this.reversed[i];
      if (j > i) {
        const tr = re[i];
        re[i] = re[j];
        re[j] = tr;
        const ti = im[i];
        im[i] = im[j];
        im[j] = ti;
      }
    }
    const twRe = this.twiddleRe;
    const twIm = this.twiddleIm;
    // With an odd number of stages, one radix-2 stage first (length 2: no multiplication).
    let m = 1;
    if (Math.log2(n) % 2 === 1) {
      for (let a = 0; a + 1 < n; a += 2) {
        const xr = re[a + 1];
        const xi = im[a + 1];
        re[a + 1] = re[a] - xr;
        im[a + 1] = im[a] - xi;
        re[a] += xr;
        im[a] += xi;
      }
      m = 2;
    }
    // Then two radix-2 stages (lengths 2m and 4m) per pass over memory: a radix-2² butterfly on
    // x[s+k], x[s+k+m], x[s+k+2m], x[s+k+3m] with twiddles w_{2m}^k, w_{4m}^k and w_{4m}^{k+m} = −i·w_{4m}^k.
    for (; 4 * m <= n; m *= 4) {
      const offset2 = m - 1;
      const offset4 = 2 * m - 1;
      for (let start = 0; start < n; start += 4 * m) {
        for (let k = 0; k < m; k++) {
          const w2r = twRe[offset2 + k];
          const w2i = twIm[offset2 + k];
          const w4r = twRe[offset4 + k];
          const w4i = twIm[offset4 + k];
          const i0 = start + k;
          const i1 = i0 + m;
          const i2 = i1 + m;
          const i3 = i2 + m;
          // Stage of length 2m.
          const t1r = re[i1] * w2r - im[i1] * w2i;
          const t1i = re[i1] * w2i + im[i1] * w2r;
          const t3r = re[i3] * w2r - im[i3] * w2i;
          const t3i = re[i3] * w2i + im[i3] * w2r;
          const b0r = re[i0] + t1r;
          const b0i = im[i0] + t1i;
          const b1r = re[i0] - t1r;
          const b1i = im[i0] - t1i;
          const b2r = re[i2] + t3r;
          const b2i = im[i2] + t3i;
          const b3r = re[i2] - t3r;
          const b3i = im[i2] - t3i;
          // Stage of length 4m.
          const u2r = b2r * w4r - b2i * w4i;
          const u2i = b2r * w4i + b2i * w4r;
          const v3r = b3r * w4r - b3i * w4i;
          const v3i = b3r * w4i + b3i * w4r;
          // u3 = −i·v3
          const u3r = v3i;
          const u3i = -v3r;
          re[i0] = b0r + u2r;
          im[i0] = b0i + u2i;
          re[i2] = b0r - u2r;
          im[i2] = b0i - u2i;
          re[i1] = b1r + u3r;
          im[i1] = b1i + u3i;
          re[i3] = b1r - u3r;
          im[i3] = b1i - u3i;
        }
      }
    }
  }

  /** Unscaled inverse Σ X_k e^{+2πijk/n}, in place: conj(FFT(conj X)). */
  inverse(re: Float64Array, im: Float64Array): void {
    for (let i = 0; i < this.size; i++) im[i] = -im[i];
    this.forward(re, im);
    for (let i = 0; i < this.size; i++) im[i] = -im[i];
  }
}

export class RealFft {
  private readonly inner: ComplexFft;
  private readonly half: number;
  private readonly cos: Float64Array;
  private readonly sin: Float64Array;

  constructor(readonly size: number) {
    if (!Number.isInteger(Math.log2(size)) || size < 4) throw new RangeError(`RealFft: size must be a power of two ≥ 4, got ${size}`);
    this.half = size / 2;
    this.inner = new ComplexFft(this.half);
    this.cos = new Float64Array(this.half + 1);
    this.sin = new Float64Array(this.half + 1);
    for (let k = 0; k <= this.half; k++) {
      this.cos[k] = Math.cos((2 * Math.PI * k) / size);
      this.sin[k] = Math.sin((2 * Math.PI * k) / size);
    }
  }

  /** X_k = Σ_j x_j e^{−2πijk/n} for k = 0 … n/2. */
  forward(input: Float64Array): Spectrum {
    const m = this.half;
    if (input.length !== this.size) throw new RangeError(`RealFft.forward: expected ${this.size} values, got ${input.length}`);
    const zr = new Float64Array(m);
    const zi = new Float64Array(m);
    for (let j = 0; j < m; j++) {
      zr[j] = input[2 * j];
      zi[j] = input[2 * j + 1];
    }
    this.inner.forward(zr, zi);
    const re = new Float64Array(m + 1);
    const im = new Float64Array(m + 1);
    for (let k = 0; k <= m; k++) {
      const a = k % m;
      const b = (m - k) % m;
      // Even-sample spectrum E = (Z_k + conj Z_{m−k})/2, odd-sample O = (Z_k − conj Z_{m−k})/(2i).
      const er = (zr[a] + zr[b]) / 2;
      const ei = (zi[a] - zi[b]) / 2;
      const or = (zi[a] + zi[b]) / 2;
      const oi = -(zr[a] - zr[b]) / 2;
      // X_k = E_k + e^{−2πik/n}·O_k
      const wr = this.cos[k];
      const wi = -this.sin[k];
      re[k] = er + wr * or - wi * oi;
      im[k] = ei + wr * oi + wi * or;
    }
    return { re, im };
  }

  /** The real sequence whose forward transform is `spectrum` (scaled by 1/n). */
  inverse(spectrum: Spectrum): Float64Array {
    const m = this.half;
    const { re, im } = spectrum;
    const zr = new Float64Array(m);
    const zi = new Float64Array(m);
    for (let k = 0; k < m; k++) {
      const j = m - k;
      // E_k = (X_k + conj X_{m−k})/2, O_k = (X_k − conj X_{m−k})·e^{+2πik/n}/2, Z_k = E_k + i·O_k.
      const er = (re[k] + re[j]) / 2;
      const ei = (im[k] - im[j]) / 2;
      const dr = (re[k] - re[j]) / 2;
      const di = (im[k] + im[j]) / 2;
      const wr = this.cos[k];
      const wi = this.sin[k];
      const or = dr * wr - di * wi;
      const oi = dr * wi + di * wr;
      zr[k] = er - oi;
      zi[k] = ei + or;
    }
    this.inner.inverse(zr, zi);
    const out = new Float64Array(this.size);
    for (let j = 0; j < m; j++) {
      out[2 * j] = zr[j] / m;
      out[2 * j + 1] = zi[j] / m;
    }
    return out;
  }
}

// Discretised PRVs: each step's PRV as a probability mass function on the grid (cell-centred,
// then shifted so that its mean is exact), their composition as a product of powers in Fourier
// space (one FFT per distinct step kind, one inverse FFT in all), and ε for a δ read off the
// composed mass function (Gopi et al. 2021, section 5; the same steps as prv_accountant).
import { RealFft } from './fft.ts';
import type { PrvDomain } from './prv-domain.ts';
import type { SubsampledGaussianPrv } from './prv-distribution.ts';

// e^x is 0 in double precision below this.
const UNDERFLOW_LOG = -746;

export interface DiscretePrv {
  pmf: Float64Array;
  /** The grid point i sits at (i − zeroIndex)·h + shift. */
  shift: number;
}

/** Adds `values` with Neumaier's compensation (sums of millions of tiny masses). */
function compensatedSum(values: Float64Array, weightAt?: (i: number) => number): number {
  let sum = 0;
  let compensation = 0;
  for (let i = 0; i < values.length; i++) {
    const term = weightAt ? values[i] * weightAt(i) : values[i];
    const next = sum + term;
    compensation += Math.abs(sum) >= Math.abs(term) ? sum - next + term : term - next + sum;
    sum = next;
  }
  return sum + compensation;
}

/**
 * The PRV truncated to the grid's span [t_0, t_last] and renormalised; cell i holds the mass of
 * [t_i − h/2, t_i + h/2] (clipped to the span), and the grid is shifted by E[Y] − Σ t_i·p_i.
 */
export function discretise(prv: SubsampledGaussianPrv, domain: PrvDomain): DiscretePrv {
  const { mesh, zeroIndex, size } = domain;
  const first = -zeroIndex * mesh;
  const last = (size - 1 - zeroIndex) * mesh;
  const pmf = new Float64Array(size);
  // Cells wholly below the PRV's minimum or beyond its numerical support hold exactly 0.
  const lowest = Math.max(0, Math.floor((prv.minimum - first) / mesh));
  const previous = new Float64Array(2);
  const next = new Float64Array(2);
  prv.tailsInto(Math.max(first, (lowest - 0.5) * mesh + first), previous);
  for (let i = lowest; i < size; i++) {
    prv.tailsInto(Math.min(last, first + (i + 0.5) * mesh), next);
    // Difference the smaller tail: P(a < Y ≤ b) = below(b) − below(a) = above(a) − above(b).
    pmf[i] = next[0] <= 0.5 ? next[0] - previous[0] : previous[1] - next[1];
    if (next[1] === 0) break;
    previous[0] = next[0];
    previous[1] = next[1];
  }
  const mass = compensatedSum(pmf);
  for (let i = 0; i < size; i++) pmf[i] /= mass;
  const discreteMean = compensatedSum(pmf, (i) => (i - zeroIndex) * mesh);
  const shift = prv.truncatedMean(first, last) - discreteMean;
  if (!(Math.abs(shift) < mesh / 2)) {
    throw new Error(`PRV discretisation: mean shift ${shift} exceeds half the mesh ${mesh / 2} (q=${prv.sampleRate}, σ=${prv.noiseMultiplier})`);
  }
  return { pmf, shift };
}

/**
 * The composition of `steps[g]` copies of each `parts[g]`: the product of the spectra's powers
 * (accumulated as log-modulus and argument), inverted once. The transform is circular, so the
 * result is rolled back into place: a sum of K grid indices i₁…i_K lands at
 * Σi − (K − 1)·zeroIndex (mod size). Mass that would leave the grid is what the domain's
 * half-width makes negligible.
 */
export function compose(parts: readonly DiscretePrv[], steps: readonly number[], domain: PrvDomain): DiscretePrv {
  const { size, zeroIndex } = domain;
  const fft = new RealFft(size);
  const bins = size / 2 + 1;
  const spectra = parts.map((part) => fft.forward(part.pmf));
  let totalSteps = 0;
  let shift = 0;
  parts.forEach((part, g) => {
    totalSteps += steps[g];
    shift += steps[g] * part.shift;
  });
  // |X|^k first: at high frequencies it underflows for large k, and those bins need no angle.
  const logModulus = new Float64Array(bins);
  spectra.forEach(({ re, im }, g) => {
    const half = 0.5 * steps[g];
    for (let j = 0; j < bins; j++) logModulus[j] += half * Math.log(re[j] * re[j] + im[j] * im[j]);
  });
  const re = new Float64Array(bins);
  const im = new Float64Array(bins);
  for (let j = 0; j < bins; j++) {
    if (!(logModulus[j] > UNDERFLOW_LOG)) continue;
    let argument = 0;
    spectra.forEach((spectrum, g) => {
      argument += steps[g] * Math.atan2(spectrum.im[j], spectrum.re[j]);
    });
    const modulus = Math.exp(logModulus[j]);
    re[j] = modulus * Math.cos(argument);
    im[j] = modulus * Math.sin(argument);
  }
  const circular = fft.inverse({ re, im });
  const roll = (((-(totalSteps - 1) * zeroIndex) % size) + size) % size;
  const pmf = new Float64Array(size);
  for (let x = 0; x < size; x++) pmf[(x + roll) % size] = circular[x];
  return { pmf, shift };
}

/**
 * ε at which the composed PRV's hockey-stick divergence δ(ε) = E[(1 − e^{ε−Y})₊] equals each
 * target δ (targets in increasing order). With d1_i = Σ_{j≥i} p_j and S_i = Σ_{j≥i} p_j·e^{t_i−t_j}
 * (a backward recurrence, no e^{±t} overflow), δ(t_i) = d1_i − S_i, and between grid points
 * δ(ε) = d1_i − e^{ε−t_i}·S_i, solved exactly. The crossing taken is the highest one (the
 * pessimistic choice if round-off makes δ(t_i) wiggle).
 */
export function epsilonsForDeltas(composed: DiscretePrv, domain: PrvDomain, deltas: readonly number[]): number[] {
  const { pmf, shift } = composed;
  const { mesh, zeroIndex, size } = domain;
  const decay = Math.exp(-mesh);
  const results = new Array<number>(deltas.length).fill(NaN);
  let pending = deltas.length;
  let tailMass = 0;
  let tailCompensation = 0;
  let discounted = 0;
  // The suffix sums at the index above the current one (where δ was still ≤ the target).
  let aboveIndex = size;
  let aboveMass = 0;
  let aboveDiscounted = 0;
  for (let i = size - 1; i >= 0 && pending > 0; i--) {
    const p = pmf[i];
    const next = tailMass + p;
    tailCompensation += Math.abs(tailMass) >= Math.abs(p) ? tailMass - next + p : p - next + tailMass;
    tailMass = next;
    discounted = p + decay * discounted;
    const d1 = tailMass + tailCompensation;
    const delta = d1 - discounted;
    for (let k = 0; k < deltas.length; k++) {
      if (Number.isNaN(results[k]) && delta > deltas[k]) {
        // The crossing lies in (t_i, t_{i+1}]: solve with the suffix starting at i + 1.
        results[k] = aboveIndex >= size ? Infinity : (aboveIndex - zeroIndex) * mesh + shift + Math.log((aboveMass - deltas[k]) / aboveDiscounted);
        pending--;
      }
    }
    aboveIndex = i;
    aboveMass = d1;
    aboveDiscounted = discounted;
  }
  // δ(t_0) ≤ target: ε is below the grid (possible only for ε < 0, i.e. (0, δ)-DP).
  return results.map((r) => (Number.isNaN(r) ? -Infinity : r));
}

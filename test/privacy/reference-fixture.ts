// Typed access to the committed reference fixture (test/fixtures/privacy/reference.json),
// written by test/fixtures/privacy/generate_reference.py from Opacus and prv_accountant.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface RunSegment {
  sampleRate: number;
  noiseMultiplier: number;
  steps: number;
}

export interface RdpReference {
  epsilon: number;
  order: number;
}

/** prv_accountant's (lower, estimate, upper) and Opacus PRVAccountant's upper bound. */
export interface PrvReference {
  lower: number;
  estimate: number;
  upper: number;
  opacusUpper: number;
  grid: number;
}

export interface SingleCase extends RunSegment {
  delta: number;
  rdp: RdpReference;
  prv: PrvReference | null;
  prvSkipped?: string;
}

export interface HeterogeneousCase {
  history: RunSegment[];
  delta: number;
  rdp: RdpReference;
  prv: PrvReference | null;
}

export interface CalibrationCase {
  accountant: 'rdp' | 'prv';
  targetEpsilon: number;
  sampleRate: number;
  steps: number;
  delta: number;
  tolerance: number;
  opacusNoiseMultiplier: number;
}

export interface ReferenceFixture {
  versions: Record<string, string>;
  prvSettings: { epsilonError: number; deltaErrorRatio: number };
  single: SingleCase[];
  heterogeneous: HeterogeneousCase[];
  calibration: CalibrationCase[];
  special: { erfc: [number, number][]; logNormalCdf: [number, number][] };
}

const path = fileURLToPath(new URL('../fixtures/privacy/reference.json', import.meta.url));

export const reference: ReferenceFixture = JSON.parse(readFileSync(path, 'utf8')) as ReferenceFixture;

export function caseName(c: { sampleRate: number; noiseMultiplier: number; steps: number; delta: number }): string {
  return `q=${c.sampleRate.toPrecision(4)} σ=${c.noiseMultiplier.toPrecision(4)} steps=${c.steps} δ=${c.delta.toPrecision(3)}`;
}

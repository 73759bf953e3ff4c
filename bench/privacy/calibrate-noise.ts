// Bench: σ calibration for q = 1/2608, 7,824 steps, δ = 1e-5, target ε = 22, Veil against
// Opacus's get_noise_multiplier, measured side by side in the same run (goal: ≥ 10× faster).
//   node --import tsx bench/privacy/calibrate-noise.ts [--accountant rdp|prv] [--runs N]
// The Opacus side runs bench/privacy/opacus_calibrate.py under $VEIL_PYTHON (default
// bench/.venv/bin/python, made by bench/python/setup.sh); without it the bench says so and reports Veil alone.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { calibrateNoise, parseAccountantKind } from '../../engine/privacy/index.ts';
import { benchPython } from '../python/python.ts';
import { median } from '../stats.ts';

const SAMPLE_RATE = 1 / 2608;
const STEPS = 7824;
const DELTA = 1e-5;
const TARGET_EPSILON = 22;
const TOLERANCE = 0.01; // Opacus's default epsilon_tolerance

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

const accountant = parseAccountantKind(flag('--accountant', 'rdp'));
const runs = Math.max(1, Number(flag('--runs', accountant === 'rdp' ? '5' : '1')));
const ms = (seconds: number): string => `${(seconds * 1000).toFixed(1)} ms`;

interface OpacusTiming {
  sigma: number;
  epsilon: number;
  coldSeconds: number;
  seconds: number[];
  evaluations: number;
  opacusVersion: string;
}

function timeOpacus(): OpacusTiming | string {
  const python = benchPython();
  const script = fileURLToPath(new URL('./opacus_calibrate.py', import.meta.url));
  const args = [script, '--sample-rate', String(SAMPLE_RATE), '--steps', String(STEPS), '--delta', String(DELTA),
    '--target-epsilon', String(TARGET_EPSILON), '--runs', String(runs), '--accountant', accountant];
  const r = spawnSync(python, args, { encoding: 'utf8' });
  if (r.error) return `cannot run ${python}: ${r.error.message}`;
  if (r.status !== 0) return `${python} failed (exit ${r.status}): ${r.stderr.trim().split('\n').at(-1) ?? ''}`;
  return JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as OpacusTiming;
}

function timeVeil(): { sigma: number; epsilon: number; evaluations: number; coldSeconds: number; seconds: number[] } {
  const once = (): [ReturnType<typeof calibrateNoise>, number] => {
    const started = performance.now();
    const result = calibrateNoise({ accountant, targetEpsilon: TARGET_EPSILON, sampleRate: SAMPLE_RATE, steps: STEPS, delta: DELTA, tolerance: TOLERANCE });
    return [result, (performance.now() - started) / 1000];
  };
  const [result, coldSeconds] = once();
  const seconds = Array.from({ length: runs }, () => once()[1]);
  return { sigma: result.noiseMultiplier, epsilon: result.epsilon, evaluations: result.evaluations, coldSeconds, seconds };
}

console.log(`σ calibration: q = 1/2608, ${STEPS} steps, δ = ${DELTA}, target ε = ${TARGET_EPSILON}, ${accountant.toUpperCase()}, ε tolerance ${TOLERANCE}, ${runs} timed run(s) after a cold one`);
const opacus = timeOpacus();
const veil = timeVeil();
if (typeof opacus === 'string') {
  console.log(`Opacus: UNAVAILABLE — ${opacus}. Set VEIL_PYTHON to a Python with opacus installed.`);
} else {
  console.log(`Opacus ${opacus.opacusVersion} get_noise_multiplier: σ = ${opacus.sigma.toFixed(8)}, ε = ${opacus.epsilon.toFixed(6)}, median ${ms(median(opacus.seconds))} (cold ${ms(opacus.coldSeconds)}, ${opacus.evaluations} ε evaluations)`);
}
console.log(`Veil calibrateNoise:               σ = ${veil.sigma.toFixed(8)}, ε = ${veil.epsilon.toFixed(6)}, median ${ms(median(veil.seconds))} (cold ${ms(veil.coldSeconds)}, ${veil.evaluations} ε evaluations)`);
if (typeof opacus === 'string') {
  console.log('ratio: unavailable (no Opacus timing)');
} else {
  const ratio = median(opacus.seconds) / median(veil.seconds);
  const coldRatio = opacus.coldSeconds / veil.coldSeconds;
  console.log(`ratio Opacus / Veil: ${ratio.toFixed(1)}× (median), ${coldRatio.toFixed(1)}× (cold) — goal ≥ 10×: ${ratio >= 10 ? 'met' : 'NOT met'}`);
}

// One command for the benches' headline ratios: runs each bench (each measures Veil and its
// reference side by side in one run), picks the ratio lines out of its output, and prints a
// Markdown table with the machine and the reference versions, also written to bench/SUMMARY.md
// (with each bench's output) and into bench/README.md between its markers; with --only, printed only.
//   npm run bench:summary [-- --only privacy,noise,dp-step,dp-lora-step,generate]
// Makes the pinned Python environment first (bench/python/setup.sh) when there is none and
// VEIL_PYTHON is unset. The full set takes several minutes (the GPT-2-small training step and
// generation benches dominate).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { benchPython, benchVenvPython } from './python/python.ts';

interface Row { bench: string; metric: string; value: string; goal: string }
interface Bench { name: string; file: string; args: string[]; rows(out: string): Row[] }

const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));
const number = (out: string, pattern: RegExp): number | undefined => {
  const m = pattern.exec(out);
  return m ? Number(m[1]) : undefined;
};
const x = (v: number | undefined, digits = 2) => (v === undefined || !Number.isFinite(v) ? 'n/a' : `${v.toFixed(digits)}×`);
const pct = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? 'n/a' : `${(100 * v).toFixed(1)} %`);

const benches: Bench[] = [
  {
    name: 'privacy', file: './privacy/calibrate-noise.ts', args: [],
    rows: (out) => [{ bench: 'σ calibration (RDP)', metric: 'Opacus time ÷ Veil time', value: x(number(out, /ratio Opacus \/ Veil: ([\d.]+)×/), 1), goal: '≥ 10×' }],
  },
  {
    name: 'noise', file: './dp/noise-and-optimizers.ts', args: ['--json'],
    rows: (out) => {
      type Pair = { before: { cpu: number; wall: number }; now: { cpu: number; wall: number } };
      const r = JSON.parse(out.trim().split('\n').pop() ?? '{}') as { noise: Pair; noiseAdd?: Pair; adamw: Pair; adamwMemory?: Pair };
      const row = (bench: string, metric: string, p: Pair): Row => ({ bench, metric, value: `${x(p.before.cpu / p.now.cpu)} (${x(p.before.wall / p.now.wall)}); now ${p.now.wall.toFixed(2)} s`, goal: 'faster' });
      return [
        row('DP noise, 124 M values', 'previous JS ÷ now, CPU time (wall)', r.noise),
        ...(r.noiseAdd ? [row('prefetched noise add, 124 M values', 'JS loop ÷ kernel, CPU time (wall)', r.noiseAdd)] : []),
        row('AdamW, 124 M values', 'previous JS ÷ now, CPU time (wall)', r.adamw),
        ...(r.adamwMemory ? [row('AdamW reading DP noise, 124 M values', 'ordinary arrays ÷ optimizer memory, CPU time (wall)', r.adamwMemory)] : []),
      ];
    },
  },
  {
    name: 'dp-step', file: './train/dp-step.ts', args: [],
    rows: (out) => {
      const share = /alternating in one process:.*Veil DP gradients ([\d.]+) s, noise ([\d.]+) s, AdamW ([\d.]+) s/.exec(out);
      const [g, n, a] = share ? share.slice(1, 4).map(Number) : [NaN, NaN, NaN];
      const graph = /GFLOP\/s:\s+non-DP ([\d.]+), DP ([\d.]+) .* vs numpy sgemm ([\d.]+)/.exec(out);
      return [
        { bench: 'DP step, GPT-2 small, 8 × 128', metric: 'Veil tokens/s ÷ Opacus (ghost)', value: x(number(out, /Veil DP ÷ Opacus tokens\/s:\s+([\d.]+)/)), goal: '≥ 1.5×' },
        { bench: 'DP step', metric: 'DP ÷ non-DP step time', value: x(number(out, /Veil DP ÷ non-DP step time:\s+([\d.]+)/), 3), goal: '≤ 1.10' },
        { bench: 'DP step', metric: 'DP ÷ non-DP peak memory', value: x(number(out, /Veil DP ÷ non-DP peak memory:\s+([\d.]+)/), 3), goal: '≤ 1.2' },
        { bench: 'DP step', metric: 'noise + AdamW share of the DP step', value: pct((n + a) / (g + n + a)), goal: '≤ 10 %' },
        { bench: 'DP step', metric: 'gradient graph GFLOP/s ÷ numpy sgemm (DP)', value: graph ? pct(Number(graph[2]) / Number(graph[3])) : 'n/a', goal: '≥ 60 %' },
      ];
    },
  },
  {
    name: 'dp-lora-step', file: './train/dp-lora-step.ts', args: [],
    rows: (out) => [{ bench: 'DP-LoRA step, GPT-2 small, 8 × 128, rank 8', metric: 'Veil tokens/s ÷ Opacus (ghost) + PEFT', value: x(number(out, /Veil ÷ Opacus tokens\/s: ([\d.]+)×/)), goal: '≥ 1.5×' }],
  },
  {
    name: 'generate', file: './generate/bench.ts', args: ['--repeat', '3'], // medians: one run can meet a passing stall
    // The bench prints each batch's line as it measures and again in its closing summary: one row
    // per batch size, from its last line.
    rows: (out) => [...new Map([...out.matchAll(/batch (\d+): veil [\d.]+ tok\/s \([\d.]+ s, peak RSS (\d+) MB\) \| transformers [\d.]+ tok\/s \([\d.]+ s, peak RSS (\d+) MB\) \| ratio ([\d.]+)x/g)]
      .map((m) => [m[1], m] as const)).values()]
      .flatMap((m) => [
        { bench: `generation, batch ${m[1]}`, metric: 'Veil tokens/s ÷ transformers', value: x(Number(m[4])), goal: '≥ 1.5×' },
        { bench: `generation, batch ${m[1]}`, metric: 'Veil ÷ transformers peak RSS', value: x(Number(m[2]) / Number(m[3])), goal: '≤ 0.7×' },
      ]),
  },
];

const { values } = parseArgs({ options: { only: { type: 'string' } } });
const selected = values.only ? benches.filter((b) => values.only!.split(',').includes(b.name)) : benches;

if (process.env.VEIL_PYTHON === undefined && !existsSync(benchVenvPython)) {
  console.error('… creating bench/.venv (bench/python/setup.sh)');
  const setup = spawnSync('bash', [here('./python/setup.sh')], { stdio: 'inherit' });
  if (setup.status !== 0) throw new Error('bench/python/setup.sh failed');
}
const versions = spawnSync(benchPython(), ['-c', 'import importlib.metadata as m, platform; print(", ".join([f"Python {platform.python_version()}"] + [f"{n} {m.version(n)}" for n in ["torch", "transformers", "opacus", "numpy"]]))'], { encoding: 'utf8' });
const referenceVersions = versions.status === 0 ? versions.stdout.trim() : 'unavailable';

const rows: Row[] = [];
const outputs: string[] = [];
for (const bench of selected) {
  console.error(`… ${bench.name} (${bench.file})`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', here(bench.file), ...bench.args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26 });
  if (r.status !== 0) {
    rows.push({ bench: bench.name, metric: 'failed', value: `exit ${r.status}`, goal: '' });
    continue;
  }
  outputs.push(`### ${bench.name}: ${bench.file}\n\n\`\`\`\n${r.stdout.trim()}\n\`\`\``);
  try {
    rows.push(...bench.rows(r.stdout));
  } catch (error) {
    rows.push({ bench: bench.name, metric: 'unreadable output', value: String(error), goal: '' });
  }
}

const table = [
  `Measured ${new Date().toISOString().slice(0, 10)} on ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}; references: ${referenceVersions}.`,
  'Each ratio compares Veil and the reference measured side by side in the same run (`npm run bench:summary` regenerates this file).',
  '',
  '| bench | metric | measured | goal |',
  '| --- | --- | --- | --- |',
  ...rows.map((r) => `| ${r.bench} | ${r.metric} | ${r.value} | ${r.goal} |`),
].join('\n');
console.log(table);
// Only a full run replaces SUMMARY.md and the table in bench/README.md (between its markers): a
// partial one would leave them with some benches' rows missing.
const readme = here('./README.md');
const [start, end] = ['<!-- bench-table:start -->', '<!-- bench-table:end -->'];
if (values.only) console.error('(--only: printed only; bench/SUMMARY.md and the table in bench/README.md are left as they are)');
else {
  writeFileSync(here('./SUMMARY.md'), `# Bench summary\n\n${table}\n\n## Output of each bench\n\n${outputs.join('\n\n')}\n`);
  const text = existsSync(readme) ? readFileSync(readme, 'utf8') : '';
  const [i, j] = [text.indexOf(start), text.indexOf(end)];
  if (i >= 0 && j > i) writeFileSync(readme, `${text.slice(0, i + start.length)}\n${table}\n${text.slice(j)}`);
}

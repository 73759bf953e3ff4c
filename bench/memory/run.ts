// Peak RSS of one full DP-SGD step (batch 1 × 128 tokens) and of generation (batch 1, 32 new
// tokens) for each GPT-2 size, each measured in a child process of its own (child.ts) with random
// weights. A shared machine is protected: a child whose resident set passes --limit-gib, or that
// leaves the machine under 1 GiB available, is killed (and reported so), a size whose parameters, gradient and AdamW moments alone exceed the limit is
// not started, and a size of 500 M parameters or more starts only with --min-available-gib free.
//   node --import tsx bench/memory/run.ts [SIZE…] [--modes dp,generate] [--lora] [--limit-gib 21]
//     [--min-available-gib 18] [--models-dir DIR]
// SIZE: small, medium, large, xl (default all four), any preset, or a folder with a HF config.json.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gpt2ConfigOf } from '../../engine/gpt2/config.ts';
import { parameterCount } from '../../engine/gpt2/weights.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    modes: { type: 'string', default: 'dp,generate' },
    lora: { type: 'boolean', default: false },
    'limit-gib': { type: 'string', default: '21' },
    'min-available-gib': { type: 'string', default: '18' },
    'models-dir': { type: 'string', default: join(tmpdir(), 'veil-bench-memory') },
  },
});
const sizes = positionals.length > 0 ? positionals : ['small', 'medium', 'large', 'xl'];
const modes = values.modes.split(',');
// DP-LoRA (adapters on a frozen base, child.ts's BENCH_LORA): `--lora` adds it.
if (values.lora && !modes.includes('dp-lora')) modes.push('dp-lora');
const limitGib = Number(values['limit-gib']);
const minAvailableGib = Number(values['min-available-gib']);
const LARGE_PARAMETERS = 500e6;
/** A child is killed when the machine has less than this left: the other processes on it come first. */
const RESERVE_GIB = 1;
const CHILD = new URL('./child.ts', import.meta.url).pathname;

function availableGib(): number {
  const line = readFileSync('/proc/meminfo', 'utf8').split('\n').find((l) => l.startsWith('MemAvailable:'));
  return Number(line!.split(/\s+/)[1]) / 2 ** 20;
}

function rssGib(pid: number): number {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
    return line ? Number(line.split(/\s+/)[1]) / 2 ** 20 : 0;
  } catch {
    return 0; // already gone
  }
}

interface Outcome {
  ok: boolean;
  /** Every JSON line the child printed, merged: a killed child's partial results too. */
  result: Record<string, unknown>;
  reason?: string;
  seconds: number;
}

function merged(stdout: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const line of stdout.split('\n')) {
    if (line.startsWith('{')) Object.assign(out, JSON.parse(line) as Record<string, unknown>);
  }
  return out;
}

/** Runs child.ts with `args`, killing it if its resident set passes the limit. */
function runChild(args: string[]): Promise<Outcome> {
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  let killedAt = 0;
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const watch = setInterval(() => {
    const rss = rssGib(child.pid!);
    // Over its own limit, or the machine nearly out of memory for everyone else's processes.
    if ((rss > limitGib || availableGib() < RESERVE_GIB) && killedAt === 0) {
      killedAt = rss;
      child.kill('SIGKILL');
    }
  }, 200);
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      clearInterval(watch);
      const seconds = Math.round((performance.now() - started) / 100) / 10;
      const result = merged(stdout);
      if (killedAt > 0) resolve({ ok: false, result, reason: `killed at ${killedAt.toFixed(2)} GiB resident (limit ${limitGib} GiB, or under ${RESERVE_GIB} GiB left on the machine)`, seconds });
      else if (code !== 0) resolve({ ok: false, result, reason: `exited with ${signal ?? code}`, seconds });
      else resolve({ ok: true, result, seconds });
    });
  });
}

const rows: string[] = [];
for (const size of sizes) {
  const config = gpt2ConfigOf(size);
  const params = parameterCount(config);
  const copyGib = (params * 4) / 2 ** 30;
  for (const mode of modes) {
    const context = { size, mode, params, available_gib: Math.round(availableGib() * 10) / 10, load: loadavg().map((l) => Math.round(l * 10) / 10) };
    // Weights, gradient sum and the two AdamW moments: the least a full DP step holds.
    if ((mode === 'dp' || mode === 'dp-2') && 4 * copyGib > limitGib) {
      const reason = `not run: weights, gradient and AdamW moments alone are ${(4 * copyGib).toFixed(1)} GiB > ${limitGib} GiB`;
      console.log(JSON.stringify({ ...context, reason }));
      rows.push(`| ${size} | ${mode} | ${reason} | | |`);
      continue;
    }
    if (params >= LARGE_PARAMETERS && context.available_gib < minAvailableGib) {
      const reason = `not run: ${context.available_gib} GiB available < ${minAvailableGib}`;
      console.log(JSON.stringify({ ...context, reason }));
      rows.push(`| ${size} | ${mode} | ${reason} | | |`);
      continue;
    }
    let outcome: Outcome;
    if (mode === 'generate') {
      const dir = join(values['models-dir'], size.replaceAll('/', '_'));
      if (!existsSync(join(dir, 'config.json'))) {
        const prepared = await runChild(['prepare', size, dir]);
        if (!prepared.ok) throw new Error(`preparing random weights for ${size}: ${prepared.reason}`);
      }
      outcome = await runChild(['generate', size, dir]);
    } else {
      outcome = await runChild([mode, size]);
    }
    const r = outcome.result;
    console.log(JSON.stringify({ ...context, seconds: outcome.seconds, ...r, ...(outcome.ok ? {} : { reason: outcome.reason }) }));
    const peak = outcome.ok ? `${String(r.peak_rss_gib)} GiB` : outcome.reason!;
    const detail = mode.startsWith('dp')
      ? [r.step_peak_gib !== undefined ? `step ${String(r.step_peak_gib)} GiB (${String(r.step_s)} s)` : 'no step completed', r.checkpoint_peak_gib !== undefined ? `with its checkpoint ${String(r.checkpoint_peak_gib)} GiB` : ''].filter(Boolean).join('; ')
      : r.loaded_peak_gib !== undefined ? `loaded ${String(r.loaded_peak_gib)} GiB; ${String(r.tokens_per_s)} tok/s` : '';
    rows.push(`| ${size} | ${mode} | ${peak} | ${detail} | ${context.available_gib} GiB free, load ${context.load.join(' ')} |`);
  }
}
console.log(['', '| size | mode | peak RSS | detail | machine at start |', '| --- | --- | --- | --- | --- |', ...rows].join('\n'));

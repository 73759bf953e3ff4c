// Where generation's time goes: prompt reading apart from decoding, wall and CPU time per decode
// step, and (with --profile PREFIX) onnxruntime's per-node profile summed by operator type.
//
//   node --import tsx bench/generate/profile.ts DIR [--batch 1] [--prompt-tokens 64] [--new-tokens 100]
//        [--stage-bytes N] [--spinning on|off] [--profile /tmp/gen] [--precision float32|int8-draft]
//
// DIR is a GPT-2 checkpoint folder (bench.ts writes one; `random:gpt2` works too, from memory).
import { readFileSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { generateTokens } from '../../engine/gpt2/generate.ts';
import { Gpt2Model } from '../../engine/gpt2/model.ts';
import { sessionConfigFromEnv, type SessionConfig } from '../../engine/onnx/index.ts';
import { promptIds } from './prompts.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    batch: { type: 'string', default: '1' },
    'prompt-tokens': { type: 'string', default: '64' },
    'new-tokens': { type: 'string', default: '100' },
    'stage-bytes': { type: 'string' },
    spinning: { type: 'string' },
    profile: { type: 'string' },
    precision: { type: 'string', default: 'float32' },
  },
});
const B = Number(values.batch);
const N = Number(values['new-tokens']);
const session: SessionConfig = { ...sessionConfigFromEnv() };
if (values.spinning) session.spinning = values.spinning === 'on';
if (values.profile) session.profileFilePrefix = values.profile;

const loadStart = performance.now();
const precision = values.precision === 'int8-draft' ? 'int8-draft' : 'float32';
const model = await Gpt2Model.load(positionals[0], { session, precision, stageBytes: values['stage-bytes'] ? Number(values['stage-bytes']) : undefined });
const loadSeconds = (performance.now() - loadStart) / 1000;
const rssAfterLoad = process.memoryUsage().rss / 2 ** 20;
// Time inside Gpt2Model.run (the stages' session runs and their feeds/outputs); the rest of a step
// is generateTokens' own work (feeds, cache writes, sampling).
let inRun = 0;
const run = model.run.bind(model);
model.run = async (...args: Parameters<Gpt2Model['run']>) => {
  const t0 = performance.now();
  try {
    return await run(...args);
  } finally {
    inRun += performance.now() - t0;
  }
};
const prompts = promptIds(B, Number(values['prompt-tokens']));
const options = { temperature: 0, seed: 0, stopToken: null };

async function timed(maxNewTokens: number): Promise<{ wall: number; cpu: number; outside: number }> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const inRun0 = inRun;
  await generateTokens(model, prompts, { ...options, maxNewTokens });
  const cpu = process.cpuUsage(cpu0);
  const wall = performance.now() - t0;
  return { wall: wall / 1000, cpu: (cpu.user + cpu.system) / 1e6, outside: (wall - (inRun - inRun0)) / 1000 };
}

await timed(2); // warm-up
const prefill = await timed(1);
const whole = await timed(N);
const step = { wall: (whole.wall - prefill.wall) / (N - 1), cpu: (whole.cpu - prefill.cpu) / (N - 1), outside: (whole.outside - prefill.outside) / (N - 1) };
await model.release();
const report = {
  batch: B,
  load_s: +loadSeconds.toFixed(2),
  rss_after_load_mb: Math.round(rssAfterLoad),
  max_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
  prefill_s: +prefill.wall.toFixed(3),
  decode_ms_per_step: +(1000 * step.wall).toFixed(2),
  decode_cpu_ms_per_step: +(1000 * step.cpu).toFixed(2),
  decode_ms_per_step_outside_model_run: +(1000 * step.outside).toFixed(2),
  tokens_per_second: +((B * N) / whole.wall).toFixed(1),
  load_average: (await import('node:os')).loadavg().map((l) => +l.toFixed(2)),
};
process.stdout.write(JSON.stringify(report) + '\n');

if (values.profile) {
  // onnxruntime writes one JSON file per session when it is released.
  const folder = dirname(values.profile);
  const prefix = basename(values.profile);
  const byOp = new Map<string, { us: number; count: number }>();
  for (const file of readdirSync(folder).filter((f) => f.startsWith(prefix) && f.endsWith('.json'))) {
    const events = JSON.parse(readFileSync(join(folder, file), 'utf8')) as { cat: string; name: string; dur: number; args?: { op_name?: string } }[];
    for (const e of events) {
      if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
      const op = e.args?.op_name ?? '?';
      const entry = byOp.get(op) ?? { us: 0, count: 0 };
      entry.us += e.dur;
      entry.count += 1;
      byOp.set(op, entry);
    }
  }
  const total = [...byOp.values()].reduce((s, e) => s + e.us, 0);
  for (const [op, e] of [...byOp].sort((a, b) => b[1].us - a[1].us)) {
    process.stdout.write(`${op.padEnd(28)} ${(e.us / 1000).toFixed(1).padStart(9)} ms ${((100 * e.us) / total).toFixed(1).padStart(5)} %  ${e.count} calls\n`);
  }
}

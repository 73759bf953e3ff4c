// The utility gap of DP-LoRA against full DP fine-tuning at the same ε (issue #19, item 4), on the
// demo's patient notes: for each size and base, full fine-tuning without DP (the reference), full
// DP fine-tuning and DP-LoRA at two ranks, the same schedule for all (batch, epochs, hence the
// same sampling rate and steps, and σ calibrated for them by the trainer), each at the learning
// rate of a small grid that gives the lowest validation loss on the first seed, then more seeds
// at that rate. Prints progress, then the Markdown table of README.md; --json writes every run.
//   node --import tsx bench/lora-utility/run.ts [--sizes tiny,4x256] [--bases random,public] [--seeds 3] …
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { presetConfig, type Gpt2Config } from '../../engine/gpt2/index.ts';
import type { LoraTarget } from '../../engine/lora/adapters.ts';
import { armName, heldOutLoss, runArm, type ArmKind, type ArmResult, type Schedule } from './arm.ts';
import { publicBase, randomBase, type Base, type PublicTraining } from './bases.ts';
import { demoRows, MAX_SEQ_LEN } from './data.ts';
import { markdownTable, type ArmSummary, type BaseSummary } from './table.ts';

/** PEFT's target_modules ["c_attn", "c_proj", "c_fc"] on GPT-2: c_proj names both attention's and the MLP's. */
const LORA_TARGETS: LoraTarget[] = ['attn.c_attn', 'attn.c_proj', 'mlp.c_fc', 'mlp.c_proj'];

const SIZES: Record<string, () => Gpt2Config> = {
  tiny: () => presetConfig('tiny'),
  /** 4 layers of width 256 (4 heads of 64, GPT-2's head width), the full vocabulary. */
  '4x256': () => ({ ...presetConfig('tiny'), nLayer: 4, nEmbd: 256, nHead: 4 }),
};

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: 'tiny' },
    bases: { type: 'string', default: 'random,public' },
    seeds: { type: 'string', default: '3' },
    ranks: { type: 'string', default: '8,32' },
    epochs: { type: 'string', default: '2' },
    'batch-size': { type: 'string', default: '128' },
    'target-epsilon': { type: 'string', default: '8' },
    delta: { type: 'string', default: '1e-5' },
    'lr-nodp': { type: 'string', default: '1e-2,3e-2' },
    'lr-full-dp': { type: 'string', default: '3e-3,1e-2,3e-2' },
    'lr-lora': { type: 'string', default: '1e-2,3e-2,1e-1' },
    'public-epochs': { type: 'string', default: '3' },
    'public-lr': { type: 'string', default: '1e-2' },
    arms: { type: 'string', default: 'nodp,full-dp,lora' },
    json: { type: 'string' },
  },
});

const list = (s: string): string[] => s.split(',').map((x) => x.trim()).filter(Boolean);
const numbers = (s: string): number[] => list(s).map(Number);
const log = (line: string): void => console.log(`[${new Date().toISOString().slice(11, 19)} load ${loadavg()[0].toFixed(2)}] ${line}`);

const schedule: Schedule = {
  batchSize: Number(args['batch-size']),
  epochs: Number(args.epochs),
  targetEpsilon: Number(args['target-epsilon']),
  delta: Number(args.delta),
  maxGradNorm: 1,
  physicalBatchSize: 32,
  seqLen: MAX_SEQ_LEN,
};
const publicTraining: PublicTraining = { epochs: Number(args['public-epochs']), batchSize: 32, lr: Number(args['public-lr']), warmupSteps: 20, seqLen: MAX_SEQ_LEN };
const seeds = Array.from({ length: Number(args.seeds) }, (_, i) => i);
const wanted = new Set(list(args.arms));

/** The arms of one base, each with its learning-rate grid. */
function arms(): { arm: ArmKind; grid: number[] }[] {
  const out: { arm: ArmKind; grid: number[] }[] = [];
  if (wanted.has('nodp')) out.push({ arm: { kind: 'full', private: false }, grid: numbers(args['lr-nodp']) });
  if (wanted.has('full-dp')) out.push({ arm: { kind: 'full', private: true }, grid: numbers(args['lr-full-dp']) });
  if (wanted.has('lora')) {
    for (const rank of numbers(args.ranks)) out.push({ arm: { kind: 'lora', lora: { rank, alpha: 2 * rank, targets: LORA_TARGETS } }, grid: numbers(args['lr-lora']) });
  }
  return out;
}

async function tuneAndRepeat(base: Base, rows: ReturnType<typeof demoRows>, arm: ArmKind, grid: number[], all: ArmResult[]): Promise<ArmSummary> {
  const name = armName(arm);
  const tried: ArmResult[] = [];
  for (const lr of grid) {
    const r = await runArm(base.checkpoint, rows, schedule, { arm, lr, seed: seeds[0] });
    log(`${name} lr ${lr} seed ${seeds[0]}: validation ${r.validationLoss.toFixed(4)}, test ${r.testLoss.toFixed(4)}, ε ${r.epsilon.toFixed(3)}, σ ${r.noiseMultiplier.toFixed(3)}, ${r.steps} steps, ${r.seconds.toFixed(0)} s`);
    tried.push(r);
    all.push(r);
  }
  // A diverged run (NaN) is never chosen.
  const best = tried.reduce((a, b) => (b.validationLoss < a.validationLoss || Number.isNaN(a.validationLoss) ? b : a));
  const runs = [best];
  for (const seed of seeds.slice(1)) {
    const r = await runArm(base.checkpoint, rows, schedule, { arm, lr: best.lr, seed });
    log(`${name} lr ${best.lr} seed ${seed}: validation ${r.validationLoss.toFixed(4)}, test ${r.testLoss.toFixed(4)}, ${r.seconds.toFixed(0)} s`);
    runs.push(r);
    all.push(r);
  }
  return { name, grid: tried.map((r) => ({ lr: r.lr, validationLoss: r.validationLoss })), runs };
}

const started = performance.now();
const loadAtStart = loadavg();
const rows = demoRows();
log(`rows: ${rows.train.length} train, ${rows.validation.length} validation, ${rows.test.length} test (${MAX_SEQ_LEN} tokens at most); schedule ${JSON.stringify(schedule)}; seeds ${seeds.join(',')}; ${cpus().length} CPUs`);
const summaries: BaseSummary[] = [];
const all: ArmResult[] = [];
const bases: Record<string, unknown>[] = [];
for (const size of list(args.sizes)) {
  const config = SIZES[size]?.();
  if (!config) throw new Error(`unknown size ${size} (known: ${Object.keys(SIZES).join(', ')})`);
  for (const baseKind of list(args.bases)) {
    const base = baseKind === 'public' ? await publicBase(config, publicTraining, log) : baseKind === 'random' ? randomBase(config) : undefined;
    if (!base) throw new Error(`unknown base ${baseKind} (random or public)`);
    const baseTestLoss = await heldOutLoss(base.checkpoint, rows.test);
    log(`${size} ${baseKind} base: test loss ${baseTestLoss.toFixed(4)}${base.publicHeldOutLoss !== undefined ? `, public held-out loss ${base.publicHeldOutLoss.toFixed(4)}, trained in ${base.seconds.toFixed(0)} s` : ''}`);
    bases.push({ size, base: baseKind, baseTestLoss, publicHeldOutLoss: base.publicHeldOutLoss, seconds: base.seconds });
    const summary: BaseSummary = { size, base: baseKind === 'public' ? 'public (PHEE, no DP)' : 'random', baseTestLoss, arms: [] };
    summaries.push(summary);
    for (const { arm, grid } of arms()) {
      summary.arms.push(await tuneAndRepeat(base, rows, arm, grid, all));
      save(false); // after every arm: a run stopped early keeps what it measured
    }
  }
}
save(true);

function save(done: boolean): void {
  const minutes = (performance.now() - started) / 60000;
  const table = markdownTable(summaries.filter((s) => s.arms.length > 0));
  if (done) {
    console.log(`\n${table}\n`);
    console.log(`wall ${minutes.toFixed(1)} min; load average (1/5/15 min) ${loadAtStart.map((x) => x.toFixed(2)).join('/')} at start, ${loadavg().map((x) => x.toFixed(2)).join('/')} at the end`);
  }
  if (args.json) writeFileSync(args.json, JSON.stringify({ done, schedule, publicTraining, seeds, bases, table, runs: all, minutes, loadAtStart, loadAtEnd: loadavg() }, null, 2) + '\n');
}

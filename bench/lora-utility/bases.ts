// Where each arm starts. `random`: the demo's base (random:<size> with the demo's model seed
// 'demo', as the fine-tune activity initialises it). `public`: that same random model first
// trained without DP on public text (data.ts's PHEE windows), the realistic starting point of a
// private fine-tune, LoRA's especially: a pretrained model, a private fine-tune on top. The public
// base is written once to $TMPDIR/veil-bench-lora-utility/ (keyed by its settings) and reused.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCheckpoint, randomWeights, saveCheckpoint, type Gpt2Checkpoint, type Gpt2Config } from '../../engine/gpt2/index.ts';
import { RunKey } from '../../engine/dp/index.ts';
import { sessionConfigFromEnv } from '../../engine/onnx/index.ts';
import { Gpt2GradientComputer } from '../../engine/train-graph/index.ts';
import { train, type TrainConfig } from '../../engine/train/index.ts';
import { heldOutLoss } from './arm.ts';
import { publicWindows } from './data.ts';

/** The demo's model seed (clients/demo/run-demo.ts: model.seed). */
const DEMO_MODEL_SEED = 'demo';

export interface PublicTraining {
  epochs: number;
  batchSize: number;
  lr: number;
  warmupSteps: number;
  seqLen: number;
}

export interface Base {
  checkpoint: Gpt2Checkpoint;
  /** For a public base: its own held-out loss on the public windows it did not train on. */
  publicHeldOutLoss?: number;
  /** Seconds spent training it in this run (0 when read back from disk). */
  seconds: number;
}

export function randomBase(config: Gpt2Config): Base {
  return { checkpoint: { config, weights: randomWeights(config, DEMO_MODEL_SEED) }, seconds: 0 };
}

/** One window in twenty is held out, to say how well the base learned the public text. */
function splitWindows(windows: number[][]): { train: number[][]; heldOut: number[][] } {
  return { train: windows.filter((_, i) => i % 20 !== 0), heldOut: windows.filter((_, i) => i % 20 === 0) };
}

export async function publicBase(config: Gpt2Config, settings: PublicTraining, log: (line: string) => void): Promise<Base> {
  const key = createHash('sha256').update(JSON.stringify({ config, settings, seed: DEMO_MODEL_SEED, corpus: 'phee-v1' })).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), 'veil-bench-lora-utility', key);
  const { train: rows, heldOut } = splitWindows(publicWindows(settings.seqLen));
  if (existsSync(join(dir, 'model.safetensors'))) {
    const { config: read, weights } = await loadCheckpoint(dir);
    const checkpoint = { config: read, weights };
    log(`public base: read back from ${dir}`);
    return { checkpoint, publicHeldOutLoss: await heldOutLoss(checkpoint, heldOut), seconds: 0 };
  }
  const started = performance.now();
  const start = randomBase(config).checkpoint;
  const model = new Gpt2GradientComputer({ config, rows, seqLen: settings.seqLen, session: sessionConfigFromEnv() });
  const trainConfig: TrainConfig = {
    rowCount: rows.length, targetEpsilon: 'unlimited', batchSize: settings.batchSize, epochs: settings.epochs,
    maxGradNorm: 1, lr: settings.lr, warmupSteps: settings.warmupSteps, physicalBatchSize: settings.batchSize,
  };
  const initialParams = model.paramSpecs.map((s) => start.weights.get(s.name)!.data);
  log(`public base: training ${rows.length} public windows of ${settings.seqLen} tokens without DP (${JSON.stringify(settings)})`);
  let result;
  try {
    result = await train(
      { config: trainConfig, model, initialParams, runKey: RunKey.from(createHash('sha256').update('veil-bench-lora-utility/public').digest()) },
      { onProgress: (e) => { if (e.step % 50 === 0 || e.step === e.totalSteps) log(`public base: step ${e.step}/${e.totalSteps}, train loss ${e.loss?.toFixed(3)}`); } },
    );
  } finally {
    await model.release();
  }
  const checkpoint: Gpt2Checkpoint = { config, weights: new Map(model.paramSpecs.map((s, k) => [s.name, { shape: [...s.shape], data: result.params[k] }])) };
  await saveCheckpoint(dir, checkpoint);
  return { checkpoint, publicHeldOutLoss: await heldOutLoss(checkpoint, heldOut), seconds: (performance.now() - started) / 1000 };
}

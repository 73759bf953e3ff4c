// DP-LoRA through engine/train: the trainer's parameters are the adapters alone; a run stopped,
// checkpointed and resumed ends bit-identical to one that never stopped; the accountant is the
// full model's (the same ε for the same sampling, noise and steps: only the parameter count changes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RunKey } from '../../engine/dp/index.ts';
import { presetConfig } from '../../engine/gpt2/config.ts';
import { randomWeights } from '../../engine/gpt2/weights.ts';
import { adapterShapes, initAdapters, type LoraSpec } from '../../engine/lora/adapters.ts';
import { LoraGradientComputer } from '../../engine/train-graph/lora-gradient-computer.ts';
import { Gpt2GradientComputer } from '../../engine/train-graph/index.ts';
import { decodeCheckpoint, encodeCheckpoint, train, type Checkpoint, type TrainConfig } from '../../engine/train/index.ts';

const config = presetConfig('micro');
const base = randomWeights(config, 'lora-resume');
const lora: LoraSpec = { rank: 2, alpha: 4, targets: ['attn.c_attn', 'mlp.c_proj'] };
const rows = Array.from({ length: 40 }, (_, i) => Array.from({ length: 3 + (i % 6) }, (_, t) => (i * 31 + t * 7) % config.vocabSize));
const runKey = new RunKey(new Uint8Array(32).fill(5));
const trainConfig: TrainConfig = { rowCount: rows.length, targetEpsilon: 4, delta: 1e-3, batchSize: 8, epochs: 1.2, maxGradNorm: 0.5, lr: 0.05, physicalBatchSize: 4, checkpointEvery: 2 };

async function run(options: { stopAfter?: number; resumeFrom?: Checkpoint } = {}) {
  const model = new LoraGradientComputer({ config, base, lora, rows, seqLen: 8 });
  const adapters = initAdapters(config, lora, 'lora-resume');
  let steps = 0;
  const checkpoints: Checkpoint[] = [];
  try {
    const result = await train(
      {
        config: trainConfig, model, runKey, resumeFrom: options.resumeFrom,
        initialParams: options.resumeFrom ? undefined : model.paramSpecs.map((s) => Float32Array.from(adapters.get(s.name)!.data)),
        shouldStop: () => options.stopAfter !== undefined && steps >= options.stopAfter,
      },
      { onProgress: () => { steps++; }, onCheckpoint: (c) => { checkpoints.push(c); } },
    );
    return { result, checkpoints };
  } finally {
    await model.release();
  }
}

void test('the trainer sees the adapters only; stop, encode, decode, resume → bit-identical; ε as for the full model', async () => {
  const straight = await run();
  assert.deepEqual(straight.checkpoints[0].paramSpecs.map((s) => [s.name, [...s.shape]]), adapterShapes(config, lora));
  assert.ok(straight.result.params.some((p) => p.some((v) => v !== 0)));
  const stopped = await run({ stopAfter: 3 });
  const last = stopped.checkpoints.at(-1)!;
  assert.ok(last.step >= 2 && last.step < straight.result.step);
  const resumed = await run({ resumeFrom: decodeCheckpoint(encodeCheckpoint(last)) });
  assert.equal(resumed.result.step, straight.result.step);
  resumed.result.params.forEach((p, k) => assert.deepEqual(p, straight.result.params[k], straight.checkpoints[0].paramSpecs[k].name));
  assert.equal(resumed.result.epsilon, straight.result.epsilon);

  const full = new Gpt2GradientComputer({ config, rows, seqLen: 8 });
  try {
    const fullRun = await train({ config: trainConfig, model: full, runKey, initialParams: full.paramSpecs.map((s) => Float32Array.from(base.get(s.name)!.data)) }, {});
    assert.equal(fullRun.epsilon, straight.result.epsilon, 'the accountant does not depend on the parameters');
  } finally {
    await full.release();
  }
});

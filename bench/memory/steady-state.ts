// RSS after each of a few training steps (batch 1 × 128 tokens, random weights, q = 1), to see
// where a run's memory settles: bench/memory's other modes measure one step.
//   node --import tsx bench/memory/steady-state.ts [SIZE=medium] [arena on|off] [dp|nodp] [STEPS=4]
import { RunKey } from '../../engine/dp/index.ts';
import { presetConfig } from '../../engine/gpt2/config.ts';
import { randomWeights } from '../../engine/gpt2/weights.ts';
import { train, type TrainConfig } from '../../engine/train/index.ts';
import { Gpt2GradientComputer } from '../../engine/train-graph/gpt2-gradient-computer.ts';

const [size = 'medium', arenaArg = 'on', dpArg = 'dp', stepsArg = '4'] = process.argv.slice(2);
const arena = arenaArg !== 'off';
const dp = dpArg !== 'nodp';
const config = presetConfig(size);
const weights = randomWeights(config, 'steady-state');
const row = Array.from({ length: 128 }, (_, i) => (i * 7919) % config.vocabSize);
const model = new Gpt2GradientComputer({ config, rows: [row], seqLen: 128, session: { memoryArena: arena } });
const initialParams = model.paramSpecs.map((s) => weights.get(s.name)!.data);
weights.clear(); // the trainer holds them now
const gib = (bytes: number) => (bytes / 2 ** 30).toFixed(2);
const trainConfig: TrainConfig = {
  rowCount: 1, targetEpsilon: dp ? 8 : 'unlimited', delta: 1e-5, batchSize: 1, epochs: Number(stepsArg),
  maxGradNorm: 1, lr: 1e-4, physicalBatchSize: 1, accountant: dp ? 'rdp' : undefined,
};
const started = performance.now();
await train({ config: trainConfig, model, initialParams, runKey: RunKey.generate() }, {
  onProgress: (e) => console.log(`${size}, arena ${arena ? 'on' : 'off'}, ${dp ? 'DP' : 'no DP'}, step ${e.step}: RSS ${gib(process.memoryUsage().rss)} GiB, peak ${gib(process.resourceUsage().maxRSS * 1024)} GiB, ${((performance.now() - started) / 1000).toFixed(1)} s`),
});
await model.release();

// One measurement of bench/memory/run.ts, in a process of its own so that its peak RSS
// (getrusage's maxRSS) is its own. Prints JSON lines: partial results as they come (a child killed
// over the limit keeps what it measured before), the whole result last.
//   node --import tsx bench/memory/child.ts prepare SIZE DIR    random weights saved as a HF folder
//   node --import tsx bench/memory/child.ts dp SIZE             one full DP-SGD step, then its checkpoint
//   node --import tsx bench/memory/child.ts dp-2 SIZE           the same step over two micro-batches of one row each
//   node --import tsx bench/memory/child.ts dp-lora SIZE        one DP-LoRA step (rank 8, attn.c_attn, attn.c_proj, mlp.c_fc), then its checkpoint
//   node --import tsx bench/memory/child.ts generate SIZE DIR   load DIR as the sampling activity does, 32 new tokens
// SIZE is a preset or alias (small … xl) or a folder holding a Hugging Face GPT-2 config.json.
import { gpt2ConfigOf } from '../../engine/gpt2/config.ts';
import { Gpt2Model, generateTokens, randomWeights, saveCheckpoint } from '../../engine/gpt2/index.ts';
import { parameterCount } from '../../engine/gpt2/weights.ts';
import { RunKey } from '../../engine/dp/index.ts';
import { initAdapters, type LoraSpec } from '../../engine/lora/adapters.ts';
import { sessionConfigFromEnv } from '../../engine/onnx/index.ts';
import { Gpt2GradientComputer } from '../../engine/train-graph/index.ts';
import { LoraGradientComputer } from '../../engine/train-graph/lora-gradient-computer.ts';
import { train, type GradientComputer, type TrainConfig } from '../../engine/train/index.ts';
import { uploadToNowhere } from './upload-sink.ts';

export const SEQUENCE_TOKENS = 128;
export const NEW_TOKENS = 32;
const SEED = 'veil-bench-memory';
/** DP-LoRA's adapters: rank 8 (alpha 16) on the attention's two projections and the MLP's first. */
export const BENCH_LORA: LoraSpec = { rank: 8, alpha: 16, targets: ['attn.c_attn', 'attn.c_proj', 'mlp.c_fc'] };

const gib = (bytes: number): number => Math.round((bytes / 2 ** 30) * 100) / 100;
/** The largest resident set this process has had so far, in GiB. */
const peakGib = (): number => gib(process.resourceUsage().maxRSS * 1024);
const nowGib = (): number => gib(process.memoryUsage().rss);

/** A fixed row of token ids spread over the vocabulary (the values do not change the memory). */
function row(vocabSize: number, length: number): number[] {
  return Array.from({ length }, (_, t) => (t * 7919 + 13) % vocabSize);
}

type Measure = (size: string, dir?: string) => Promise<Record<string, unknown>>;

const modes: Record<string, Measure> = {
  async prepare(size, dir) {
    const config = gpt2ConfigOf(size);
    await saveCheckpoint(dir!, { config, weights: randomWeights(config, SEED) });
    return { dir };
  },

  // The trainer of the fine-tune activity (engine/train's train(), in this thread instead of its
  // worker thread: the same buffers, since a live checkpoint moves them to the uploading thread and
  // back) on one row of SEQUENCE_TOKENS tokens, q = 1: exactly one step of one example, with the
  // trainer's noise prefetch and AdamW, then the run's checkpoint uploaded as the activity does.
  dp: (size) => fullStep(size, 1),

  // Two rows, q = 1, micro-batches of one: the second micro-batch's gradients go through the
  // computer's scratch copy (a step's later micro-batches), which one micro-batch never needs.
  'dp-2': (size) => fullStep(size, 2),

  // DP-LoRA: the frozen base (one weight copy, never updated) and the BENCH_LORA adapters, which
  // are all the trainer, the noise, AdamW and the checkpoint see.
  async 'dp-lora'(size) {
    const config = gpt2ConfigOf(size);
    const base = randomWeights(config, SEED);
    const model = new LoraGradientComputer({ config, base, lora: BENCH_LORA, rows: [row(config.vocabSize, SEQUENCE_TOKENS)], seqLen: SEQUENCE_TOKENS, session: sessionConfigFromEnv() });
    const adapters = initAdapters(config, BENCH_LORA, SEED);
    const initialParams = model.paramSpecs.map((s) => adapters.get(s.name)!.data);
    const result = await oneStep(model, initialParams, parameterCount(config));
    return { ...result, lora: `rank ${BENCH_LORA.rank} on ${BENCH_LORA.targets.join(', ')}`, trained_params: initialParams.reduce((n, p) => n + p.length, 0) };
  },

  // As the sampling activity's worker thread does: the model mapped from its folder, one prompt.
  async generate(size, dir) {
    const config = gpt2ConfigOf(dir ?? size);
    const model = await Gpt2Model.load(dir!, { session: sessionConfigFromEnv() });
    const loadedPeak = peakGib();
    const started = performance.now();
    const out = await generateTokens(model, [row(config.vocabSize, 8)], { maxNewTokens: NEW_TOKENS, seed: SEED, temperature: 1, stopToken: null });
    const seconds = (performance.now() - started) / 1000;
    await model.release();
    return { params: parameterCount(config), loaded_peak_gib: loadedPeak, new_tokens: out.tokens[0].length, tokens_per_s: Math.round((out.tokens[0].length / seconds) * 100) / 100 };
  },
};

/** One full DP-SGD step over `rows` rows of SEQUENCE_TOKENS tokens, all sampled, one per micro-batch. */
async function fullStep(size: string, rows: number): Promise<Record<string, unknown>> {
  const config = gpt2ConfigOf(size);
  const weights = randomWeights(config, SEED);
  const model = new Gpt2GradientComputer({ config, rows: Array.from({ length: rows }, () => row(config.vocabSize, SEQUENCE_TOKENS)), seqLen: SEQUENCE_TOKENS, session: sessionConfigFromEnv() });
  const initialParams = model.paramSpecs.map((s) => weights.get(s.name)!.data);
  weights.clear(); // the trainer holds them now, updated in place
  return oneStep(model, initialParams, parameterCount(config), rows);
}

/** One DP-SGD step of `model` from `initialParams` (q = 1 over `rows` rows), then its checkpoint, uploaded to nowhere as the train activity uploads it. */
async function oneStep(model: GradientComputer & { release(): Promise<void> }, initialParams: Float32Array[], params: number, rows = 1): Promise<Record<string, unknown>> {
  const afterWeights = peakGib();
  console.log(JSON.stringify({ params, weights_peak_gib: afterWeights }));
  const trainConfig: TrainConfig = {
    rowCount: rows, targetEpsilon: 8, delta: 1e-5, batchSize: rows, epochs: 1, maxGradNorm: 1, lr: 1e-4,
    physicalBatchSize: 1, accountant: 'rdp', checkpointEvery: 1,
  };
  let stepPeak = 0;
  let stepSeconds = 0;
  let checkpointPeak = 0;
  let checkpointBytes = 0;
  const started = performance.now();
  const result = await train(
    // As the train activity runs it: the checkpoint is the run's own buffers, uploaded while the run waits.
    { config: trainConfig, model, initialParams, runKey: RunKey.generate(), liveCheckpoints: true },
    {
      onProgress: () => {
        stepPeak = peakGib();
        stepSeconds = (performance.now() - started) / 1000;
        // Printed now: a run killed later (over the limit while checkpointing) still reports its step.
        console.log(JSON.stringify({ step_peak_gib: stepPeak, step_s: Math.round(stepSeconds * 10) / 10 }));
      },
      onCheckpoint: async (checkpoint) => {
        checkpointBytes = await uploadToNowhere(checkpoint);
        checkpointPeak = peakGib();
      },
    },
  );
  await model.release();
  return {
    params,
    steps: result.step,
    epsilon: result.epsilon,
    weights_peak_gib: afterWeights,
    step_peak_gib: stepPeak,
    step_s: Math.round(stepSeconds * 10) / 10,
    checkpoint_gib: gib(checkpointBytes),
    checkpoint_peak_gib: checkpointPeak,
  };
}

const [mode, size, dir] = process.argv.slice(2);
const measure = modes[mode];
if (!measure || !size) {
  console.error(`usage: child.ts ${Object.keys(modes).join('|')} SIZE [DIR]`);
  process.exit(2);
}
const result = await measure(size, dir);
console.log(JSON.stringify({ mode, size, ...result, peak_rss_gib: peakGib(), final_rss_gib: nowGib() }));

// Token negative log-likelihoods computed inside onnxruntime: GPT-2's full-sequence forward with a
// LogSoftmax + GatherElements head, so only one float per token comes back instead of a
// [T, 50257] row of logits that JavaScript would then have to exponentiate (measured: ~1.3 ms per
// position for the log-sum-exp in JS on the 2-core build machine, and 200 KB of transfer).
// Weights are graph inputs fed zero-copy from the checkpoint, as Gpt2Model does.
import ort from 'onnxruntime-node';
import type { Gpt2Checkpoint } from '../gpt2/checkpoint.ts';
import type { Gpt2Config } from '../gpt2/config.ts';
import { buildGpt2Graph } from '../gpt2/graph.ts';
import { EngineSession, Tensor, op, serializeGraph, type Graph, type SessionConfig } from '../onnx/index.ts';
import type { PaddedBatch } from './token-batches.ts';

export const TOKEN_NLL_OUTPUT = 'token_nll';
export const TARGETS_INPUT = 'targets';

/**
 * The forward graph of engine/gpt2 with its `logits` output replaced by
 * token_nll[b, t] = −log softmax(logits[b, t])[targets[b, t]] ([B, T]).
 */
export function buildTokenNllGraph(config: Gpt2Config): Graph {
  const g = buildGpt2Graph(config, { logits: 'all', kvCache: false });
  const at = g.outputs.findIndex((o) => o.name === 'logits');
  if (at < 0) throw new Error('GPT-2 graph has no logits output');
  g.outputs.splice(at, 1); // the logits stay an internal tensor of the graph
  const logits = new Tensor(g, 'logits', 'float32', ['B', 'T', config.vocabSize]);
  const targets = g.input(TARGETS_INPUT, 'int64', ['B', 'T']);
  // LogSoftmax over the contiguous last axis (onnxruntime's fast kernel), then one gather per token.
  const picked = op.gatherElements(op.logSoftmax(logits, -1), op.unsqueeze(targets, [2]), 2); // [B, T, 1]
  g.output(op.neg(op.squeeze(picked, [2])), TOKEN_NLL_OUTPUT);
  return g;
}

export interface SequenceScorerOptions {
  session?: SessionConfig;
}

/** A GPT-2 checkpoint bound to the token-NLL graph. */
export class SequenceScorer {
  private readonly weightFeeds: Record<string, ort.Tensor> = {};

  private constructor(
    readonly config: Gpt2Config,
    private readonly session: EngineSession,
    checkpoint: Gpt2Checkpoint,
  ) {
    for (const [name, t] of checkpoint.weights) this.weightFeeds[name] = new ort.Tensor('float32', t.data, t.shape);
  }

  static async create(checkpoint: Gpt2Checkpoint, options: SequenceScorerOptions = {}): Promise<SequenceScorer> {
    const session = await EngineSession.create(serializeGraph(buildTokenNllGraph(checkpoint.config)), options.session);
    return new SequenceScorer(checkpoint.config, session, checkpoint);
  }

  /** NLL [B·T] (row-major) of each batch position's next token; positions past a row's end hold garbage. */
  async batchNll(batch: PaddedBatch): Promise<Float32Array> {
    const { B, T } = batch;
    const out = await this.session.run({
      ...this.weightFeeds,
      input_ids: new ort.Tensor('int64', batch.inputIds, [B, T]),
      position_ids: new ort.Tensor('int64', batch.positionIds, [B, T]),
      attn_bias: new ort.Tensor('float32', batch.causalBias, [B, 1, T, T]),
      [TARGETS_INPUT]: new ort.Tensor('int64', batch.targets, [B, T]),
    });
    return out[TOKEN_NLL_OUTPUT].data as Float32Array;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

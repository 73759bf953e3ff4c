// A GPT-2 checkpoint bound to onnxruntime sessions: the cached 'last logits' graph for generation
// and, built on first use, the full-sequence graph for scoring and golden tests.
import ort from 'onnxruntime-node';
import { EngineSession, serializeGraph, type SessionConfig } from '../onnx/index.ts';
import type { Gpt2Checkpoint } from './checkpoint.ts';
import type { Gpt2Config } from './config.ts';
import { buildGpt2Graph, type Gpt2GraphOptions } from './graph.ts';

export interface Gpt2ModelOptions {
  session?: SessionConfig;
  /**
   * Bake weights into the sessions as initializers instead of feeding them as inputs. Inputs let
   * one session serve any weights and cost nothing to feed (zero-copy); initializers let
   * onnxruntime pre-pack matrices. Only models under 2 GB (protobuf's limit) can be baked.
   */
  bakeWeights?: boolean;
}

/** Large negative bias for masked attention: exp underflows to exactly 0, no inf arithmetic. */
export const MASKED = -1e9;

type GraphKind = 'cached' | 'full';

export class Gpt2Model {
  private readonly sessions = new Map<GraphKind, Promise<EngineSession>>();
  private readonly weightFeeds: Record<string, ort.Tensor> = {};

  private constructor(
    private readonly checkpoint: Gpt2Checkpoint,
    private readonly options: Gpt2ModelOptions,
  ) {
    if (!options.bakeWeights) {
      for (const [name, t] of checkpoint.weights) this.weightFeeds[name] = new ort.Tensor('float32', t.data, t.shape);
    }
  }

  static async create(checkpoint: Gpt2Checkpoint, options: Gpt2ModelOptions = {}): Promise<Gpt2Model> {
    const model = new Gpt2Model(checkpoint, options);
    await model.session('cached');
    return model;
  }

  get config(): Gpt2Config {
    return this.checkpoint.config;
  }

  /** Runs one graph with the weights added to `feeds`. */
  async run(kind: GraphKind, feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
    const session = await this.session(kind);
    return session.run({ ...this.weightFeeds, ...feeds });
  }

  /** Logits [T, V] of every position of one token sequence (plain causal forward, no cache). */
  async sequenceLogits(ids: readonly number[]): Promise<Float32Array> {
    const T = ids.length;
    if (T === 0 || T > this.config.nPositions) throw new RangeError(`sequence length ${T} outside 1..${this.config.nPositions}`);
    const bias = new Float32Array(T * T);
    for (let t = 0; t < T; t++) for (let s = t + 1; s < T; s++) bias[t * T + s] = MASKED;
    const out = await this.run('full', {
      input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, (i) => BigInt(i)), [1, T]),
      position_ids: new ort.Tensor('int64', BigInt64Array.from({ length: T }, (_, i) => BigInt(i)), [1, T]),
      attn_bias: new ort.Tensor('float32', bias, [1, 1, T, T]),
    });
    return out.logits.data as Float32Array;
  }

  /** Frees the native sessions (they are rebuilt on next use). */
  async release(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    for (const s of all) await (await s).release();
  }

  private session(kind: GraphKind): Promise<EngineSession> {
    let s = this.sessions.get(kind);
    if (!s) {
      const graphOptions: Gpt2GraphOptions = kind === 'cached' ? { logits: 'last', kvCache: true } : { logits: 'all', kvCache: false };
      if (this.options.bakeWeights) graphOptions.weights = this.checkpoint.weights;
      s = EngineSession.create(serializeGraph(buildGpt2Graph(this.config, graphOptions)), this.options.session);
      this.sessions.set(kind, s);
    }
    return s;
  }
}

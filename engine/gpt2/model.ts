// A GPT-2 checkpoint bound to onnxruntime: the tokens embedded here (embedding-table.ts), then one
// session per stage (blocks, the last with the head; see stage-graphs.ts), run in sequence.
// Prefill, decoding and full-sequence scoring all go through the same sessions, so the model is
// held by onnxruntime once.
//
// By default each stage's weights are baked into its session, which lets onnxruntime pre-pack
// the matrices of its MatMul/Gemm kernels: decoding reads packed weights and runs about twice as
// fast as with weights fed as inputs (MLAS re-packs an input matrix on every call). Stages are
// built one after another, so `Gpt2Model.load` never holds more than one stage of raw weights.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { EngineSession, serializeGraph, serializeGraphExternal, type FileRange, type ModelWithExternalData, type SessionConfig } from '../onnx/index.ts';
import type { Gpt2Checkpoint } from './checkpoint.ts';
import { headDim, type Gpt2Config } from './config.ts';
import { int8StageParts } from './draft-graph.ts';
import { draftFileInputs, draftStage, quantizeDraft } from './draft-weights.ts';
import { EmbeddingTable } from './embedding-table.ts';
import { cacheInputNames, cacheOutputNames } from './graph.ts';
import { buildStageGraph, gpt2Stages, stageParameterNames, type Gpt2Stage } from './stage-graphs.ts';
import { inMemoryWeights, openWeights, type WeightSource } from './weight-source.ts';

export interface Gpt2ModelOptions {
  session?: SessionConfig;
  /**
   * Bake weights into the sessions so onnxruntime pre-packs them (default true): about 2× faster
   * decoding; onnxruntime then holds its own packed copy. false feeds the weights as inputs,
   * zero-copy, which costs no memory beyond the caller's checkpoint but decodes slower.
   */
  prepack?: boolean;
  /** Raw weight bytes of blocks per stage (default stage-graphs.ts's): larger stages, fewer runs per token. */
  stageBytes?: number;
  /**
   * 'float32' (default) is exactly the checkpoint. 'int8-draft' quantizes every matrix to int8
   * (draft-graph.ts): about 4× less to read per token and not exact, a draft for speculative
   * decoding only (speculative.ts), whose float32 model checks every token it proposes.
   */
  precision?: 'float32' | 'int8-draft';
}

/** Large negative bias for masked attention: exp underflows to exactly 0, no inf arithmetic. */
export const MASKED = -1e9;

type Feeds = Record<string, ort.Tensor>;
type GraphKind = 'cached' | 'full';
/** What the LM head returns: the logits, or only each row's argmax (greedy decoding). */
type HeadOutput = 'logits' | 'greedy';
/** Which positions of a cached run reach the head: each row's last (decoding) or all (checking a draft). */
type HeadRows = 'last' | 'all';

interface StageSession {
  stage: Gpt2Stage;
  session: EngineSession;
  /** Weight feeds when weights are inputs; empty when they are baked. */
  weights: Feeds;
}

export class Gpt2Model {
  private constructor(
    readonly config: Gpt2Config,
    private readonly embedding: EmbeddingTable,
    private readonly stages: StageSession[],
  ) {}

  /** A model from weights in memory (the caller's checkpoint stays as it is). */
  static create(checkpoint: Gpt2Checkpoint, options: Gpt2ModelOptions = {}): Promise<Gpt2Model> {
    return Gpt2Model.fromSource(inMemoryWeights(checkpoint), options);
  }

  /**
   * A model from a folder, a cached hub id or 'random:<size>[@seed]', read stage by stage: with
   * pre-packing, the raw weights are never all in memory at once.
   */
  static async load(spec: string, options: Gpt2ModelOptions = {}): Promise<Gpt2Model> {
    return Gpt2Model.fromSource(await openWeights(spec), options);
  }

  private static async fromSource(source: WeightSource, options: Gpt2ModelOptions): Promise<Gpt2Model> {
    const prepack = options.prepack ?? true;
    const draft = options.precision === 'int8-draft';
    const plan = draft ? [draftStage(source.config)] : gpt2Stages(source.config, options.stageBytes);
    const stages: StageSession[] = new Array(plan.length);
    const embedding = await EmbeddingTable.open(source);
    // The stages run one after another: threads spinning after one stage would slow the next.
    // Without arenas, the buffers a long prompt needs go back to the system once it is through,
    // instead of staying reserved in each of the stages' arenas.
    const session: SessionConfig = { spinning: false, memoryArena: false, ...options.session };
    // Building a stage holds its raw weights next to their packed copy, on top of the stages already
    // built: the stage with the LM head (the embedding matrix, a third of GPT-2 small) goes first,
    // while nothing else is packed. Built last, it set the peak RSS of loading (GPT-2 small from a
    // float32 checkpoint, one prompt: peak 767 → 700 MB).
    const order = [...plan.keys()].sort((a, b) => Number(plan[b].head) - Number(plan[a].head));
    try {
      for (const i of order) stages[i] = draft ? await openDraftStage(source, session) : await openStage(source, plan[i], prepack, session);
    } catch (err) {
      for (const s of stages) if (s) await s.session.release();
      await embedding.close();
      throw err;
    }
    return new Gpt2Model(source.config, embedding, stages);
  }

  /**
   * Runs the model. 'cached': feeds input_ids, position_ids, attn_bias [B,1,T,S+T] and every
   * past_key_i/past_value_i; returns logits [B, V] of the last position and present_key_i /
   * present_value_i. 'full': feeds input_ids, position_ids, attn_bias [B,1,T,T]; returns logits
   * [B, T, V]. With `head` 'greedy', the logits stay in onnxruntime and `greedy` holds each
   * row's argmax instead (int64 [B] cached, [B*T] full). `rows` 'all' makes a cached run score
   * every position too (logits [B*T, V], greedy [B*T]).
   */
  async run(kind: GraphKind, feeds: Feeds, head: HeadOutput = 'logits', rows: HeadRows = kind === 'cached' ? 'last' : 'all'): Promise<Record<string, ort.Tensor>> {
    const c = this.config;
    const [B, T] = feeds.input_ids.dims;
    const out: Record<string, ort.Tensor> = {};
    let hidden = await this.embedding.embed(feeds.input_ids, feeds.position_ids);
    for (const { stage, session, weights } of this.stages) {
      const stageFeeds: Feeds = { ...weights, attn_bias: feeds.attn_bias, hidden };
      for (let layer = stage.from; layer < stage.to; layer++) Object.assign(stageFeeds, kind === 'cached' ? pastFeeds(feeds, layer) : emptyPast(c, layer, B));
      if (stage.head) stageFeeds.head_rows = headRows(rows, B, T);
      const fetches = [stage.head ? head : 'hidden_out'];
      if (kind === 'cached') for (let layer = stage.from; layer < stage.to; layer++) fetches.push(...Object.values(cacheOutputNames(layer)));
      const r = await session.run(stageFeeds, fetches);
      if (kind === 'cached') {
        for (let layer = stage.from; layer < stage.to; layer++) {
          const names = cacheOutputNames(layer);
          out[names.key] = r[names.key];
          out[names.value] = r[names.value];
        }
      }
      if (stage.head && head === 'greedy') out.greedy = r.greedy;
      else if (stage.head) out.logits = kind === 'cached' ? r.logits : new ort.Tensor('float32', r.logits.data as Float32Array, [B, T, c.vocabSize]);
      else hidden = r.hidden_out;
    }
    return out;
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

  /** Frees the native sessions; a later run rebuilds them from the weight source. */
  async release(): Promise<void> {
    for (const s of this.stages) await s.session.release();
    await this.embedding.close();
  }

}

async function openStage(source: WeightSource, stage: Gpt2Stage, prepack: boolean, config?: SessionConfig): Promise<StageSession> {
  const names = stageParameterNames(stage);
  if (!prepack) {
    const session = await EngineSession.create(serializeGraph(buildStageGraph(source.config, stage)), config);
    const weights: Feeds = {};
    for (const [name, t] of await source.read(names)) weights[name] = new ort.Tensor('float32', t.data, t.shape);
    return { stage, session, weights };
  }
  // The model is built when the session (re)loads and dropped after: nothing keeps raw weights.
  // Weights stored as float32 files are mapped by onnxruntime itself; others are read here and
  // handed over as external data, never copied into a protobuf.
  const model = async () => {
    const fromFiles = new Map<string, FileRange>();
    for (const name of names) {
      const range = source.files?.locate(name);
      if (range) fromFiles.set(name, range);
    }
    const inMemory = await source.read(names.filter((n) => !fromFiles.has(n)));
    return serializeGraphExternal(buildStageGraph(source.config, stage, inMemory), { folder: source.files?.folder, inputsFromFiles: fromFiles });
  };
  return { stage, session: await EngineSession.create(model, config), weights: {} };
}

/**
 * The int8 draft's single stage. Its matrices are quantized into a temporary folder that
 * onnxruntime maps and that is removed once the session holds them; a reload quantizes again
 * rather than keep a second copy.
 */
async function openDraftStage(source: WeightSource, config?: SessionConfig): Promise<StageSession> {
  const stage = draftStage(source.config);
  const model = async (): Promise<ModelWithExternalData> => {
    const folder = await mkdtemp(join(tmpdir(), 'veil-draft-'));
    const dispose = () => rm(folder, { recursive: true, force: true });
    try {
      const weights = await quantizeDraft(source, folder);
      const graph = buildStageGraph(source.config, stage, weights.float, int8StageParts(weights));
      // The float32 rest (3 MB) goes inside the protobuf: onnxruntime cannot mix mapped files with
      // in-memory external data.
      return { ...serializeGraphExternal(graph, { folder, inputsFromFiles: draftFileInputs(weights), minBytes: Infinity }), dispose };
    } catch (err) {
      await dispose();
      throw err;
    }
  };
  return { stage, session: await EngineSession.create(model, config), weights: {} };
}

function pastFeeds(feeds: Feeds, layer: number): Feeds {
  const names = cacheInputNames(layer);
  const key = feeds[names.key];
  const value = feeds[names.value];
  if (!key || !value) throw new Error(`cached run without ${names.key} / ${names.value}`);
  return { [names.key]: key, [names.value]: value };
}

/** A cache of length 0: the cached block then attends over the new tokens only. */
function emptyPast(c: Gpt2Config, layer: number, B: number): Feeds {
  const names = cacheInputNames(layer);
  const empty = new Float32Array(0);
  return {
    [names.key]: new ort.Tensor('float32', empty, [B, c.nHead, 0, headDim(c)]),
    [names.value]: new ort.Tensor('float32', empty, [B, c.nHead, 0, headDim(c)]),
  };
}

/** Rows of the flattened [B*T] positions whose logits are wanted: each row's last, or all. */
function headRows(which: HeadRows, B: number, T: number): ort.Tensor {
  const rows = which === 'last' ? BigInt64Array.from({ length: B }, (_, b) => BigInt((b + 1) * T - 1)) : BigInt64Array.from({ length: B * T }, (_, i) => BigInt(i));
  return new ort.Tensor('int64', rows, [rows.length]);
}

// The input embedding computed outside onnxruntime (engine/gpt2/embedding-table.ts) is the graph's
// Gather + Add bit for bit, whether the token rows come from the checkpoint file or from memory.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { saveCheckpoint } from '../../engine/gpt2/checkpoint.ts';
import { presetConfig } from '../../engine/gpt2/config.ts';
import { EmbeddingTable } from '../../engine/gpt2/embedding-table.ts';
import { embeddings } from '../../engine/gpt2/graph.ts';
import { checkpointWeights, inMemoryWeights } from '../../engine/gpt2/weight-source.ts';
import { randomWeights } from '../../engine/gpt2/weights.ts';
import { EngineSession, Graph, serializeGraph } from '../../engine/onnx/index.ts';

const config = presetConfig('micro');
const weights = randomWeights(config, 'embedding-table');
// Repeated tokens and positions, the last token and the last position: [2, 5].
const ids = [0, 7, 7, config.vocabSize - 1, 42, 3, 3, 99, 0, 1];
const positions = [0, 1, 2, 3, config.nPositions - 1, 4, 4, 0, 9, 2];
const tensor = (values: number[]) => new ort.Tensor('int64', BigInt64Array.from(values, BigInt), [2, 5]);
let dir: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'veil-embedding-table-'));
  await saveCheckpoint(dir, { config, weights }, { tokenizer: false });
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** What the first stage's graph computed before: Gather from both tables, then Add. */
async function graphEmbedding(): Promise<Float32Array> {
  const g = new Graph({ name: 'embed' });
  const wte = g.input('wte', 'float32', [config.vocabSize, config.nEmbd]);
  const wpe = g.input('wpe', 'float32', [config.nPositions, config.nEmbd]);
  g.output(embeddings(wte, wpe, g.input('ids', 'int64', ['B', 'T']), g.input('positions', 'int64', ['B', 'T'])), 'hidden');
  const session = await EngineSession.create(serializeGraph(g));
  try {
    const out = await session.run({
      wte: new ort.Tensor('float32', weights.get('wte.weight')!.data, [config.vocabSize, config.nEmbd]),
      wpe: new ort.Tensor('float32', weights.get('wpe.weight')!.data, [config.nPositions, config.nEmbd]),
      ids: tensor(ids),
      positions: tensor(positions),
    });
    return out.hidden.data as Float32Array;
  } finally {
    await session.release();
  }
}

void test('token rows read from the file and from memory give the graph embedding, bit for bit', async () => {
  const reference = await graphEmbedding();
  const fromFile = await EmbeddingTable.open(await checkpointWeights(dir));
  const fromMemory = await EmbeddingTable.open(inMemoryWeights({ config, weights }));
  try {
    for (const [label, table] of [['file', fromFile], ['memory', fromMemory]] as const) {
      const hidden = await table.embed(tensor(ids), tensor(positions));
      assert.deepEqual(hidden.dims, [2, 5, config.nEmbd], label);
      assert.deepEqual(new Uint32Array((hidden.data as Float32Array).buffer), new Uint32Array(reference.buffer), label);
    }
    // Closed, the file is opened again by the next lookup.
    await fromFile.close();
    const again = await fromFile.embed(tensor(ids), tensor(positions));
    assert.deepEqual(new Uint32Array((again.data as Float32Array).buffer), new Uint32Array(reference.buffer));
  } finally {
    await fromFile.close();
    await fromMemory.close();
  }
});

void test('a token id or position outside the tables is a RangeError that names it', async () => {
  const table = await EmbeddingTable.open(await checkpointWeights(dir));
  try {
    const inRange = (values: number[], at: number, value: number) => values.map((v, i) => (i === at ? value : v));
    await assert.rejects(table.embed(tensor(inRange(ids, 3, config.vocabSize)), tensor(positions)), { name: 'RangeError', message: new RegExp(`token id ${config.vocabSize} `) });
    await assert.rejects(table.embed(tensor(inRange(ids, 3, -1)), tensor(positions)), RangeError);
    await assert.rejects(table.embed(tensor(ids), tensor(inRange(positions, 0, config.nPositions))), { name: 'RangeError', message: new RegExp(`position ${config.nPositions} `) });
  } finally {
    await table.close();
  }
});

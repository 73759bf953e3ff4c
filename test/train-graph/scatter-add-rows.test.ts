// scatterAddRows: the tied embedding's row sums at repeated token ids, exactly and the same on every
// run with onnxruntime's two intra-op threads (its ScatterND with reduction 'add' races on repeated
// ids at this size). The reference adds the rows in order in float32, as the kernel does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import ort from 'onnxruntime-node';
import { EngineSession, Graph, serializeGraph } from '../../engine/onnx/index.ts';
import { scatterAddRows } from '../../engine/train-graph/ops.ts';

const V = 3000;
const D = 768;
const N = 1024; // rows per pair, as many as a GPT-2-small micro-batch of 8 × 128 tokens

/** A deterministic stream of floats in [-1, 1). */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

void test('scatterAddRows sums rows that share an id exactly, in order, on every run with 2 threads', async () => {
  const g = new Graph();
  const table = g.input('table', 'float32', [V, D]);
  const ids = g.input('ids', 'int64', ['B', 128]);
  const labels = g.input('labels', 'int64', ['B*128']);
  const e = g.input('e', 'float32', ['128*B', D]);
  const h = g.input('h', 'float32', ['128*B', D]);
  g.output(scatterAddRows(table, [[ids, e], [labels, h]]), 'out');
  // The token ids of bench/train's batch (repeats as in real text), folded into V: rows share ids
  // with each other and with the labels' rows.
  const idList = Array.from({ length: N }, (_, k) => ((((k % 128) * 7919 + Math.floor(k / 128) * 104729) % 4099) * 12 % 50257) % V);
  const labelList = idList.map((_, k) => idList[(k + 1) % N]);
  const data = { table: values(V * D, 1), e: values(N * D, 2), h: values(N * D, 3) };

  const expected = Float32Array.from(data.table);
  [[idList, data.e], [labelList, data.h]].forEach(([list, rows]) => {
    (list as number[]).forEach((id, r) => {
      for (let d = 0; d < D; d++) expected[id * D + d] += (rows as Float32Array)[r * D + d];
    });
  });

  const session = await EngineSession.create(serializeGraph(g), { intraOpThreads: 2 });
  try {
    const feeds = {
      table: new ort.Tensor('float32', data.table, [V, D]),
      ids: new ort.Tensor('int64', BigInt64Array.from(idList, BigInt), [N / 128, 128]),
      labels: new ort.Tensor('int64', BigInt64Array.from(labelList, BigInt), [N]),
      e: new ort.Tensor('float32', data.e, [N, D]),
      h: new ort.Tensor('float32', data.h, [N, D]),
    };
    for (let run = 0; run < 8; run++) {
      const out = (await session.run(feeds)).out.data as Float32Array;
      let mismatches = 0;
      for (let i = 0; i < expected.length; i++) if (out[i] !== expected[i]) mismatches++;
      assert.equal(mismatches, 0, `run ${run}: ${mismatches} values differ from the in-order float32 sum`);
    }
  } finally {
    await session.release();
  }
});

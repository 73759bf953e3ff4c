// Hugging Face checkpoint folders: save/load round trip, key prefixes, float dtypes, errors, and
// finding a model in a local hub cache.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { float32ToFloat16Bits } from '../../engine/onnx/index.ts';
import { loadCheckpoint, ModelNotFoundError, resolveModelDir, saveCheckpoint } from '../../engine/gpt2/checkpoint.ts';
import { configFromHf, configToHf, presetConfig } from '../../engine/gpt2/config.ts';
import { openCheckpoint } from '../../engine/gpt2/open.ts';
import { readSafetensors, readSafetensorsHeader, writeSafetensors } from '../../engine/gpt2/safetensors.ts';
import { parameterCount, parameterShapes, randomWeights } from '../../engine/gpt2/weights.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'veil-gpt2-test-'));
const micro = presetConfig('micro');

/** A safetensors file with arbitrary dtypes, written by hand from raw little-endian bytes. */
function writeRaw(path: string, tensors: Record<string, { dtype: string; shape: number[]; bytes: Uint8Array }>): void {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.bytes.length] };
    offset += t.bytes.length;
  }
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  writeFileSync(path, Buffer.concat([len, json, ...Object.values(tensors).map((t) => t.bytes)]));
}

void test('GPT-2 sizes have the published parameter counts', () => {
  assert.equal(parameterCount(presetConfig('gpt2')), 124_439_808);
  assert.equal(parameterCount(presetConfig('gpt2-medium')), 354_823_168);
  assert.equal(parameterCount(presetConfig('gpt2-large')), 774_030_080);
  assert.equal(parameterCount(presetConfig('gpt2-xl')), 1_557_611_200);
});

void test('random initialisation is seeded and follows transformers (std 0.02, scaled c_proj, unit LayerNorm)', () => {
  const a = randomWeights(micro, 1);
  const b = randomWeights(micro, 1);
  const c = randomWeights(micro, 2);
  assert.deepEqual(a.get('wte.weight')?.data, b.get('wte.weight')?.data);
  assert.notDeepEqual(a.get('wte.weight')?.data, c.get('wte.weight')?.data);
  const std = (x: Float32Array) => Math.sqrt(x.reduce((s, v) => s + v * v, 0) / x.length);
  assert.ok(Math.abs(std(a.get('wte.weight')!.data) - 0.02) < 0.002);
  assert.ok(Math.abs(std(a.get('h.0.mlp.c_proj.weight')!.data) - 0.02 / Math.sqrt(2 * micro.nLayer)) < 0.002);
  assert.ok(a.get('h.1.ln_2.weight')!.data.every((v) => v === 1));
  assert.ok(a.get('h.1.attn.c_attn.bias')!.data.every((v) => v === 0));
});

void test('save then load gives back the same config and weights, in HF layout', async () => {
  const dir = tmp();
  const weights = randomWeights(micro, 'roundtrip');
  await saveCheckpoint(dir, { config: micro, weights });
  const header = await readSafetensorsHeader(join(dir, 'model.safetensors'));
  assert.equal(header.metadata.format, 'pt');
  assert.ok(header.tensors.has('transformer.h.1.mlp.c_fc.weight'));
  assert.ok(!header.tensors.has('lm_head.weight'), 'the tied head is not stored');
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(config.model_type, 'gpt2');
  assert.equal(config.tie_word_embeddings, true);
  for (const f of ['vocab.json', 'merges.txt', 'tokenizer_config.json', 'special_tokens_map.json']) assert.ok(readFileSync(join(dir, f)).length > 0);
  const loaded = await loadCheckpoint(dir);
  assert.deepEqual(loaded.config, micro);
  for (const [name] of parameterShapes(micro)) assert.deepEqual(loaded.weights.get(name)?.data, weights.get(name)?.data, name);
});

void test('keys without the transformer. prefix, old attention buffers and F16/BF16/F64 tensors load', async () => {
  const dir = tmp();
  writeFileSync(join(dir, 'config.json'), JSON.stringify(configToHf(micro)));
  const weights = randomWeights(micro, 'dtypes');
  const raw: Record<string, { dtype: string; shape: number[]; bytes: Uint8Array }> = {};
  const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  for (const [name, t] of weights) {
    if (name === 'wte.weight') raw[name] = { dtype: 'F16', shape: t.shape, bytes: bytesOf(Uint16Array.from(t.data, float32ToFloat16Bits)) };
    else if (name === 'wpe.weight') raw[name] = { dtype: 'BF16', shape: t.shape, bytes: bytesOf(Uint16Array.from(new Uint32Array(t.data.buffer.slice(0)), (u) => u >>> 16)) };
    else if (name === 'ln_f.bias') raw[name] = { dtype: 'F64', shape: t.shape, bytes: bytesOf(Float64Array.from(t.data)) };
    else raw[name] = { dtype: 'F32', shape: t.shape, bytes: bytesOf(t.data) };
  }
  raw['h.0.attn.bias'] = { dtype: 'F32', shape: [1], bytes: bytesOf(Float32Array.from([1])) };
  writeRaw(join(dir, 'model.safetensors'), raw);
  const loaded = await loadCheckpoint(dir);
  const wte = loaded.weights.get('wte.weight')!.data;
  const orig = weights.get('wte.weight')!.data;
  assert.ok(wte.every((v, i) => Math.abs(v - orig[i]) <= Math.abs(orig[i]) * 1e-3 + 1e-7), 'F16 within half precision');
  const wpe = loaded.weights.get('wpe.weight')!.data;
  assert.ok(wpe.every((v, i) => Math.abs(v - weights.get('wpe.weight')!.data[i]) <= Math.abs(v) * 1e-2 + 1e-30), 'BF16 truncation');
  assert.deepEqual(loaded.weights.get('h.1.attn.c_proj.weight')?.data, weights.get('h.1.attn.c_proj.weight')?.data);
});

void test('a missing, misshapen or foreign tensor is an error that names it', async () => {
  const weights = randomWeights(micro, 'bad');
  const write = async (entries: [string, { shape: number[]; data: Float32Array }][]) => {
    const dir = tmp();
    writeFileSync(join(dir, 'config.json'), JSON.stringify(configToHf(micro)));
    await writeSafetensors(join(dir, 'model.safetensors'), entries);
    return dir;
  };
  const all = [...weights];
  await assert.rejects(loadCheckpoint(await write(all.filter(([n]) => n !== 'ln_f.bias'))), /no tensor ln_f\.bias/);
  await assert.rejects(loadCheckpoint(await write(all.map(([n, t]) => [n, n === 'wpe.weight' ? { shape: [8, 32], data: new Float32Array(256) } : t]))), /wpe\.weight has shape \[8,32\]/);
  await assert.rejects(loadCheckpoint(await write([...all, ['score.weight', { shape: [1], data: new Float32Array(1) }]])), /score\.weight/);
  const empty = tmp();
  writeFileSync(join(empty, 'config.json'), JSON.stringify(configToHf(micro)));
  writeFileSync(join(empty, 'pytorch_model.bin'), '');
  await assert.rejects(loadCheckpoint(empty), /convert it to safetensors/);
});

void test('config.json variants the engine would compute differently are refused', () => {
  const base = configToHf(presetConfig('gpt2'));
  assert.deepEqual(configFromHf(base), presetConfig('gpt2'));
  assert.throws(() => configFromHf({ ...base, model_type: 'llama' }), /model_type/);
  assert.throws(() => configFromHf({ ...base, activation_function: 'relu' }), /activation_function/);
  assert.throws(() => configFromHf({ ...base, scale_attn_by_inverse_layer_idx: true }), /inverse_layer_idx/);
  assert.throws(() => configFromHf({ ...base, n_head: 7 }), /divisible/);
});

void test('hub ids resolve to a snapshot of the local Hugging Face cache, never a download', async () => {
  const cache = tmp();
  const repo = join(cache, 'models--openai-community--gpt2');
  const snap = join(repo, 'snapshots', 'abc123');
  mkdirSync(snap, { recursive: true });
  mkdirSync(join(repo, 'refs'));
  writeFileSync(join(repo, 'refs', 'main'), 'abc123\n');
  writeFileSync(join(snap, 'config.json'), '{}');
  assert.equal(resolveModelDir('gpt2', { HF_HUB_CACHE: cache }), snap);
  assert.equal(resolveModelDir('openai-community/gpt2', { HF_HUB_CACHE: cache }), snap);
  assert.equal(resolveModelDir(repo, {}), snap);
  const home = tmp();
  mkdirSync(join(home, 'hub'));
  assert.throws(() => resolveModelDir('gpt2-medium', { HF_HOME: home }), (e: unknown) => e instanceof ModelNotFoundError && /never downloads/.test(e.message) && e.message.includes(join(home, 'hub')));
  assert.throws(() => resolveModelDir('/no/such/dir', {}), ModelNotFoundError);
  const safetensors = await readSafetensors(join(import.meta.dirname, '../fixtures/gpt2/tiny/model.safetensors'), ['transformer.ln_f.weight']);
  assert.equal(safetensors.get('transformer.ln_f.weight')?.data.length, 64);
});

void test("'random:<size>@seed' opens a seeded fresh model; other specs load from disk", async () => {
  const a = await openCheckpoint('random:micro@7');
  const b = await openCheckpoint('random:micro@7');
  assert.deepEqual(a.config, micro);
  assert.deepEqual(a.weights.get('h.0.attn.c_attn.weight')?.data, b.weights.get('h.0.attn.c_attn.weight')?.data);
  await assert.rejects(openCheckpoint('random:gpt5'), /unknown GPT-2 size/);
  const fixture = await openCheckpoint(join(import.meta.dirname, '../fixtures/gpt2/tiny'));
  assert.equal(fixture.config.nEmbd, 64);
});

// Throughput of traced functions in the sandbox, side by side with the same function run natively.
// Run: node --import tsx bench/sandbox-throughput.ts [rows]
import { trace } from '../../engine/sandbox/traced.ts';
import { runTraced } from '../../engine/sandbox/run-traced.ts';
import { newCappedInstance } from '../../engine/sandbox/wasm-instance.ts';
import { SandboxRealm } from '../../engine/sandbox/quickjs-realm.ts';

const n = Number(process.argv[2] ?? 10_000);
const rows = Array.from({ length: n }, (_, i) => ({ id: i, text: `Patient ${i} was given ${i % 90} MG of Drug-${i % 7} on 2021-0${1 + (i % 9)}-1${i % 10}` }));

const lower = (text: string) => text.toLowerCase();
const redact = (row: { id: number; text: string }) => ({ id: row.id, text: row.text.replace(/\d/g, '#') });

function rate(count: number, ms: number): string {
  return `${Math.round((count / ms) * 1000).toLocaleString('en-US')} rows/s`;
}

async function main(): Promise<void> {
  // Warm the shared compiled WASM module once, as a long-lived worker would be.
  await runTraced(trace(lower), rows.slice(0, 2000), { column: 'text' });

  let t = performance.now();
  for (const r of rows) lower(r.text);
  const nativeLower = performance.now() - t;

  t = performance.now();
  const a = await runTraced(trace(lower), rows, { column: 'text' });
  const sandboxLower = performance.now() - t;

  t = performance.now();
  for (const r of rows) redact(r);
  const nativeRedact = performance.now() - t;

  t = performance.now();
  const b = await runTraced(trace(redact), rows);
  const sandboxRedact = performance.now() - t;

  t = performance.now();
  const instance = await newCappedInstance(32 << 20);
  const instanceMs = performance.now() - t;
  const realms = 10;
  t = performance.now();
  for (let i = 0; i < realms; i++) new SandboxRealm(instance, '(s) => s', { timeLimitMs: 100, maxStackBytes: 128 * 1024 }).dispose();
  const realmMs = (performance.now() - t) / realms;

  console.log(`rows: ${n}`);
  console.log(`lower-case a column   native ${rate(n, nativeLower)}   sandbox ${rate(n, sandboxLower)}   ratio ${(sandboxLower / nativeLower).toFixed(0)}×   (${a.realmsCreated} realms)`);
  console.log(`redact digits in rows native ${rate(n, nativeRedact)}   sandbox ${rate(n, sandboxRedact)}   ratio ${(sandboxRedact / nativeRedact).toFixed(0)}×   (${b.realmsCreated} realms)`);
  console.log(`new WASM instance ${instanceMs.toFixed(1)} ms   new realm (harness + freeze) ${realmMs.toFixed(1)} ms`);
}

await main();

// Cost of traced functions in the sandbox: the bare realm's throughput beside native JS, and what a
// real run costs now that rows run in killable workers at one fixed slot each.
// Run: node --import tsx bench/sandbox/throughput.ts [rows] [paced rows] [slot ms]
import { trace, verifyTraced } from '../../engine/sandbox/traced.ts';
import { runTraced } from '../../engine/sandbox/run-traced.ts';
import { newCappedInstance } from '../../engine/sandbox/wasm-instance.ts';
import { SandboxRealm } from '../../engine/sandbox/quickjs-realm.ts';
import { DEFAULT_SLOT_MS } from '../../engine/sandbox/slot-clock.ts';

const n = Number(process.argv[2] ?? 10_000);
const pacedRows = Number(process.argv[3] ?? 200);
const slotMs = Number(process.argv[4] ?? DEFAULT_SLOT_MS);
const rows = Array.from({ length: n }, (_, i) => ({ id: i, text: `Patient ${i} was given ${i % 90} MG of Drug-${i % 7} on 2021-0${1 + (i % 9)}-1${i % 10}` }));

const lower = (text: string) => text.toLowerCase();
const redact = (row: { id: number; text: string }) => ({ id: row.id, text: row.text.replace(/\d/g, '#') });

function rate(count: number, ms: number): string {
  return `${Math.round((count / ms) * 1000).toLocaleString('en-US')} rows/s`;
}

/** The bare realm, in this thread: what one row costs inside its slot. */
async function inRealm(fn: (...args: never[]) => unknown, inputs: unknown[]): Promise<number> {
  const realm = new SandboxRealm(await newCappedInstance(32 << 20), verifyTraced(trace(fn)).expression, { timeLimitMs: 100, maxStackBytes: 128 * 1024 });
  const t = performance.now();
  for (const input of inputs) realm.call(JSON.stringify(input), false);
  const ms = performance.now() - t;
  realm.dispose();
  return ms;
}

async function main(): Promise<void> {
  await inRealm(lower, rows.slice(0, 2000).map((r) => r.text)); // warm the compiled module

  let t = performance.now();
  for (const r of rows) lower(r.text);
  const nativeLower = performance.now() - t;
  const realmLower = await inRealm(lower, rows.map((r) => r.text));

  t = performance.now();
  for (const r of rows) redact(r);
  const nativeRedact = performance.now() - t;
  const realmRedact = await inRealm(redact, rows);

  t = performance.now();
  const instance = await newCappedInstance(32 << 20);
  const instanceMs = performance.now() - t;
  const realms = 10;
  t = performance.now();
  for (let i = 0; i < realms; i++) new SandboxRealm(instance, '(s) => s', { timeLimitMs: 100, maxStackBytes: 128 * 1024 }).dispose();
  const realmMs = (performance.now() - t) / realms;

  t = performance.now();
  const paced = await runTraced(trace(redact), rows.slice(0, pacedRows), { rowCount: pacedRows, slotMs });
  const pacedWall = performance.now() - t;

  console.log(`rows: ${n}`);
  console.log(`lower-case a column   native ${rate(n, nativeLower)}   bare realm ${rate(n, realmLower)}   ratio ${(realmLower / nativeLower).toFixed(0)}×`);
  console.log(`redact digits in rows native ${rate(n, nativeRedact)}   bare realm ${rate(n, realmRedact)}   ratio ${(realmRedact / nativeRedact).toFixed(0)}×`);
  console.log(`new WASM instance ${instanceMs.toFixed(1)} ms   new realm (harness + freeze) ${realmMs.toFixed(1)} ms`);
  console.log(`real run, ${pacedRows} rows at ${slotMs} ms slots: ${paced.elapsedMs.toFixed(0)} ms of slots (padded ${pacedRows * slotMs} ms), ` +
    `${(pacedWall - paced.elapsedMs).toFixed(0)} ms starting the warm workers, ${paced.failures.count} failures`);
}

await main();

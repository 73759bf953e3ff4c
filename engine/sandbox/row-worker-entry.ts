// A row worker: a worker thread that holds one traced function in a hardened QuickJS realm and
// maps one row per message. The host (row-worker-pool.ts) terminates it when a row runs past its
// hard deadline: QuickJS's interrupt handler stops interpreted loops, but not a long native call
// (`indexOf`, `replaceAll`, `sort` on crafted input), and only terminating the thread stops those.
//
// Lifetimes follow evaluate-rows.ts: one WASM instance per worker (a worker serves one run), a
// realm per batch of rows, a new realm after a row hit a limit and a new instance after it hit the
// memory cap or the host stack. The rebuild happens after the outcome is posted, so it never
// counts against the next row's time: the host sends that row to another warm worker meanwhile.
import { workerData } from 'node:worker_threads';
import { newCappedInstance, type CappedInstance } from './wasm-instance.ts';
import { SandboxRealm } from './quickjs-realm.ts';
import type { HostToWorker, RowWorkerData, WorkerOutcome, WorkerToHost } from './row-worker-protocol.ts';

const data = workerData as RowWorkerData;
const port = data.port;
let instance: CappedInstance | null = null;
let realm: SandboxRealm | null = null;
let rowsInRealm = 0;
/** WASM instances built since the last 'ready' message. */
let newModules = 0;

async function newInstance(): Promise<CappedInstance> {
  newModules++;
  return newCappedInstance(data.memoryLimitBytes, data.wasmModule);
}

function post(message: WorkerToHost): void {
  port.postMessage(message);
}

async function buildRealm(): Promise<void> {
  if (realm) {
    realm.dispose();
    if (realm.instanceBroken) instance = null;
    realm = null;
  }
  instance ??= await newInstance();
  realm = new SandboxRealm(instance, data.expression, { timeLimitMs: data.interruptMs, maxStackBytes: data.maxStackBytes });
  rowsInRealm = 0;
  post({ type: 'ready', realmsCreated: 1, modulesCreated: newModules });
  newModules = 0;
}

// A fresh thread runs its first calls several times slower (V8 compiles the QuickJS glue and
// tiers up the WASM on first use): long enough to miss a 10 ms slot. Calls of a public, fixed
// function on a public input in a throwaway realm take that cost before the first row.
const WARM_UP_FUNCTION = '(x) => JSON.parse(JSON.stringify(x)).text.toLowerCase().split(" ").map((w) => w.replace(/[0-9]/g, "#")).sort().join(" ")';
const WARM_UP_INPUT = JSON.stringify({ text: 'Warm Up 2021-03-04: the Quick brown fox, 20 MG' });
const WARM_UP_CALLS = 30;

async function warmUp(): Promise<void> {
  instance = await newInstance();
  const scratch = new SandboxRealm(instance, WARM_UP_FUNCTION, { timeLimitMs: 1000, maxStackBytes: data.maxStackBytes });
  for (let i = 0; i < WARM_UP_CALLS; i++) scratch.call(WARM_UP_INPUT, false);
  scratch.dispose();
  if (scratch.instanceBroken) instance = null;
}

function callRow(inputJson: string): WorkerOutcome {
  rowsInRealm++;
  const outcome = realm!.call(inputJson, false);
  return outcome.ok ? { ok: true, json: outcome.json } : { ok: false, kind: outcome.kind };
}

port.on('message', (message: HostToWorker) => {
  const started = performance.now();
  const outcome = callRow(message.inputJson);
  const elapsedMs = performance.now() - started;
  const ready = !realm!.spoiled && rowsInRealm < data.batchSize;
  post({ type: 'outcome', outcome, elapsedMs, ready });
  if (!ready) void buildRealm();
});

try {
  await warmUp();
  await buildRealm();
} catch (err) {
  // No row has been seen: the error is about the analyst's source (it did not evaluate).
  post({ type: 'setupFailed', message: err instanceof Error ? err.message : String(err) });
}

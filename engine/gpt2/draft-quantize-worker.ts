// Worker thread that quantizes a checkpoint folder into the int8 draft's file (draft-weights.ts).
// The float32 tensors it reads pass through this thread's heap, which goes away with it: read on
// the caller's thread they stayed resident until its garbage collector ran (one bench run in
// three peaked 190 MB higher), and the quantizing, ~2 s for GPT-2 small, blocked its event loop.
import { parentPort, workerData } from 'node:worker_threads';
import { checkpointWeights } from './weight-source.ts';
import { writeDraftWeights, type QuantizeRequest } from './draft-weights.ts';

const { dir, folder } = workerData as QuantizeRequest;
try {
  const { int8, float } = await writeDraftWeights(await checkpointWeights(dir), folder);
  const floats = [...float].map(([name, t]) => ({ name, shape: t.shape, data: t.data }));
  parentPort!.postMessage({ int8: [...int8], floats }, [...new Set(floats.map((f) => f.data.buffer as ArrayBuffer))]);
} catch (err) {
  parentPort!.postMessage({ error: err instanceof Error ? err.message : String(err) });
}

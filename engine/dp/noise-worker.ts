// The noise prefetcher's worker thread (noise-prefetch.ts): a NoiseDrawer (noise-drawer.ts, which
// says what it does) fed with the caller's messages, its replies posted back.
import { parentPort } from 'node:worker_threads';
import { lowerThisThreadToBackground } from '../threads/background-priority.ts';
import { NoiseDrawer, type NoiseRequest } from './noise-drawer.ts';
import { NoiseKernel } from './noise-kernel.ts';

const port = parentPort;
if (port === null) throw new Error('noise-worker.ts must run in a worker thread');
// It draws ahead of the step that reads the noise, so it takes only CPU the gradients leave idle
// (see background-priority.ts): measured, this took DP ÷ non-DP from 1.09–1.10 to 1.07.
lowerThisThreadToBackground();
const drawer = new NoiseDrawer(NoiseKernel.load(), (reply) => port.postMessage(reply));
port.on('message', (message: NoiseRequest) => drawer.handle(message));

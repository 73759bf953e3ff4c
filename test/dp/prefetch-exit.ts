// Run by noise-prefetch-exit.test.ts as a process of its own: a prefetcher that is awaited with
// nothing else keeping the process alive, then left with a step being drawn and never closed.
import { NoisePrefetcher, RunKey } from '../../engine/dp/index.ts';

const prefetcher = new NoisePrefetcher(new RunKey(new Uint8Array(32).fill(9)), 3_000_000, 1);
prefetcher.request(0);
const gradients = [new Float32Array(3_000_000)];
await prefetcher.privatize(0, gradients, 4); // only the worker's messages can resolve this
prefetcher.request(1);
console.log(gradients[0].some((x) => x !== 0) ? 'noised' : 'not noised');

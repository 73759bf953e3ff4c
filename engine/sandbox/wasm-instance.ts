// A QuickJS WebAssembly instance with a hard memory cap.
//
// QuickJS's own memory limit does not hold under Emscripten: its allocator accounting adds
// malloc_usable_size(ptr), which QuickJS hard-codes to 0 on Emscripten, so the limit bounds each
// single request but not the total (quickjs-emscripten issues #255 and #271; we measured a realm
// with a 32 MiB limit holding 1 GiB of ArrayBuffers). The cap that does hold is the instance's
// linear memory: we hand Emscripten a WebAssembly.Memory whose `maximum` is the budget, so a
// malloc beyond it fails inside QuickJS and surfaces as an out-of-memory error.
//
// We also watch `grow`: a request that could not be granted means the function ran into the cap.
// The runner then fails the row as `memory` even if the function caught the error, and drops the
// instance, because the allocator's layout after such a row would shape how the next row runs
// out of memory (a channel between rows).
//
// The compiled WebAssembly.Module is shared by the process (compiling and warming up the code is
// the expensive part); every dataset gets a new instance with its own memory.

import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import {
  newQuickJSWASMModuleFromVariant, newVariant, type QuickJSSyncVariant, type QuickJSWASMModule,
} from 'quickjs-emscripten-core';
// The package's types describe its CommonJS build (where the variant is `.default`); under ESM,
// which is how Veil loads it, the default import is the variant itself.
import releaseSyncVariant from '@jitl/quickjs-wasmfile-release-sync';

// Veil compiles against lib ES2023 without DOM, which is where TypeScript declares WebAssembly;
// the little we use is typed here.
interface WasmMemory {
  grow(pages: number): number;
  readonly buffer: ArrayBuffer;
}
interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum: number }) => WasmMemory;
  compile(bytes: Uint8Array): Promise<object>;
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

const PAGE_BYTES = 65536;
/** What Emscripten's own default starts with: static data, the C stack and the first heap pages. */
const INITIAL_BYTES = 16 * 1024 * 1024;

let compiled: Promise<object> | null = null;

/** The process's compiled QuickJS module; a WebAssembly.Module can be posted to worker threads. */
export function compiledModule(): Promise<object> {
  compiled ??= (async () => {
    const path = createRequire(import.meta.url).resolve('@jitl/quickjs-wasmfile-release-sync/wasm');
    return wasm.compile(await readFile(path));
  })();
  return compiled;
}

/** Records whether Emscripten's last attempt to grow the memory was refused. */
export class MemoryGuard {
  private refused = false;

  constructor(readonly memory: WasmMemory) {
    const grow = memory.grow.bind(memory);
    // Emscripten calls `wasmMemory.grow(pages)` and treats a throw as "no memory"; it may retry
    // with a smaller request, so only the outcome of the latest attempt counts.
    Object.defineProperty(memory, 'grow', {
      value: (pages: number) => {
        try {
          const previous = grow(pages);
          this.refused = false;
          return previous;
        } catch (err) {
          this.refused = true;
          throw err;
        }
      },
    });
  }

  /** Clears the record; call before a row. */
  reset(): void {
    this.refused = false;
  }

  /** Did the latest growth request fail since the last reset? */
  get exhausted(): boolean {
    return this.refused;
  }
}

export interface CappedInstance {
  readonly module: QuickJSWASMModule;
  readonly guard: MemoryGuard;
}

/**
 * A fresh QuickJS instance whose heap can hold about `heapBytes` beyond its initial pages.
 * `compiled` is a module compiled elsewhere (a worker thread gets its parent's, so it need not
 * compile the WASM again).
 */
export async function newCappedInstance(heapBytes: number, compiled?: object): Promise<CappedInstance> {
  const initialPages = INITIAL_BYTES / PAGE_BYTES;
  const maximumPages = initialPages + Math.ceil(heapBytes / PAGE_BYTES);
  const memory = new wasm.Memory({ initial: initialPages, maximum: maximumPages });
  const guard = new MemoryGuard(memory);
  const variant = newVariant(releaseSyncVariant as unknown as QuickJSSyncVariant, {
    wasmModule: (compiled ?? (await compiledModule())) as never,
    wasmMemory: memory as never,
  });
  return { module: await newQuickJSWASMModuleFromVariant(variant), guard };
}

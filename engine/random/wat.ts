// Compiles the engine's WebAssembly kernels from their text (.wat) sources at load time with
// wabt, so no build output is committed or needs a build step: the text is the source of truth.
// Assembling takes a few milliseconds per kernel once per thread (after wabt's own start-up).
import { readFileSync } from 'node:fs';
import wabtFactory from 'wabt';

// Veil compiles against lib ES2023 without DOM, which is where TypeScript declares WebAssembly;
// the little used here is typed here.
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports?: WasmImports) => { exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number }) => KernelMemory;
}

/** What a kernel imports, by module and name (the memory it runs on, for one). */
export type WasmImports = Record<string, Record<string, unknown>>;
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** A kernel's linear memory; the kernels never grow theirs, so views on the buffer stay valid. */
export interface KernelMemory {
  readonly buffer: ArrayBuffer;
}

/** WebAssembly's page: the unit a memory's size is given in. */
export const WASM_PAGE_BYTES = 65536;
/** The most a (32-bit) WebAssembly memory can hold. */
export const WASM_MAX_PAGES = 65536;

/** A fresh memory of `pages` pages, zero-filled (the system maps the zeros lazily), for kernels that import one. */
export function createKernelMemory(pages: number): KernelMemory {
  return new wasm.Memory({ initial: pages });
}

let wabt: ReturnType<typeof wabtFactory> | undefined;
const modules = new Map<string, Promise<object>>();

async function assemble(url: URL): Promise<object> {
  wabt ??= wabtFactory();
  const tools = await wabt;
  const parsed = tools.parseWat(url.pathname, readFileSync(url, 'utf8'), { simd: true });
  try {
    parsed.validate();
    return new wasm.Module(parsed.toBinary({}).buffer);
  } finally {
    parsed.destroy();
  }
}

/** A fresh instance of the kernel in a .wat file (compiled once per thread), by its exports. */
export async function instantiateWat<Exports>(url: URL, imports?: WasmImports): Promise<Exports> {
  let module = modules.get(url.href);
  if (module === undefined) {
    module = assemble(url);
    modules.set(url.href, module);
  }
  return new wasm.Instance(await module, imports).exports as Exports;
}

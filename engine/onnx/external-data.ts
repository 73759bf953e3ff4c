// Models whose weights stay out of the protobuf. onnxruntime reads external data either from
// files (it maps them into memory: pages it no longer needs, such as weights it has pre-packed,
// are given back) or from buffers handed over with the session options. Either way the weights
// are never encoded into the protobuf, whose encoder would copy them more than once and which
// cannot exceed 2 GB.
import { toBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema } from 'onnx-buf';
import type { Graph } from './graph.ts';
import { rawBytes, toModelProto, type ExternalLocation } from './serialize.ts';

/** A byte range of a file in `ExternalDataOptions.folder` holding raw little-endian tensor data. */
export interface FileRange {
  file: string;
  offset: number;
  length: number;
}

export interface ExternalDataOptions {
  /** Initializers of at least this many bytes are handed to onnxruntime from memory (default 1024). */
  minBytes?: number;
  /** Folder of the files named in `inputsFromFiles`. */
  folder?: string;
  /** Graph inputs (by name) that become initializers read by onnxruntime from a file range. */
  inputsFromFiles?: ReadonlyMap<string, FileRange>;
}

export interface ModelWithExternalData {
  bytes: Uint8Array;
  /** onnxruntime's `externalData` session option: one in-memory "file" per large initializer. */
  externalData: { path: string; data: Uint8Array }[];
  /** The folder file-backed initializers are read from. */
  folder?: string;
  /**
   * Called once onnxruntime has the model (or failed to take it), for files written only to be
   * mapped: on Linux a mapped file can be deleted and its pages stay readable.
   */
  dispose?: () => Promise<void>;
}

export function serializeGraphExternal(g: Graph, options: ExternalDataOptions = {}): ModelWithExternalData {
  if (g.outputs.length === 0) throw new Error(`graph ${g.name} has no outputs`);
  const minBytes = options.minBytes ?? 1024;
  const external = new Map<string, ExternalLocation>();
  const externalData: ModelWithExternalData['externalData'] = [];
  for (const init of g.initializers) {
    if (init.data.byteLength < minBytes) continue;
    const path = `veil_in_memory_${externalData.length}.bin`;
    external.set(init.name, { location: path, offset: 0, length: init.data.byteLength });
    externalData.push({ path, data: rawBytes(init) });
  }
  const fromFiles = options.inputsFromFiles ?? new Map<string, FileRange>();
  if (fromFiles.size > 0 && !options.folder) throw new Error('inputsFromFiles needs the folder the files are in');
  for (const [name, range] of fromFiles) {
    if (!g.inputs.some((v) => v.name === name)) throw new Error(`graph ${g.name} has no input ${name} to read from a file`);
    external.set(name, { location: range.file, offset: range.offset, length: range.length });
  }
  return { bytes: toBinary(ModelProtoSchema, toModelProto(g, external)), externalData, folder: fromFiles.size > 0 ? options.folder : undefined };
}

// The ONNX engine: a typed graph builder, its serializer and a session layer over onnxruntime-node.
export { Graph, Tensor, attr, type AttrValue, type GraphOptions } from './graph.ts';
export { type DType, float16BitsToFloat32, float32ToFloat16Bits } from './dtype.ts';
export { ShapeError, type Dim, type Shape, sameDim, sameShape, formatShape } from './shape.ts';
export { serializeGraph, toModelProto, type ExternalLocation } from './serialize.ts';
export { serializeGraphExternal, type ExternalDataOptions, type FileRange, type ModelWithExternalData } from './external-data.ts';
export { EngineSession, ExecutionProviderUnavailableError, assertProviderAvailable, sessionConfigFromEnv, type SessionConfig, type ExecutionProvider, type ModelSource, type ModelBytes } from './session.ts';
export * as op from './ops/index.ts';

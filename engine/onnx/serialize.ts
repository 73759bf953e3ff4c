// Graph → ONNX ModelProto bytes, through onnx-buf (the ONNX schema compiled for @bufbuild/protobuf).
import { create, toBinary } from '@bufbuild/protobuf';
import {
  AttributeProto_AttributeType,
  AttributeProtoSchema,
  GraphProtoSchema,
  ModelProtoSchema,
  NodeProtoSchema,
  OperatorSetIdProtoSchema,
  StringStringEntryProtoSchema,
  TensorProto_DataLocation,
  TensorProtoSchema,
  TensorShapeProto_DimensionSchema,
  TensorShapeProtoSchema,
  TypeProto_TensorSchema,
  TypeProtoSchema,
  ValueInfoProtoSchema,
  type AttributeProto,
  type ModelProto,
  type TensorProto,
  type ValueInfoProto,
} from 'onnx-buf';
import { onnxDataType, type DType } from './dtype.ts';
import type { AttrValue, Graph, InitializerRecord, ValueRecord } from './graph.ts';

/** ONNX IR version 8 is what opsets 17–18 shipped with; onnxruntime 1.30 reads up to 11. */
const IR_VERSION = 8n;

const encoder = new TextEncoder();

function valueInfo(v: ValueRecord): ValueInfoProto {
  return create(ValueInfoProtoSchema, {
    name: v.name,
    type: create(TypeProtoSchema, {
      value: {
        case: 'tensorType',
        value: create(TypeProto_TensorSchema, {
          elemType: onnxDataType[v.dtype],
          shape: create(TensorShapeProtoSchema, {
            dim: v.shape.map((d) =>
              create(TensorShapeProto_DimensionSchema, {
                value: typeof d === 'number' ? { case: 'dimValue', value: BigInt(d) } : { case: 'dimParam', value: d },
              }),
            ),
          }),
        }),
      },
    }),
  });
}

/** An initializer's bytes: little-endian, which is what every platform Node runs on stores in typed arrays. */
export function rawBytes(init: InitializerRecord): Uint8Array {
  const d = init.data;
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

function tensorProto(init: InitializerRecord): TensorProto {
  return create(TensorProtoSchema, { ...tensorHeader(init.name, init.dtype, init.shape), rawData: rawBytes(init) as Uint8Array<ArrayBuffer> });
}

function tensorHeader(name: string, dtype: DType, shape: readonly number[]) {
  return { name, dataType: onnxDataType[dtype], dims: shape.map((n) => BigInt(n)) };
}

/** Where an initializer's bytes are, outside the protobuf: a file name (relative to a folder) and a byte range. */
export interface ExternalLocation {
  location: string;
  offset: number;
  length: number;
}

function externalTensorProto(name: string, dtype: DType, shape: readonly number[], where: ExternalLocation): TensorProto {
  const entry = (key: string, value: string) => create(StringStringEntryProtoSchema, { key, value });
  return create(TensorProtoSchema, {
    ...tensorHeader(name, dtype, shape),
    dataLocation: TensorProto_DataLocation.EXTERNAL,
    externalData: [entry('location', where.location), entry('offset', String(where.offset)), entry('length', String(where.length))],
  });
}

/** A graph input turned into an initializer whose data is external: its shape must be static. */
function inputAsInitializer(v: ValueRecord, where: ExternalLocation): TensorProto {
  const shape = v.shape.map((d) => {
    if (typeof d !== 'number') throw new Error(`input ${v.name} has a symbolic dim (${d}); only static inputs can be bound to external data`);
    return d;
  });
  return externalTensorProto(v.name, v.dtype, shape, where);
}

function attribute(name: string, a: AttrValue): AttributeProto {
  switch (a.kind) {
    case 'int':
      return create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.INT, i: BigInt(a.value) });
    case 'float':
      return create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.FLOAT, f: a.value });
    case 'ints':
      return create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.INTS, ints: a.value.map((v) => BigInt(v)) });
    case 'floats':
      return create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.FLOATS, floats: [...a.value] });
    case 'string':
      return create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.STRING, s: encoder.encode(a.value) });
  }
}

/**
 * The ModelProto. `external` names initializers whose bytes are stored outside the protobuf, and
 * graph inputs to bake as such initializers (their values then come from the external data).
 */
export function toModelProto(g: Graph, external: ReadonlyMap<string, ExternalLocation> = new Map()): ModelProto {
  const inited = (init: InitializerRecord) => {
    const where = external.get(init.name);
    return where ? externalTensorProto(init.name, init.dtype, init.shape, where) : tensorProto(init);
  };
  const boundInputs = g.inputs.filter((v) => external.has(v.name));
  const graph = create(GraphProtoSchema, {
    name: g.name,
    node: g.nodes.map((n) =>
      create(NodeProtoSchema, {
        name: n.name,
        opType: n.opType,
        domain: n.domain,
        input: n.inputs,
        output: n.outputs,
        attribute: Object.entries(n.attrs).map(([k, v]) => attribute(k, v)),
      }),
    ),
    initializer: [...g.initializers.map(inited), ...boundInputs.map((v) => inputAsInitializer(v, external.get(v.name)!))],
    input: g.inputs.filter((v) => !external.has(v.name)).map(valueInfo),
    output: g.outputs.map(valueInfo),
  });
  const opsets = [create(OperatorSetIdProtoSchema, { domain: '', version: BigInt(g.opset) })];
  for (const [domain, version] of g.domains) opsets.push(create(OperatorSetIdProtoSchema, { domain, version: BigInt(version) }));
  return create(ModelProtoSchema, {
    irVersion: IR_VERSION,
    producerName: 'veil',
    graph,
    opsetImport: opsets,
  });
}

/** The serialized model, ready for `InferenceSession.create(bytes)`. */
export function serializeGraph(g: Graph): Uint8Array {
  if (g.outputs.length === 0) throw new Error(`graph ${g.name} has no outputs`);
  return toBinary(ModelProtoSchema, toModelProto(g));
}

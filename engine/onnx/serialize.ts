// Graph → ONNX ModelProto bytes, through onnx-buf (the ONNX schema compiled for @bufbuild/protobuf).
import { create, toBinary } from '@bufbuild/protobuf';
import {
  AttributeProto_AttributeType,
  AttributeProtoSchema,
  GraphProtoSchema,
  ModelProtoSchema,
  NodeProtoSchema,
  OperatorSetIdProtoSchema,
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
import { onnxDataType } from './dtype.ts';
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

function tensorProto(init: InitializerRecord): TensorProto {
  const d = init.data;
  // rawData is little-endian, which is what every platform Node runs on stores in typed arrays.
  const bytes = new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  return create(TensorProtoSchema, {
    name: init.name,
    dataType: onnxDataType[init.dtype],
    dims: init.shape.map((n) => BigInt(n)),
    rawData: bytes as Uint8Array<ArrayBuffer>,
  });
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

export function toModelProto(g: Graph): ModelProto {
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
    initializer: g.initializers.map(tensorProto),
    input: g.inputs.map(valueInfo),
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

// Element types the graph builder knows, and how each maps onto ONNX and onto onnxruntime's tensors.
import { TensorProto_DataType } from 'onnx-buf';

export type DType = 'float32' | 'float16' | 'float64' | 'int64' | 'int32' | 'int8' | 'uint8' | 'bool';

export const onnxDataType: Record<DType, TensorProto_DataType> = {
  float32: TensorProto_DataType.FLOAT,
  float16: TensorProto_DataType.FLOAT16,
  float64: TensorProto_DataType.DOUBLE,
  int64: TensorProto_DataType.INT64,
  int32: TensorProto_DataType.INT32,
  int8: TensorProto_DataType.INT8,
  uint8: TensorProto_DataType.UINT8,
  bool: TensorProto_DataType.BOOL,
};

/** The JS typed array that holds each dtype (float16 travels as raw uint16 bits). */
export interface TypedArrayOf {
  float32: Float32Array;
  float16: Uint16Array;
  float64: Float64Array;
  int64: BigInt64Array;
  int32: Int32Array;
  int8: Int8Array;
  uint8: Uint8Array;
  bool: Uint8Array;
}

export type AnyTypedArray = TypedArrayOf[DType];

export const isFloat = (d: DType): boolean => d === 'float32' || d === 'float16' || d === 'float64';
export const isInteger = (d: DType): boolean => d === 'int64' || d === 'int32' || d === 'int8' || d === 'uint8';

/** Encodes a JS number list as the typed array of a dtype (used for small constants). */
export function typedArrayFrom(dtype: DType, values: readonly number[]): AnyTypedArray {
  switch (dtype) {
    case 'float32': return Float32Array.from(values);
    case 'float64': return Float64Array.from(values);
    case 'float16': return Uint16Array.from(values, float32ToFloat16Bits);
    case 'int64': return BigInt64Array.from(values, (v) => BigInt(checkedInteger(v)));
    case 'int32': return Int32Array.from(values, checkedInteger);
    case 'int8': return Int8Array.from(values, checkedInteger);
    case 'uint8': return Uint8Array.from(values, checkedInteger);
    case 'bool': return Uint8Array.from(values, (v) => (v ? 1 : 0));
  }
}

function checkedInteger(v: number): number {
  if (!Number.isInteger(v)) throw new TypeError(`expected an integer constant, got ${v}`);
  return v;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Round-to-nearest-even float32 → IEEE half bits. */
export function float32ToFloat16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let r = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    if (rest > half || (rest === half && (r & 1) === 1)) r += 1;
    return sign | r;
  }
  let r = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (r & 1) === 1)) r += 1;
  return sign | r;
}

/** IEEE half bits → float32 value (exact). */
export function float16BitsToFloat32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

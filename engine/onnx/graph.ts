// The graph under construction: typed tensors, nodes, graph inputs, initializers and outputs.
// Op helpers (ops/*.ts) call `graph.node(...)` with the output types they inferred; this file
// knows nothing about individual ops.
import { typedArrayFrom, type AnyTypedArray, type DType } from './dtype.ts';
import { formatShape, ShapeError, staticSize, type Dim, type Shape } from './shape.ts';

/** A value flowing through the graph: a name plus its static element type and shape. */
export class Tensor {
  constructor(
    readonly graph: Graph,
    readonly name: string,
    readonly dtype: DType,
    readonly shape: Shape,
  ) {}

  get rank(): number {
    return this.shape.length;
  }

  toString(): string {
    return `${this.name}: ${this.dtype}${formatShape(this.shape)}`;
  }
}

export type AttrValue =
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'ints'; value: readonly number[] }
  | { kind: 'floats'; value: readonly number[] }
  | { kind: 'string'; value: string };

/** Attribute constructors: ONNX distinguishes int from float attributes, JS numbers do not. */
export const attr = {
  int: (value: number): AttrValue => ({ kind: 'int', value }),
  float: (value: number): AttrValue => ({ kind: 'float', value }),
  ints: (value: readonly number[]): AttrValue => ({ kind: 'ints', value }),
  floats: (value: readonly number[]): AttrValue => ({ kind: 'floats', value }),
  string: (value: string): AttrValue => ({ kind: 'string', value }),
};

export interface NodeRecord {
  opType: string;
  domain: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, AttrValue>;
}

export interface ValueRecord {
  name: string;
  dtype: DType;
  shape: Shape;
}

export interface InitializerRecord {
  name: string;
  dtype: DType;
  shape: number[];
  data: AnyTypedArray;
}

export interface GraphOptions {
  name?: string;
  /** Default-domain opset; 18 has LayerNormalization, ScatterND reductions and axes-as-input reductions. */
  opset?: number;
}

export class Graph {
  readonly name: string;
  readonly opset: number;
  readonly nodes: NodeRecord[] = [];
  readonly inputs: ValueRecord[] = [];
  readonly outputs: ValueRecord[] = [];
  readonly initializers: InitializerRecord[] = [];
  /** Extra opset imports, e.g. com.microsoft for onnxruntime contrib ops. */
  readonly domains = new Map<string, number>();
  private readonly usedNames = new Set<string>();
  private readonly constantCache = new Map<string, Tensor>();
  private prefix = '';
  private counter = 0;

  constructor(options: GraphOptions = {}) {
    this.name = options.name ?? 'veil';
    this.opset = options.opset ?? 18;
  }

  /** A graph input fed at run time (also the way to pass weights, so one session serves many weight versions). */
  input(name: string, dtype: DType, shape: Shape): Tensor {
    this.claim(name);
    this.inputs.push({ name, dtype, shape });
    return new Tensor(this, name, dtype, shape);
  }

  /** A tensor baked into the model (weights fixed for the session's life, or constants). */
  initializer(name: string, dtype: DType, shape: readonly number[], data: AnyTypedArray): Tensor {
    const expected = staticSize(shape) ?? -1;
    if (data.length !== expected) throw new ShapeError(`initializer ${name}: ${data.length} values for shape ${formatShape(shape)}`);
    this.claim(name);
    return this.pushInitializer(name, dtype, shape, data);
  }

  private pushInitializer(name: string, dtype: DType, shape: readonly number[], data: AnyTypedArray): Tensor {
    this.initializers.push({ name, dtype, shape: [...shape], data });
    return new Tensor(this, name, dtype, shape);
  }

  /** A small constant tensor; identical constants are shared. */
  constant(dtype: DType, shape: readonly number[], values: readonly number[]): Tensor {
    const key = `${dtype}|${shape.join(',')}|${values.join(',')}`;
    const hit = this.constantCache.get(key);
    if (hit) return hit;
    if (values.length !== (staticSize(shape) ?? -1)) throw new ShapeError(`constant: ${values.length} values for shape ${formatShape(shape)}`);
    const t = this.pushInitializer(this.fresh('const'), dtype, shape, typedArrayFrom(dtype, values));
    this.constantCache.set(key, t);
    return t;
  }

  /** A 0-d constant. */
  scalar(value: number, dtype: DType = 'float32'): Tensor {
    return this.constant(dtype, [], [value]);
  }

  /** A 1-d int64 constant, the form ONNX wants for axes, shapes, starts and ends. */
  int64s(values: readonly number[]): Tensor {
    return this.constant('int64', [values.length], values);
  }

  /**
   * Adds one node. `inputs` may hold undefined for an omitted optional input; `outputs` are the
   * types the caller inferred. Returns the output tensors in order.
   */
  node(
    opType: string,
    inputs: readonly (Tensor | undefined)[],
    outputs: readonly { dtype: DType; shape: Shape }[],
    attrs: Record<string, AttrValue> = {},
    options: { domain?: string } = {},
  ): Tensor[] {
    for (const t of inputs) {
      if (t && t.graph !== this) throw new Error(`${opType}: input ${t.name} belongs to another graph`);
    }
    const base = this.fresh(opType.toLowerCase());
    const outs = outputs.map((o, i) => {
      const name = outputs.length === 1 ? base : `${base}_${i}`;
      if (outputs.length !== 1) this.claim(name);
      return new Tensor(this, name, o.dtype, o.shape);
    });
    this.nodes.push({
      opType,
      domain: options.domain ?? '',
      name: `${base}_node`,
      inputs: inputs.map((t) => t?.name ?? ''),
      outputs: outs.map((t) => t.name),
      attrs,
    });
    return outs;
  }

  /** Marks a tensor as a graph output under `name` (an Identity renames it when needed). */
  output(t: Tensor, name: string): Tensor {
    let out = t;
    const isGraphInput = this.inputs.some((i) => i.name === t.name) || this.initializers.some((i) => i.name === t.name);
    if (t.name !== name || isGraphInput) {
      this.claim(name);
      this.nodes.push({ opType: 'Identity', domain: '', name: `${name}_identity`, inputs: [t.name], outputs: [name], attrs: {} });
      out = new Tensor(this, name, t.dtype, t.shape);
    }
    this.outputs.push({ name, dtype: out.dtype, shape: out.shape });
    return out;
  }

  /** Runs `build` with node names prefixed by `scope/`, so a dumped graph reads like the code. */
  scope<T>(scope: string, build: () => T): T {
    const saved = this.prefix;
    this.prefix = `${saved}${scope}/`;
    try {
      return build();
    } finally {
      this.prefix = saved;
    }
  }

  /** Declares an opset import for a non-default domain (e.g. 'com.microsoft'). */
  useDomain(domain: string, version: number): void {
    this.domains.set(domain, version);
  }

  /** A name not used yet in this graph, under the current scope. */
  fresh(stem: string): string {
    let name: string;
    do name = `${this.prefix}${stem}_${this.counter++}`;
    while (this.usedNames.has(name));
    this.usedNames.add(name);
    return name;
  }

  private claim(name: string): void {
    if (this.usedNames.has(name)) throw new Error(`graph ${this.name}: name ${name} is already used`);
    this.usedNames.add(name);
  }
}

export type { Dim, Shape };

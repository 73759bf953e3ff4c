// Static shapes with symbolic dimensions. A dimension is a number or a symbol such as 'B' or 'T';
// a product of symbols is written 'B*T'. Shapes are checked when a graph is built, so a wrong
// transpose or a mismatched matmul fails at the line that wrote it, not deep inside onnxruntime.

export type Dim = number | string;
export type Shape = readonly Dim[];

interface Factors {
  coefficient: number;
  symbols: string[]; // sorted
}

function factorsOf(dim: Dim): Factors {
  if (typeof dim === 'number') return { coefficient: dim, symbols: [] };
  let coefficient = 1;
  const symbols: string[] = [];
  for (const part of dim.split('*').map((p) => p.trim())) {
    if (/^\d+$/.test(part)) coefficient *= Number(part);
    else if (part.length > 0) symbols.push(part);
  }
  return { coefficient, symbols: symbols.sort() };
}

function dimOf(f: Factors): Dim {
  if (f.symbols.length === 0) return f.coefficient;
  const syms = f.symbols.join('*');
  return f.coefficient === 1 ? syms : `${f.coefficient}*${syms}`;
}

/** Canonical spelling of a dimension ('T*B' → 'B*T', '1*T' → 'T'). */
export const normalizeDim = (dim: Dim): Dim => dimOf(factorsOf(dim));

export function sameDim(a: Dim, b: Dim): boolean {
  return normalizeDim(a) === normalizeDim(b);
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => sameDim(d, b[i]));
}

/** Product of dimensions, symbolic where needed ('B' × 'T' × 2 → '2*B*T'). */
export function productOf(dims: Shape): Dim {
  const out: Factors = { coefficient: 1, symbols: [] };
  for (const d of dims) {
    const f = factorsOf(d);
    out.coefficient *= f.coefficient;
    out.symbols.push(...f.symbols);
  }
  out.symbols.sort();
  return dimOf(out);
}

/** Number of elements when every dimension is known, else undefined. */
export function staticSize(shape: Shape): number | undefined {
  let n = 1;
  for (const d of shape) {
    if (typeof d !== 'number') return undefined;
    n *= d;
  }
  return n;
}

export const formatShape = (shape: Shape): string => `[${shape.join(', ')}]`;

export class ShapeError extends Error {
  override name = 'ShapeError';
}

/** Numpy-style broadcast of two shapes; throws when two dims can neither match nor broadcast. */
export function broadcastShapes(a: Shape, b: Shape, what: string): Dim[] {
  const rank = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    const da = i < rank - a.length ? 1 : a[i - (rank - a.length)];
    const db = i < rank - b.length ? 1 : b[i - (rank - b.length)];
    if (da === 1) out.push(db);
    else if (db === 1 || sameDim(da, db)) out.push(da);
    else throw new ShapeError(`${what}: shapes ${formatShape(a)} and ${formatShape(b)} do not broadcast (dim ${i}: ${da} vs ${db})`);
  }
  return out;
}

/** Resolves a possibly negative axis against a rank, with a clear error when out of range. */
export function normalizeAxis(axis: number, rank: number, what: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) throw new ShapeError(`${what}: axis ${axis} out of range for rank ${rank}`);
  return a;
}

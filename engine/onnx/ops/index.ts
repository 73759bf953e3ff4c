// All op helpers in one namespace: `import * as op from '../onnx/ops/index.ts'` then `op.matmul(a, b)`.
export * from './elementwise.ts';
export * from './linear.ts';
export * from './layout.ts';
export * from './reduce.ts';

// A GradientSink that passes on only the gradients of trainable parameters (LoRA: the adapters),
// so the graph never forms a gradient, a per-example norm or a clipped sum for a frozen weight.
// Per-example norms are then over the trainable parameters only, as DP-LoRA's clipping requires.
// The backward's data flow (da = g·Wᵀ, …) is untouched: it is what reaches the adapters below.
import type { Tensor } from '../onnx/index.ts';
import type { GradientSink, TiedHead } from './grad-sink.ts';

export class TrainableOnlySink implements GradientSink {
  constructor(private readonly inner: GradientSink, private readonly trainable: ReadonlySet<string>) {}

  get dims(): GradientSink['dims'] {
    return this.inner.dims;
  }

  linear(weightName: string, biasName: string | undefined, a: Tensor, g: Tensor): void {
    const bias = biasName !== undefined && this.trainable.has(biasName) ? biasName : undefined;
    if (this.trainable.has(weightName)) this.inner.linear(weightName, bias, a, g);
    else if (bias) throw new Error(`${bias} is trainable while ${weightName} is frozen: not supported`);
  }

  rows(name: string, perRow: Tensor): void {
    if (this.trainable.has(name)) this.inner.rows(name, perRow);
  }

  positions(name: string, e: Tensor, tableRows: number): void {
    if (this.trainable.has(name)) this.inner.positions(name, e, tableRows);
  }

  tokenHead(name: string, head: TiedHead): void {
    if (this.trainable.has(name)) this.inner.tokenHead(name, head);
  }

  tokenInput(name: string, ids: Tensor, e: Tensor): void {
    if (this.trainable.has(name)) this.inner.tokenInput(name, ids, e);
  }

  finish(): ReturnType<GradientSink['finish']> {
    return this.inner.finish();
  }
}

// Reductions over axes, each with its gradient beside it.
import { record } from '../autograd/tape.ts';
import { kernels } from '../backend/registry.ts';
import { type Tensor, zeros } from '../tensor/tensor.ts';
import { normAxes, sameShape } from '../tensor/shape.ts';
import { ShapeError } from '../util/errors.ts';
import { binaryRaw } from './elementwise.ts';
import { expand, reshape } from './movement.ts';

function keptShape(shape: number[], axes: number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

function reduceRaw(op: 'sum' | 'max', x: Tensor, axes: number[]): Tensor {
  const out = zeros(keptShape(x.shape, axes), x.dtype);
  kernels(x.dtype).reduce(
    op,
    x.values(),
    x.shape,
    x.shape.map((_, i) => axes.includes(i)),
    out.data,
  );
  return out;
}

function finish(out: Tensor, x: Tensor, axes: number[], keepDims: boolean): Tensor {
  return keepDims
    ? out
    : reshape(
        out,
        x.shape.filter((_, i) => !axes.includes(i)),
      );
}

export function sum(x: Tensor, axesArg?: number | number[], keepDims = false): Tensor {
  const axes = normAxes('sum', axesArg, x.rank);
  const out = record(reduceRaw('sum', x, axes), 'sum', [x], (dy) => [expand(dy, x.shape)]);
  return finish(out, x, axes, keepDims);
}

export function mean(x: Tensor, axesArg?: number | number[], keepDims = false): Tensor {
  const axes = normAxes('mean', axesArg, x.rank);
  const count = axes.reduce((p, a) => p * x.shape[a], 1);
  return sum(x, axes, keepDims).mul(1 / count);
}

/** Maximum over axes; the gradient is shared evenly among tied maxima (torch.amax). */
export function max(x: Tensor, axesArg?: number | number[], keepDims = false): Tensor {
  const axes = normAxes('max', axesArg, x.rank);
  if (axes.some((a) => x.shape[a] === 0)) throw new ShapeError(`max: cannot reduce an empty axis of shape [${x.shape.join(', ')}]`);
  const kept = reduceRaw('max', x, axes);
  const out = record(kept, 'max', [x], (dy) => {
    const mask = binaryRaw('eq', x, kept);
    const ties = reduceRaw('sum', mask, axes);
    return [expand(dy, x.shape).mul(mask).div(ties)];
  });
  return finish(out, x, axes, keepDims);
}

/** Sums a broadcast gradient back to the shape of the operand it was broadcast from. */
export function sumTo(g: Tensor, shape: number[]): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  return reshape(sum(g, axes, true), shape);
}

// Matrix products, each with its gradient beside it.
import { record } from '../autograd/tape.ts';
import { kernels } from '../backend/registry.ts';
import type { FloatArray } from '../backend/kernels.ts';
import { type Tensor, zeros } from '../tensor/tensor.ts';
import { shapeStr } from '../tensor/shape.ts';
import { ShapeError } from '../util/errors.ts';
import { checkSameDtype, maskPositive } from './elementwise.ts';
import { contiguous } from './movement.ts';
import { sum } from './reduce.ts';

// A 2-d operand as the kernel wants it: contiguous, or the transpose of a contiguous one.
function operand(t: Tensor): { data: FloatArray; trans: boolean } {
  if (t.isContiguous()) return { data: t.values(), trans: false };
  const [r, c] = t.shape;
  if (t.strides[0] === 1 && t.strides[1] === r) return { data: t.data.subarray(t.offset, t.offset + r * c), trans: true };
  return { data: contiguous(t.detach()).data, trans: false };
}

// a: [M, K], b: [K, N] -> [M, N]
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.rank !== 2 || b.rank !== 2 || a.shape[1] !== b.shape[0]) {
    throw new ShapeError(`matmul: cannot multiply ${shapeStr(a.shape)} by ${shapeStr(b.shape)}: expected [M, K] x [K, N]`);
  }
  checkSameDtype('matmul', a, b);
  const [m, k] = a.shape;
  const n = b.shape[1];
  const out = zeros([m, n], a.dtype);
  const A = operand(a);
  const B = operand(b);
  kernels(a.dtype).matmul(A.data, B.data, m, k, n, A.trans, B.trans, out.data);
  // inputs that need no gradient (the data) skip their product: it is a full GEMM
  return record(out, 'matmul', [a, b], (dy) => [a.requiresGrad ? matmul(dy, b.T) : null, b.requiresGrad ? matmul(a.T, dy) : null]);
}

// x: [M, K], w: [N, K], bias: [N] | null -> [M, N] = x @ w^T + bias, ReLU'd when relu
export function linear(x: Tensor, w: Tensor, bias: Tensor | null, relu = false): Tensor {
  if (x.rank !== 2 || w.rank !== 2 || x.shape[1] !== w.shape[1] || (bias && (bias.rank !== 1 || bias.shape[0] !== w.shape[0]))) {
    throw new ShapeError(
      `linear: input ${shapeStr(x.shape)}, weight ${shapeStr(w.shape)}, bias ${bias ? shapeStr(bias.shape) : 'none'}: expected [M, K], [N, K], [N]`,
    );
  }
  checkSameDtype('linear', x, w);
  if (bias) checkSameDtype('linear', x, bias);
  const [m, k] = x.shape;
  const n = w.shape[0];
  const out = zeros([m, n], x.dtype);
  kernels(x.dtype).linear(x.values(), w.values(), bias ? bias.values() : null, m, k, n, relu, out.data);
  const inputs = bias ? [x, w, bias] : [x, w];
  return record(out, relu ? 'linearRelu' : 'linear', inputs, (dy) => {
    const dz = relu ? maskPositive(out, dy) : dy;
    const grads = [x.requiresGrad ? matmul(dz, w) : null, w.requiresGrad ? matmul(dz.T, x) : null];
    return bias ? [...grads, bias.requiresGrad ? sum(dz, 0) : null] : grads;
  });
}

// Elementwise ops with broadcasting, each with its gradient beside it.
import { record } from '../autograd/tape.ts';
import { kernels } from '../backend/registry.ts';
import type { BinaryOp, UnaryOp } from '../backend/kernels.ts';
import { type Tensor, type TensorLike, uninitialized } from '../tensor/tensor.ts';
import { broadcastShapes, broadcastStrides, sameShape, shapeStr } from '../tensor/shape.ts';
import { ShapeError } from '../util/errors.ts';
import { sumTo } from './reduce.ts';

export function checkSameDtype(op: string, a: Tensor, b: Tensor): void {
  if (a.dtype !== b.dtype) {
    throw new ShapeError(`${op}: dtype mismatch, ${a.dtype} ${shapeStr(a.shape)} vs ${b.dtype} ${shapeStr(b.shape)}`);
  }
}

/** Broadcasting binary kernel without gradient recording. */
export function binaryRaw(op: BinaryOp, a: Tensor, b: Tensor): Tensor {
  checkSameDtype(op, a, b);
  const outShape = sameShape(a.shape, b.shape) ? a.shape : broadcastShapes(op, a.shape, b.shape);
  const out = uninitialized(outShape, a.dtype); // the kernels overwrite every element
  kernels(a.dtype).binary(
    op,
    a.data,
    a.offset,
    broadcastStrides(a.shape, a.strides, outShape),
    b.data,
    b.offset,
    broadcastStrides(b.shape, b.strides, outShape),
    outShape,
    out.data,
  );
  return out;
}

function unaryRaw(op: UnaryOp, x: Tensor): Tensor {
  const out = uninitialized(x.shape, x.dtype);
  kernels(x.dtype).unary(op, x.values(), out.data);
  return out;
}

/** out = x * alpha + beta. */
export function affine(x: Tensor, alpha: number, beta: number): Tensor {
  const out = uninitialized(x.shape, x.dtype);
  kernels(x.dtype).affine(x.values(), alpha, beta, out.data);
  return record(out, 'affine', [x], (dy) => [affine(dy, alpha, 0)]);
}

export function add(a: Tensor, b: TensorLike): Tensor {
  if (typeof b === 'number') return affine(a, 1, b);
  const out = binaryRaw('add', a, b);
  return record(out, 'add', [a, b], (dy) => [sumTo(dy, a.shape), sumTo(dy, b.shape)]);
}

/** relu(a + b) in one pass (a residual block's sum and ReLU); the gradient passes where the result is positive. */
export function addRelu(a: Tensor, b: Tensor): Tensor {
  const out = binaryRaw('addRelu', a, b);
  return record(out, 'addRelu', [a, b], (dy) => {
    const g = maskPositive(out, dy);
    return [sumTo(g, a.shape), sumTo(g, b.shape)];
  });
}

export function sub(a: Tensor, b: TensorLike): Tensor {
  if (typeof b === 'number') return affine(a, 1, -b);
  const out = binaryRaw('sub', a, b);
  return record(out, 'sub', [a, b], (dy) => [sumTo(dy, a.shape), sumTo(affine(dy, -1, 0), b.shape)]);
}

export function mul(a: Tensor, b: TensorLike): Tensor {
  if (typeof b === 'number') return affine(a, b, 0);
  const out = binaryRaw('mul', a, b);
  return record(out, 'mul', [a, b], (dy) => [sumTo(mul(dy, b), a.shape), sumTo(mul(dy, a), b.shape)]);
}

export function div(a: Tensor, b: TensorLike): Tensor {
  if (typeof b === 'number') return affine(a, 1 / b, 0);
  const out = binaryRaw('div', a, b);
  return record(out, 'div', [a, b], (dy) => [sumTo(div(dy, b), a.shape), sumTo(mul(dy, out).div(b).neg(), b.shape)]);
}

/** Elementwise maximum; at ties the gradient is split evenly, as in PyTorch. */
export function maximum(a: Tensor, b: Tensor): Tensor {
  const out = binaryRaw('max', a, b);
  return record(out, 'maximum', [a, b], (dy) => {
    const tie = binaryRaw('eq', a, b).mul(0.5);
    return [sumTo(mul(dy, binaryRaw('gt', a, b).add(tie)), a.shape), sumTo(mul(dy, binaryRaw('gt', b, a).add(tie)), b.shape)];
  });
}

/** Elementwise minimum; at ties the gradient is split evenly. */
export function minimum(a: Tensor, b: Tensor): Tensor {
  return maximum(a.neg(), b.neg()).neg();
}

/** 1 where a == b else 0 (no gradient). */
export function eq(a: Tensor, b: Tensor): Tensor {
  return binaryRaw('eq', a, b);
}

/** 1 where a > b else 0 (no gradient). */
export function gt(a: Tensor, b: Tensor): Tensor {
  return binaryRaw('gt', a, b);
}

/** a > 0 ? b : 0: the ReLU gradient, differentiable in b. */
export function maskPositive(a: Tensor, b: Tensor): Tensor {
  const out = binaryRaw('maskPos', a, b);
  return record(out, 'maskPositive', [a, b], (dy) => [null, sumTo(maskPositive(a, dy), b.shape)]);
}

export function unaryOp(op: UnaryOp, x: Tensor): Tensor {
  const out = unaryRaw(op, x);
  switch (op) {
    case 'neg':
      return record(out, op, [x], (dy) => [affine(dy, -1, 0)]);
    case 'exp':
      return record(out, op, [x], (dy) => [mul(dy, out)]);
    case 'log':
      return record(out, op, [x], (dy) => [div(dy, x)]);
    case 'relu':
      return record(out, op, [x], (dy) => [maskPositive(x, dy)]);
    case 'sqrt':
      return record(out, op, [x], (dy) => [div(dy, out).mul(0.5)]);
    case 'rsqrt':
      return record(out, op, [x], (dy) => [mul(dy, out.mul(out).mul(out)).mul(-0.5)]);
    case 'abs':
      return record(out, op, [x], (dy) => [mul(dy, unaryRaw('sign', x))]);
    case 'square':
      return record(out, op, [x], (dy) => [mul(dy, x).mul(2)]);
    case 'reciprocal':
      return record(out, op, [x], (dy) => [mul(dy, out.mul(out)).neg()]);
    case 'tanh':
      return record(out, op, [x], (dy) => [mul(dy, affine(out.mul(out), -1, 1))]);
    case 'sigmoid':
      return record(out, op, [x], (dy) => [mul(dy, mul(out, affine(out, -1, 1)))]);
    case 'sign':
    case 'step':
      return out; // piecewise constant: no gradient
  }
}

/** clamp(x, lo, hi); the gradient passes where lo <= x <= hi. */
export function clamp(x: Tensor, lo: number, hi: number): Tensor {
  const out = uninitialized(x.shape, x.dtype);
  kernels(x.dtype).clamp(x.values(), lo, hi, out.data);
  return record(out, 'clamp', [x], (dy) => [clampGrad(x, dy, lo, hi)]);
}

function clampGrad(x: Tensor, dy: Tensor, lo: number, hi: number): Tensor {
  const out = uninitialized(x.shape, x.dtype);
  kernels(x.dtype).clampBackward(x.values(), dy.values(), lo, hi, out.data);
  return record(out, 'clampGrad', [x, dy], (g) => [null, clampGrad(x, g, lo, hi)]);
}

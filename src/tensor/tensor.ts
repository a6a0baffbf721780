// The Tensor: a typed array seen through (shape, strides, offset), plus autograd state.
// Reshape of a contiguous tensor, transpose, permute, expand and strided slices are views
// that share storage; kernels that need contiguous input get a copy via contiguous().
import { Buffer } from 'node:buffer';
import type { DType, FloatArray } from '../backend/kernels.ts';
import type { GradNode } from '../autograd/tape.ts';
import { backward as runBackward } from '../autograd/tape.ts';
import { ShapeError } from '../util/errors.ts';
import { checkShape, contiguousStrides, shapeSize, shapeStr, type Shape } from './shape.ts';
import { arenaStorage } from './arena.ts';
import * as ew from '../ops/elementwise.ts';
import * as mv from '../ops/movement.ts';
import * as rd from '../ops/reduce.ts';
import * as la from '../ops/linalg.ts';

export type { DType, FloatArray };
export type TensorLike = Tensor | number;

export function allocate(dtype: DType, size: number): FloatArray {
  const recycled = arenaStorage(dtype, size, true); // inside a training step (arena.ts)
  if (recycled) return recycled;
  return dtype === 'float64' ? new Float64Array(size) : new Float32Array(size);
}

/**
 * Storage whose contents are arbitrary: only for the output of a kernel that overwrites
 * every element (src/backend/kernels.ts). Skips the zero fill, which for the large
 * activations of a conv net costs as much as some of the kernels.
 */
export function allocateUninitialized(dtype: DType, size: number): FloatArray {
  const recycled = arenaStorage(dtype, size, false);
  if (recycled) return recycled;
  const bytes = Buffer.allocUnsafeSlow(size * (dtype === 'float64' ? 8 : 4));
  return dtype === 'float64' ? new Float64Array(bytes.buffer, bytes.byteOffset, size) : new Float32Array(bytes.buffer, bytes.byteOffset, size);
}

export class Tensor {
  readonly data: FloatArray;
  readonly shape: number[];
  readonly strides: number[];
  readonly offset: number;
  requiresGrad = false;
  grad: Tensor | null = null;
  node: GradNode | null = null;

  constructor(data: FloatArray, shape: Shape, strides?: readonly number[], offset = 0) {
    checkShape('Tensor', shape);
    this.data = data;
    this.shape = [...shape];
    this.strides = strides ? [...strides] : contiguousStrides(shape);
    this.offset = offset;
    if (!strides && offset + shapeSize(shape) > data.length) {
      throw new ShapeError(`Tensor: shape ${shapeStr(shape)} needs ${shapeSize(shape)} elements, the buffer has ${data.length - offset}`);
    }
  }

  get dtype(): DType {
    return this.data instanceof Float64Array ? 'float64' : 'float32';
  }

  get size(): number {
    return shapeSize(this.shape);
  }

  get rank(): number {
    return this.shape.length;
  }

  isContiguous(): boolean {
    let expected = 1;
    for (let d = this.shape.length - 1; d >= 0; d--) {
      if (this.shape[d] !== 1 && this.strides[d] !== expected) return false;
      expected *= this.shape[d];
    }
    return true;
  }

  /** The elements in row-major order as a flat array (a subarray view when contiguous). */
  values(): FloatArray {
    if (this.isContiguous()) return this.data.subarray(this.offset, this.offset + this.size);
    return mv.contiguous(this.detach()).data;
  }

  toArray(): number[] {
    return Array.from(this.values());
  }

  item(): number {
    if (this.size !== 1) throw new ShapeError(`item: tensor of shape ${shapeStr(this.shape)} is not a scalar`);
    return this.data[this.offset];
  }

  /** Same storage, no gradient history. */
  detach(): Tensor {
    return new Tensor(this.data, this.shape, this.strides, this.offset);
  }

  /** Marks a leaf as requiring gradients; returns this. */
  requireGrad(on = true): this {
    this.requiresGrad = on;
    return this;
  }

  zerosLike(): Tensor {
    return new Tensor(allocate(this.dtype, this.size), this.shape);
  }

  onesLike(): Tensor {
    const t = this.zerosLike();
    t.data.fill(1);
    return t;
  }

  backward(gradOutput?: Tensor, createGraph = false): void {
    runBackward(this, gradOutput, createGraph);
  }

  toString(): string {
    return `Tensor(${shapeStr(this.shape)}, ${this.dtype}${this.requiresGrad ? ', requiresGrad' : ''})`;
  }

  // Sugar over the ops, so models read like PyTorch.
  add(o: TensorLike): Tensor {
    return ew.add(this, o);
  }
  sub(o: TensorLike): Tensor {
    return ew.sub(this, o);
  }
  mul(o: TensorLike): Tensor {
    return ew.mul(this, o);
  }
  div(o: TensorLike): Tensor {
    return ew.div(this, o);
  }
  neg(): Tensor {
    return ew.unaryOp('neg', this);
  }
  exp(): Tensor {
    return ew.unaryOp('exp', this);
  }
  log(): Tensor {
    return ew.unaryOp('log', this);
  }
  relu(): Tensor {
    return ew.unaryOp('relu', this);
  }
  sqrt(): Tensor {
    return ew.unaryOp('sqrt', this);
  }
  square(): Tensor {
    return ew.unaryOp('square', this);
  }
  abs(): Tensor {
    return ew.unaryOp('abs', this);
  }
  tanh(): Tensor {
    return ew.unaryOp('tanh', this);
  }
  sigmoid(): Tensor {
    return ew.unaryOp('sigmoid', this);
  }
  clamp(lo: number, hi: number): Tensor {
    return ew.clamp(this, lo, hi);
  }
  sum(axes?: number | number[], keepDims = false): Tensor {
    return rd.sum(this, axes, keepDims);
  }
  mean(axes?: number | number[], keepDims = false): Tensor {
    return rd.mean(this, axes, keepDims);
  }
  max(axes?: number | number[], keepDims = false): Tensor {
    return rd.max(this, axes, keepDims);
  }
  matmul(o: Tensor): Tensor {
    return la.matmul(this, o);
  }
  reshape(shape: number[]): Tensor {
    return mv.reshape(this, shape);
  }
  flatten(startAxis = 1): Tensor {
    return mv.flatten(this, startAxis);
  }
  permute(perm: number[]): Tensor {
    return mv.permute(this, perm);
  }
  transpose(a = -2, b = -1): Tensor {
    return mv.transpose(this, a, b);
  }
  get T(): Tensor {
    return mv.transpose(this, -2, -1);
  }
  expand(shape: number[]): Tensor {
    return mv.expand(this, shape);
  }
  contiguous(): Tensor {
    return mv.contiguous(this);
  }
  slice(axis: number, start: number, end: number, step = 1): Tensor {
    return mv.slice(this, axis, start, end, step);
  }
}

// Creation functions.

function dtypeOf(dtype: DType | undefined): DType {
  return dtype ?? 'float32';
}

/** Numbers nested in arrays to any depth, as `tensor([[1, 2], [3, 4]])` takes them. */
export type NestedArray = number | readonly NestedArray[];

/** Shape and flat values of nested arrays; a ragged or non-numeric entry is an error naming its position. */
function flattenNested(values: readonly NestedArray[]): { shape: number[]; flat: number[] } {
  const shape: number[] = [];
  for (let level: NestedArray = values; Array.isArray(level); level = (level as readonly NestedArray[])[0]) {
    shape.push((level as readonly NestedArray[]).length);
    if ((level as readonly NestedArray[]).length === 0) break;
  }
  const flat: number[] = [];
  const walk = (v: NestedArray, depth: number, at: string): void => {
    if (depth === shape.length) {
      if (typeof v !== 'number')
        throw new ShapeError(
          `tensor: element ${at || '[]'} is ${Array.isArray(v) ? 'an array' : typeof v}, expected a number at depth ${depth} (shape ${shapeStr(shape)} from the first elements)`,
        );
      flat.push(v);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[depth]) {
      const got = Array.isArray(v) ? `length ${v.length}` : typeof v;
      throw new ShapeError(
        `tensor: ragged nested array: element ${at || '[]'} has ${got}, expected length ${shape[depth]} (shape ${shapeStr(shape)} from the first elements)`,
      );
    }
    for (let i = 0; i < v.length; i++) walk(v[i], depth + 1, `${at}[${i}]`);
  };
  walk(values, 0, '');
  return { shape, flat };
}

/**
 * A tensor from flat values and a shape, or from nested arrays with the shape inferred
 * (`tensor([[1, 2], [3, 4]])` has shape [2, 2]).
 */
export function tensor(input: ArrayLike<number> | readonly NestedArray[], shape?: Shape, dtype?: DType): Tensor {
  let values = input as ArrayLike<number>;
  if (Array.isArray(input) && input.some((v) => typeof v !== 'number')) {
    const nested = flattenNested(input as readonly NestedArray[]);
    if (shape && shapeSize(shape) !== nested.flat.length)
      throw new ShapeError(`tensor: ${nested.flat.length} values of shape ${shapeStr(nested.shape)} do not fill shape ${shapeStr(shape)}`);
    values = nested.flat;
    shape = shape ?? nested.shape;
  }
  const dt = dtypeOf(dtype);
  const data = allocate(dt, values.length);
  data.set(values as ArrayLike<number>);
  const s = shape ?? [values.length];
  if (shapeSize(s) !== values.length) throw new ShapeError(`tensor: ${values.length} values do not fill shape ${shapeStr(s)}`);
  return new Tensor(data, s);
}

/** Wraps an existing typed array without copying. */
export function fromArray(data: FloatArray, shape: Shape): Tensor {
  if (shapeSize(shape) !== data.length) throw new ShapeError(`fromArray: ${data.length} values do not fill shape ${shapeStr(shape)}`);
  return new Tensor(data, shape);
}

export function scalar(v: number, dtype?: DType): Tensor {
  return tensor([v], [], dtype);
}

export function zeros(shape: Shape, dtype?: DType): Tensor {
  checkShape('zeros', shape);
  return new Tensor(allocate(dtypeOf(dtype), shapeSize(shape)), shape);
}

/** A tensor to be overwritten by a kernel before anything reads it (allocateUninitialized). */
export function uninitialized(shape: Shape, dtype?: DType): Tensor {
  checkShape('uninitialized', shape);
  return new Tensor(allocateUninitialized(dtypeOf(dtype), shapeSize(shape)), shape);
}

export function full(shape: Shape, value: number, dtype?: DType): Tensor {
  const t = zeros(shape, dtype);
  t.data.fill(value);
  return t;
}

export function ones(shape: Shape, dtype?: DType): Tensor {
  return full(shape, 1, dtype);
}

/** A source of uniform [0,1) and standard normal numbers (RandomState implements it). */
export interface RandomSource {
  random(): number;
  normal(): number;
}

export function randn(shape: Shape, rng: RandomSource, dtype?: DType): Tensor {
  const t = zeros(shape, dtype);
  for (let i = 0; i < t.data.length; i++) t.data[i] = rng.normal();
  return t;
}

export function uniform(shape: Shape, lo: number, hi: number, rng: RandomSource, dtype?: DType): Tensor {
  const t = zeros(shape, dtype);
  for (let i = 0; i < t.data.length; i++) t.data[i] = lo + (hi - lo) * rng.random();
  return t;
}

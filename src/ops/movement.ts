// Movement ops: views that share storage where possible, copies where not.
import { record } from '../autograd/tape.ts';
import { kernels } from '../backend/registry.ts';
import { Tensor, zeros } from '../tensor/tensor.ts';
import { broadcastShapes, contiguousStrides, sameShape, shapeSize, shapeStr } from '../tensor/shape.ts';
import { ShapeError } from '../util/errors.ts';
import { sumTo } from './reduce.ts';

/** A contiguous copy (or x itself when already contiguous). */
export function contiguous(x: Tensor): Tensor {
  if (x.isContiguous()) return x;
  const out = zeros(x.shape, x.dtype);
  kernels(x.dtype).stridedCopy(x.data, x.offset, x.strides, x.shape, out.data);
  return record(out, 'contiguous', [x], (dy) => [dy]);
}

function resolveShape(size: number, shape: number[]): number[] {
  const free = shape.indexOf(-1);
  if (free >= 0) {
    const known = shape.reduce((p, d, i) => (i === free ? p : p * d), 1);
    const out = [...shape];
    out[free] = known === 0 ? 0 : size / known;
    if (!Number.isInteger(out[free])) throw new ShapeError(`reshape: cannot reshape ${size} elements into ${shapeStr(shape)}`);
    return out;
  }
  if (shapeSize(shape) !== size) throw new ShapeError(`reshape: cannot reshape ${size} elements into ${shapeStr(shape)}`);
  return shape;
}

export function reshape(x: Tensor, shapeArg: number[]): Tensor {
  const shape = resolveShape(x.size, shapeArg);
  if (sameShape(shape, x.shape)) return x;
  const src = contiguous(x);
  const out = new Tensor(src.data, shape, undefined, src.offset);
  return record(out, 'reshape', [src], (dy) => [reshape(dy, src.shape)]);
}

/** Flattens axes from startAxis on: [N, C, H, W] -> [N, C*H*W]. */
export function flatten(x: Tensor, startAxis = 1): Tensor {
  return reshape(x, [...x.shape.slice(0, startAxis), -1]);
}

export function permute(x: Tensor, perm: number[]): Tensor {
  if (perm.length !== x.rank || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) {
    throw new ShapeError(`permute: [${perm.join(', ')}] is not a permutation of the axes of ${shapeStr(x.shape)}`);
  }
  const out = new Tensor(
    x.data,
    perm.map((p) => x.shape[p]),
    perm.map((p) => x.strides[p]),
    x.offset,
  );
  const inverse = new Array<number>(perm.length);
  perm.forEach((p, i) => (inverse[p] = i));
  return record(out, 'permute', [x], (dy) => [permute(dy, inverse)]);
}

export function transpose(x: Tensor, a = -2, b = -1): Tensor {
  const ra = a < 0 ? a + x.rank : a;
  const rb = b < 0 ? b + x.rank : b;
  if (ra < 0 || rb < 0 || ra >= x.rank || rb >= x.rank) throw new ShapeError(`transpose: axes ${a}, ${b} out of range for ${shapeStr(x.shape)}`);
  const perm = x.shape.map((_, i) => i);
  perm[ra] = rb;
  perm[rb] = ra;
  return permute(x, perm);
}

/** Broadcast view to shape (size-1 axes repeat with stride 0). */
export function expand(x: Tensor, shape: number[]): Tensor {
  if (sameShape(x.shape, shape)) return x;
  const target = broadcastShapes('expand', x.shape, shape);
  if (!sameShape(target, shape)) throw new ShapeError(`expand: cannot expand ${shapeStr(x.shape)} to ${shapeStr(shape)}`);
  const lead = shape.length - x.rank;
  const strides = shape.map((d, i) => (i < lead || (x.shape[i - lead] === 1 && d !== 1) ? 0 : x.strides[i - lead]));
  const out = new Tensor(x.data, shape, strides, x.offset);
  return record(out, 'expand', [x], (dy) => [sumTo(dy, x.shape)]);
}

/** The view of a tensor of shape base at (offset, strides) relative to its contiguous layout. */
interface StridedRegion {
  shape: number[];
  offset: number;
  strides: number[];
}

/** Reads region of x (x viewed as contiguous): the adjoint of scatterRegion. */
export function gatherRegion(x: Tensor, region: StridedRegion): Tensor {
  const src = contiguous(x);
  const out = new Tensor(src.data, region.shape, region.strides, src.offset + region.offset);
  return record(out, 'gatherRegion', [src], (dy) => [scatterRegion(dy, src.shape, region)]);
}

/** Zeros of baseShape with x added into region: the adjoint of gatherRegion. */
export function scatterRegion(x: Tensor, baseShape: number[], region: StridedRegion): Tensor {
  const out = zeros(baseShape, x.dtype);
  kernels(x.dtype).stridedScatterAdd(x.values(), region.shape, region.offset, region.strides, out.data);
  return record(out, 'scatterRegion', [x], (dy) => [gatherRegion(dy, region)]);
}

function sliceRegion(shape: number[], axis: number, start: number, end: number, step: number): StridedRegion {
  const strides = contiguousStrides(shape);
  const outShape = [...shape];
  outShape[axis] = Math.max(0, Math.ceil((end - start) / step));
  const outStrides = [...strides];
  outStrides[axis] *= step;
  return { shape: outShape, offset: start * strides[axis], strides: outStrides };
}

/** x[..., start:end:step, ...] along axis (a view when x is contiguous). */
export function slice(x: Tensor, axisArg: number, start: number, end: number, step = 1): Tensor {
  const axis = axisArg < 0 ? axisArg + x.rank : axisArg;
  const n = x.shape[axis];
  if (axis < 0 || axis >= x.rank) throw new ShapeError(`slice: axis ${axisArg} out of range for ${shapeStr(x.shape)}`);
  if (!Number.isInteger(step) || step < 1) throw new ShapeError(`slice: step must be a positive integer, got ${step}`);
  const s = Math.min(Math.max(start < 0 ? start + n : start, 0), n);
  const e = Math.min(Math.max(end < 0 ? end + n : end, s), n);
  return gatherRegion(x, sliceRegion(x.shape, axis, s, e, step));
}

/** Zero padding: pads[i] = [before, after] for axis i (missing trailing axes unpadded). */
export function pad(x: Tensor, pads: [number, number][]): Tensor {
  if (pads.length > x.rank || pads.some(([a, b]) => !Number.isInteger(a) || !Number.isInteger(b) || a < 0 || b < 0)) {
    throw new ShapeError(`pad: pads ${JSON.stringify(pads)} do not fit ${shapeStr(x.shape)}: expected [before, after] >= 0 per axis`);
  }
  const full = x.shape.map((d, i) => d + (pads[i]?.[0] ?? 0) + (pads[i]?.[1] ?? 0));
  const strides = contiguousStrides(full);
  const offset = x.shape.reduce((acc, _, i) => acc + (pads[i]?.[0] ?? 0) * strides[i], 0);
  return scatterRegion(x, full, { shape: [...x.shape], offset, strides });
}

/** Joins tensors along axis; all other axes must agree. */
export function concat(xs: Tensor[], axisArg: number): Tensor {
  if (xs.length === 0) throw new ShapeError('concat: no tensors given');
  const rank = xs[0].rank;
  const axis = axisArg < 0 ? axisArg + rank : axisArg;
  for (const t of xs) {
    if (t.rank !== rank || t.dtype !== xs[0].dtype || t.shape.some((d, i) => i !== axis && d !== xs[0].shape[i])) {
      throw new ShapeError(`concat: ${xs.map((u) => `${u.dtype} ${shapeStr(u.shape)}`).join(', ')} differ outside axis ${axisArg}`);
    }
  }
  const full = [...xs[0].shape];
  full[axis] = xs.reduce((p, t) => p + t.shape[axis], 0);
  const strides = contiguousStrides(full);
  const out = zeros(full, xs[0].dtype);
  const starts: number[] = [];
  let start = 0;
  for (const t of xs) {
    starts.push(start);
    kernels(t.dtype).stridedScatterAdd(t.values(), t.shape, start * strides[axis], strides, out.data);
    start += t.shape[axis];
  }
  return record(out, 'concat', xs, (dy) => xs.map((t, i) => slice(dy, axis, starts[i], starts[i] + t.shape[axis])));
}

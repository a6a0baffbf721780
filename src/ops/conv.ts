// Convolution and pooling on NCHW tensors, each with its gradient beside it.
//
// NCHW (not NHWC) because the paper's models are PyTorch models: weights load in their
// native OIHW layout, flatten order before the classifier matches, and im2col + GEMM
// works on it directly.
import { isGradEnabled, record } from '../autograd/tape.ts';
import { kernels } from '../backend/registry.ts';
import type { ConvGeom, PoolGeom } from '../backend/kernels.ts';
import { type Tensor, uninitialized, zeros } from '../tensor/tensor.ts';
import { shapeStr } from '../tensor/shape.ts';
import { ShapeError } from '../util/errors.ts';
import { checkSameDtype, maskPositive } from './elementwise.ts';
import { sum } from './reduce.ts';

export interface Conv2dOptions {
  stride?: number | [number, number];
  padding?: number | [number, number];
}

function pair(v: number | [number, number] | undefined, fallback: number): [number, number] {
  if (v === undefined) return [fallback, fallback];
  return typeof v === 'number' ? [v, v] : v;
}

function convGeom(x: Tensor, w: Tensor, opts: Conv2dOptions): ConvGeom {
  const [strideH, strideW] = pair(opts.stride, 1);
  const [padH, padW] = pair(opts.padding, 0);
  if (x.rank !== 4 || w.rank !== 4 || x.shape[1] !== w.shape[1]) {
    throw new ShapeError(`conv2d: input ${shapeStr(x.shape)} and weight ${shapeStr(w.shape)}: expected [N, C, H, W] and [OC, C, KH, KW]`);
  }
  const [n, c, h, wd] = x.shape;
  const [oc, , kh, kw] = w.shape;
  const oh = Math.floor((h + 2 * padH - kh) / strideH) + 1;
  const ow = Math.floor((wd + 2 * padW - kw) / strideW) + 1;
  if (oh < 1 || ow < 1 || strideH < 1 || strideW < 1 || padH < 0 || padW < 0) {
    throw new ShapeError(`conv2d: kernel ${kh}x${kw}, stride ${strideH}x${strideW}, padding ${padH}x${padW} do not fit input ${shapeStr(x.shape)}`);
  }
  return { n, c, h, w: wd, oc, kh, kw, strideH, strideW, padH, padW, oh, ow };
}

// x: [N, C, H, W], w: [OC, C, KH, KW] -> [N, OC, OH, OW]
export function conv2d(x: Tensor, w: Tensor, opts: Conv2dOptions = {}): Tensor {
  checkSameDtype('conv2d', x, w);
  const g = convGeom(x, w, opts);
  return convForward(x, w, g);
}

/**
 * A convolution layer in one kernel: conv2d(x, w) + bias per output channel, then ReLU
 * when relu is true. Saves the two elementwise passes (and their tensors) of the composite.
 * x: [N, C, H, W], w: [OC, C, KH, KW], bias: [OC] or null -> [N, OC, OH, OW]
 */
export function conv2dFused(x: Tensor, w: Tensor, bias: Tensor | null, opts: Conv2dOptions = {}, relu = false): Tensor {
  checkSameDtype('conv2d', x, w);
  if (bias) checkSameDtype('conv2d', x, bias);
  const g = convGeom(x, w, opts);
  if (bias && (bias.rank !== 1 || bias.shape[0] !== g.oc)) {
    throw new ShapeError(`conv2d: bias ${shapeStr(bias.shape)} for weight ${shapeStr(w.shape)}: expected [${g.oc}]`);
  }
  const out = uninitialized([g.n, g.oc, g.oh, g.ow], x.dtype);
  kernels(x.dtype).conv2dFused(x.values(), w.values(), bias ? bias.values() : null, g, relu, out.data);
  const inputs = bias ? [x, w, bias] : [x, w];
  return record(out, relu ? 'conv2dBiasRelu' : 'conv2dBias', inputs, (dy) => {
    if (!isGradEnabled()) return fusedBackward(x, w, bias, out, dy, g, relu);
    // Recording a graph: through differentiable ops, so second derivatives need no rule
    // of their own.
    const dz = relu ? maskPositive(out, dy) : dy;
    const grads = [x.requiresGrad ? convBackwardInput(dz, w, g) : null, w.requiresGrad ? convBackwardWeight(x, dz, g) : null];
    return bias ? [...grads, bias.requiresGrad ? sum(dz, [0, 2, 3]) : null] : grads;
  });
}

// The gradients of conv2dFused in one kernel, when no graph is recorded: the ReLU mask
// and the bias sum never become tensors of their own.
function fusedBackward(x: Tensor, w: Tensor, bias: Tensor | null, out: Tensor, dy: Tensor, g: ConvGeom, relu: boolean): (Tensor | null)[] {
  const dx = x.requiresGrad ? uninitialized(x.shape, x.dtype) : null;
  const dw = w.requiresGrad ? uninitialized(w.shape, w.dtype) : null;
  const db = bias?.requiresGrad ? uninitialized(bias.shape, bias.dtype) : null;
  kernels(x.dtype).conv2dFusedBackward(
    x.values(),
    w.values(),
    out.values(),
    dy.values(),
    g,
    relu,
    dx?.data ?? null,
    dw?.data ?? null,
    db?.data ?? null,
  );
  return bias ? [dx, dw, db] : [dx, dw];
}

function convForward(x: Tensor, w: Tensor, g: ConvGeom): Tensor {
  const out = zeros([g.n, g.oc, g.oh, g.ow], x.dtype);
  kernels(x.dtype).conv2d(x.values(), w.values(), g, out.data);
  return record(out, 'conv2d', [x, w], (dy) => [
    x.requiresGrad ? convBackwardInput(dy, w, g) : null,
    w.requiresGrad ? convBackwardWeight(x, dy, g) : null,
  ]);
}

// Linear in both arguments, so its gradients are the other two convolution kernels.
function convBackwardInput(dy: Tensor, w: Tensor, g: ConvGeom): Tensor {
  const dx = zeros([g.n, g.c, g.h, g.w], dy.dtype);
  kernels(dy.dtype).conv2dBackwardInput(dy.values(), w.values(), g, dx.data);
  return record(dx, 'conv2dBackwardInput', [dy, w], (gx) => [convForward(gx, w, g), convBackwardWeight(gx, dy, g)]);
}

function convBackwardWeight(x: Tensor, dy: Tensor, g: ConvGeom): Tensor {
  const dw = zeros([g.oc, g.c, g.kh, g.kw], x.dtype);
  kernels(x.dtype).conv2dBackwardWeight(x.values(), dy.values(), g, dw.data);
  return record(dw, 'conv2dBackwardWeight', [x, dy], (gw) => [convBackwardInput(dy, gw, g), convForward(x, gw, g)]);
}

export interface Pool2dOptions {
  kernel: number | [number, number];
  stride?: number | [number, number]; // default: the kernel size, as in PyTorch
  padding?: number | [number, number];
}

function poolGeom(op: string, x: Tensor, opts: Pool2dOptions): PoolGeom {
  const [kh, kw] = pair(opts.kernel, 1);
  const [strideH, strideW] = pair(opts.stride, 0).map((s, i) => (s === 0 ? [kh, kw][i] : s));
  const [padH, padW] = pair(opts.padding, 0);
  if (x.rank !== 4) throw new ShapeError(`${op}: input ${shapeStr(x.shape)}: expected [N, C, H, W]`);
  const [n, c, h, w] = x.shape;
  const oh = Math.floor((h + 2 * padH - kh) / strideH) + 1;
  const ow = Math.floor((w + 2 * padW - kw) / strideW) + 1;
  if (oh < 1 || ow < 1 || padH * 2 > kh || padW * 2 > kw) {
    throw new ShapeError(`${op}: kernel ${kh}x${kw}, stride ${strideH}x${strideW}, padding ${padH}x${padW} do not fit input ${shapeStr(x.shape)}`);
  }
  return { n, c, h, w, kh, kw, strideH, strideW, padH, padW, oh, ow };
}

// x: [N, C, H, W] -> [N, C, OH, OW]
export function maxPool2d(x: Tensor, opts: Pool2dOptions): Tensor {
  const g = poolGeom('maxPool2d', x, opts);
  const out = uninitialized([g.n, g.c, g.oh, g.ow], x.dtype);
  const argmax = new Int32Array(out.size);
  kernels(x.dtype).maxPool2d(x.values(), g, out.data, argmax);
  return record(out, 'maxPool2d', [x], (dy) => [scatterArgmax(dy, argmax, x.shape)]);
}

// dy: pooled shape -> shape, dy added at the argmax positions; adjoint of gatherArgmax
function scatterArgmax(dy: Tensor, argmax: Int32Array, shape: number[]): Tensor {
  const dx = uninitialized(shape, dy.dtype);
  kernels(dy.dtype).maxPool2dBackward(dy.values(), argmax, dx.data);
  return record(dx, 'maxPool2dBackward', [dy], (g) => [gatherArgmax(g, argmax, dy.shape)]);
}

function gatherArgmax(g: Tensor, argmax: Int32Array, shape: number[]): Tensor {
  const out = zeros(shape, g.dtype);
  kernels(g.dtype).gatherIndex(g.values(), argmax, out.data);
  return record(out, 'gatherIndex', [g], (dy) => [scatterArgmax(dy, argmax, g.shape)]);
}

// x: [N, C, H, W] -> [N, C, OH, OW]; padding counts in the divisor (count_include_pad)
export function avgPool2d(x: Tensor, opts: Pool2dOptions): Tensor {
  return avgPoolForward(x, poolGeom('avgPool2d', x, opts), false);
}

// x: [N, C, H, W] -> [N, C, OH, OW] with PyTorch's adaptive windows
export function adaptiveAvgPool2d(x: Tensor, oh: number, ow: number): Tensor {
  if (x.rank !== 4 || !(oh >= 1 && ow >= 1))
    throw new ShapeError(`adaptiveAvgPool2d: input ${shapeStr(x.shape)} to ${oh}x${ow}: expected [N, C, H, W] and a positive size`);
  const [n, c, h, w] = x.shape;
  return avgPoolForward(x, { n, c, h, w, kh: 0, kw: 0, strideH: 0, strideW: 0, padH: 0, padW: 0, oh, ow }, true);
}

function avgPoolForward(x: Tensor, g: PoolGeom, adaptive: boolean): Tensor {
  const out = zeros([g.n, g.c, g.oh, g.ow], x.dtype);
  kernels(x.dtype).avgPool2d(x.values(), g, adaptive, out.data);
  return record(out, 'avgPool2d', [x], (dy) => [avgPoolBackward(dy, g, adaptive)]);
}

function avgPoolBackward(dy: Tensor, g: PoolGeom, adaptive: boolean): Tensor {
  const dx = zeros([g.n, g.c, g.h, g.w], dy.dtype);
  kernels(dy.dtype).avgPool2dBackward(dy.values(), g, adaptive, dx.data);
  return record(dx, 'avgPool2dBackward', [dy], (gx) => [avgPoolForward(gx, g, adaptive)]);
}

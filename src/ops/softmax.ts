// Softmax, log-softmax and the fused softmax-cross-entropy, over the last axis.
import { isGradEnabled, record } from '../autograd/tape.ts';
import { kernels } from '../backend/registry.ts';
import { type Tensor, zeros } from '../tensor/tensor.ts';
import { shapeStr } from '../tensor/shape.ts';
import { ShapeError } from '../util/errors.ts';
import { mul, sub } from './elementwise.ts';
import { sum } from './reduce.ts';

function rowsCols(op: string, x: Tensor): [number, number] {
  if (x.rank < 1) throw new ShapeError(`${op}: expected at least one axis, got a scalar`);
  const cols = x.shape[x.rank - 1];
  return [cols === 0 ? 0 : x.size / cols, cols];
}

export function softmax(x: Tensor): Tensor {
  const [rows, cols] = rowsCols('softmax', x);
  const out = zeros(x.shape, x.dtype);
  kernels(x.dtype).softmax(x.values(), rows, cols, out.data);
  // dx = y * (dy - sum(dy * y))
  return record(out, 'softmax', [x], (dy) => [mul(out, sub(dy, sum(mul(dy, out), -1, true)))]);
}

export function logSoftmax(x: Tensor): Tensor {
  const [rows, cols] = rowsCols('logSoftmax', x);
  const out = zeros(x.shape, x.dtype);
  kernels(x.dtype).logSoftmax(x.values(), rows, cols, out.data);
  // dx = dy - softmax(x) * sum(dy)
  return record(out, 'logSoftmax', [x], (dy) => [sub(dy, mul(out.exp(), sum(dy, -1, true)))]);
}

/** One-hot rows of length cols for the labels (no gradient). */
export function oneHot(labels: Int32Array, cols: number, dtype: Tensor['dtype']): Tensor {
  const t = zeros([labels.length, cols], dtype);
  labels.forEach((c, r) => (t.data[r * cols + c] = 1));
  return t;
}

function checkLabels(logits: Tensor, labels: Int32Array): [number, number] {
  if (logits.rank !== 2 || labels.length !== logits.shape[0]) {
    throw new ShapeError(`crossEntropy: logits ${shapeStr(logits.shape)} and ${labels.length} labels: expected [B, C] logits and B labels`);
  }
  const cols = logits.shape[1];
  labels.forEach((c, i) => {
    if (!Number.isInteger(c) || c < 0 || c >= cols) throw new ShapeError(`crossEntropy: label ${c} at position ${i} is outside [0, ${cols})`);
  });
  return [logits.shape[0], cols];
}

/** Per-example cross-entropy -log softmax(logits)[label]: [B, C] -> [B]. */
export function crossEntropyPerExample(logits: Tensor, labels: Int32Array): Tensor {
  const [rows, cols] = checkLabels(logits, labels);
  const loss = zeros([rows], logits.dtype);
  const probs = zeros([rows, cols], logits.dtype);
  kernels(logits.dtype).softmaxCrossEntropy(logits.values(), labels, rows, cols, loss.data, probs.data);
  return record(loss, 'softmaxCrossEntropy', [logits], (dy) => {
    // With createGraph the probabilities must themselves be differentiable.
    const p = isGradEnabled() ? softmax(logits) : probs;
    return [mul(sub(p, oneHot(labels, cols, logits.dtype)), dy.reshape([rows, 1]))];
  });
}

/** Mean cross-entropy over the batch (PyTorch's F.cross_entropy default). */
export function crossEntropy(logits: Tensor, labels: Int32Array): Tensor {
  return crossEntropyPerExample(logits, labels).mean();
}

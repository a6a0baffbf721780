// The reference backend: every kernel as plain loops. It is the specification that
// faster backends are tested against, and it runs float64 for gradient checks.
import type { Backend } from '../backend.ts';
import type { Kernels } from '../kernels.ts';
import { batchNorm, batchNormBackward } from './batchnorm.ts';
import { conv2d, conv2dBackwardInput, conv2dBackwardWeight, conv2dFused, conv2dFusedBackward } from './conv.ts';
import { affine, binary, clamp, clampBackward, scaledSum, scaledSumOuter, unary } from './elementwise.ts';
import { linear, matmul } from './linalg.ts';
import { adamUpdate, sgdUpdate } from './optim.ts';
import { avgPool2d, avgPool2dBackward, gatherIndex, maxPool2d, maxPool2dBackward } from './pool.ts';
import { logSoftmax, reduce, softmax, softmaxCrossEntropy } from './reduce.ts';
import { stridedCopy, stridedScatterAdd } from './strided.ts';

export const refKernels: Kernels = {
  matmul,
  binary,
  unary,
  affine,
  scaledSum,
  scaledSumOuter,
  reduce,
  stridedCopy,
  stridedScatterAdd,
  softmax,
  logSoftmax,
  softmaxCrossEntropy,
  conv2d,
  conv2dFused,
  conv2dBackwardInput,
  conv2dBackwardWeight,
  conv2dFusedBackward,
  maxPool2d,
  maxPool2dBackward,
  gatherIndex,
  avgPool2d,
  avgPool2dBackward,
  clamp,
  clampBackward,
  linear,
  batchNorm,
  batchNormBackward,
  adamUpdate,
  sgdUpdate,
};

export const refBackend: Backend = {
  name: 'ref',
  dtypes: ['float32', 'float64'],
  kernels: refKernels,
  threads: 1,
  describe: () => 'ref (plain TypeScript loops, 1 thread)',
};

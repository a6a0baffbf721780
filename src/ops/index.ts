// Every differentiable op, for the library API.
export { add, addRelu, sub, mul, div, affine, maximum, minimum, eq, gt, maskPositive, unaryOp, clamp } from './elementwise.ts';
export { sum, mean, max, sumTo } from './reduce.ts';
export { contiguous, reshape, flatten, permute, transpose, expand, slice, pad, concat, gatherRegion, scatterRegion } from './movement.ts';
export { matmul, linear } from './linalg.ts';
export { softmax, logSoftmax, crossEntropy, crossEntropyPerExample, oneHot } from './softmax.ts';
export { conv2d, conv2dFused, maxPool2d, avgPool2d, adaptiveAvgPool2d, type Conv2dOptions, type Pool2dOptions } from './conv.ts';
export { batchNorm, dropout, type BatchNormState } from './norm.ts';

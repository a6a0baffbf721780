// spurlab's library API.
export { Tensor, tensor, fromArray, zeros, ones, full, scalar, randn, uniform, type RandomSource, type DType, type FloatArray } from './tensor/tensor.ts';
export * as ops from './ops/index.ts';
export { grad, backward, noGrad, withGradMode, isGradEnabled } from './autograd/tape.ts';
export { hessianVectorProduct } from './autograd/hvp.ts';
export { gradCheck, hvpCheck } from './autograd/gradcheck.ts';
export { activeBackend, setBackend, withBackend, kernels } from './backend/registry.ts';
export type { Backend } from './backend/backend.ts';
export type { Kernels } from './backend/kernels.ts';
export { UserError } from './util/errors.ts';
export { version } from './version.ts';

// The contract between the engine and a compute backend.
//
// A kernel works on flat, contiguous typed arrays and plain integers; it never sees a
// Tensor, never allocates its output (the caller passes `out`, zero-filled) and never
// records gradients. A kernel marked "overwrites" writes every element of those outputs
// instead, so the caller may pass them uninitialized (no zero fill of a large tensor). Shapes, broadcasting and autograd live in the op layer (src/ops).
// The reference backend (src/backend/ref) implements every kernel with plain loops and
// is the specification; a faster backend may implement a subset, for float32 only, and
// the registry falls back to the reference for the rest.

export type DType = 'float32' | 'float64';
export type FloatArray = Float32Array | Float64Array;

/**
 * Elementwise binary ops. `maskPos`: out = a > 0 ? b : 0 (the ReLU gradient); `addRelu`:
 * out = relu(a + b) (a residual block's sum and ReLU in one pass; NaN -> 0, as relu).
 */
export const BINARY_OPS = ['add', 'sub', 'mul', 'div', 'max', 'min', 'eq', 'gt', 'maskPos', 'pow', 'addRelu'] as const;
export type BinaryOp = (typeof BINARY_OPS)[number];

/** Elementwise unary ops; `step`: out = x > 0 ? 1 : 0. */
export const UNARY_OPS = ['neg', 'exp', 'log', 'relu', 'sqrt', 'rsqrt', 'abs', 'sign', 'step', 'square', 'reciprocal', 'tanh', 'sigmoid'] as const;
export type UnaryOp = (typeof UNARY_OPS)[number];

export const REDUCE_OPS = ['sum', 'max'] as const;
export type ReduceOp = (typeof REDUCE_OPS)[number];

/** Geometry of a 2-d convolution on NCHW input with OIHW weights. */
export interface ConvGeom {
  n: number;
  c: number;
  h: number;
  w: number; // input  [N, C, H, W]
  oc: number;
  kh: number;
  kw: number; // weight [OC, C, KH, KW]
  strideH: number;
  strideW: number;
  padH: number;
  padW: number;
  oh: number;
  ow: number; // output [N, OC, OH, OW]
}

/** Geometry of a 2-d pooling window on NCHW input. */
export interface PoolGeom {
  n: number;
  c: number;
  h: number;
  w: number; // input  [N, C, H, W]
  kh: number;
  kw: number;
  strideH: number;
  strideW: number;
  padH: number;
  padW: number;
  oh: number;
  ow: number; // output [N, C, OH, OW]
}

export interface AdamArgs {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number; // added to the gradient (torch.optim.Adam, not AdamW)
  step: number; // 1-based step count after this update
  clip: number; // clamp each gradient element to [-clip, clip] first when > 0
}

export interface SgdArgs {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  firstStep: boolean; // torch initializes the momentum buffer to the gradient on the first step
  clip: number;
}

export interface Kernels {
  // a: [M, K] (or [K, M] when transA), b: [K, N] (or [N, K] when transB) -> out: [M, N]
  matmul(a: FloatArray, b: FloatArray, m: number, k: number, n: number, transA: boolean, transB: boolean, out: FloatArray): void;

  // Broadcasting binary op. a and b are read through strides over outShape (a stride of 0
  // repeats the element); aOffset/bOffset are the element offsets of their first element.
  // out: contiguous, outShape.
  binary(
    op: BinaryOp,
    a: FloatArray,
    aOffset: number,
    aStrides: number[],
    b: FloatArray,
    bOffset: number,
    bStrides: number[],
    outShape: number[],
    out: FloatArray,
  ): void;

  // x, out: same length, contiguous.
  unary(op: UnaryOp, x: FloatArray, out: FloatArray): void;

  // out = x * alpha + beta, elementwise (scalar ops without a broadcast tensor).
  affine(x: FloatArray, alpha: number, beta: number, out: FloatArray): void;

  // out = x * alpha + y + z, elementwise, all of one length (one pass where affine and two
  // adds would make three: the LiSSA update h <- (1 - damp) h + v + H-term).
  scaledSum(x: FloatArray, alpha: number, y: FloatArray, z: FloatArray, out: FloatArray): void;

  // x, y, out: [M, N]; a: [K, M]; b: [K, N]; out = x * alpha + y + a^T b, in double per
  // element, the K products summed in order (r = 0..K-1) and then added last. The LiSSA
  // update with a one- or two-example Hessian term (rank K outer products) in one pass
  // over the weight block, where a GEMM into scratch and scaledSum make three. For small K.
  scaledSumOuter(x: FloatArray, alpha: number, y: FloatArray, a: FloatArray, b: FloatArray, m: number, k: number, n: number, out: FloatArray): void;

  // Reduce x (contiguous, shape) over the axes where reduceMask is true; out has the
  // shape with those axes set to 1 (keepdims), contiguous.
  reduce(op: ReduceOp, x: FloatArray, shape: number[], reduceMask: boolean[], out: FloatArray): void;

  // Strided gather: out (contiguous, shape) [i...] = x[offset + sum(i_d * strides[d])].
  // Used for contiguous(), permute, strided slices and broadcast materialisation.
  stridedCopy(x: FloatArray, offset: number, strides: number[], shape: number[], out: FloatArray): void;

  // Strided scatter-add, the adjoint of stridedCopy for injective strides:
  // out[offset + sum(i_d * strides[d])] += x[i...]. out is the larger buffer.
  stridedScatterAdd(x: FloatArray, shape: number[], offset: number, strides: number[], out: FloatArray): void;

  // Along the last axis of x: [rows, cols].
  softmax(x: FloatArray, rows: number, cols: number, out: FloatArray): void;
  logSoftmax(x: FloatArray, rows: number, cols: number, out: FloatArray): void;

  // logits: [rows, cols], labels: rows class indices in [0, cols) ->
  // loss: [rows] (-log softmax at the label), probs: [rows, cols] softmax.
  softmaxCrossEntropy(logits: FloatArray, labels: Int32Array, rows: number, cols: number, loss: FloatArray, probs: FloatArray): void;

  // x: [N, C, H, W], w: [OC, C, KH, KW] -> out: [N, OC, OH, OW] (no bias)
  conv2d(x: FloatArray, w: FloatArray, g: ConvGeom, out: FloatArray): void;
  // Fused convolution layer: conv2d, plus bias: [OC] (or null) per output channel, then
  // ReLU when relu is true; overwrites out: [N, OC, OH, OW].
  conv2dFused(x: FloatArray, w: FloatArray, bias: FloatArray | null, g: ConvGeom, relu: boolean, out: FloatArray): void;
  // dy: [N, OC, OH, OW], w: [OC, C, KH, KW] -> dx: [N, C, H, W]
  conv2dBackwardInput(dy: FloatArray, w: FloatArray, g: ConvGeom, dx: FloatArray): void;
  // x: [N, C, H, W], dy: [N, OC, OH, OW] -> dw: [OC, C, KH, KW]
  conv2dBackwardWeight(x: FloatArray, dy: FloatArray, g: ConvGeom, dw: FloatArray): void;
  // The backward of conv2dFused in one call, with dz = dy, or out > 0 ? dy : 0 when relu
  // (out: conv2dFused's output); overwrites dx with conv2dBackwardInput(dz), dw with
  // conv2dBackwardWeight(x, dz) and db: [OC] with dz summed over N, OH and OW. A null
  // gradient is not computed.
  conv2dFusedBackward(
    x: FloatArray,
    w: FloatArray,
    out: FloatArray,
    dy: FloatArray,
    g: ConvGeom,
    relu: boolean,
    dx: FloatArray | null,
    dw: FloatArray | null,
    db: FloatArray | null,
  ): void;

  // x: [N, C, H, W] -> out: [N, C, OH, OW], argmax: [N, C, OH, OW] flat index into x;
  // overwrites both. Padding counts as -Infinity. Ties take the first maximum in
  // row-major window order.
  maxPool2d(x: FloatArray, g: PoolGeom, out: FloatArray, argmax: Int32Array): void;
  // dx = 0, then dx[argmax[i]] += dy[i]; overwrites dx: [N, C, H, W]
  maxPool2dBackward(dy: FloatArray, argmax: Int32Array, dx: FloatArray): void;
  // out[i] = g[argmax[i]] (the adjoint of maxPool2dBackward)
  gatherIndex(g: FloatArray, index: Int32Array, out: FloatArray): void;

  // Average over each window; padding counts as zero and is included in the divisor
  // (PyTorch's count_include_pad=True). Adaptive pooling passes adaptive=true and
  // ignores kernel/stride: window i spans [floor(i*H/OH), ceil((i+1)*H/OH)).
  avgPool2d(x: FloatArray, g: PoolGeom, adaptive: boolean, out: FloatArray): void;
  avgPool2dBackward(dy: FloatArray, g: PoolGeom, adaptive: boolean, dx: FloatArray): void;

  // out = clamp(x, lo, hi); clampBackward: dx = lo <= x <= hi ? dy : 0 (as PyTorch)
  clamp(x: FloatArray, lo: number, hi: number, out: FloatArray): void;
  clampBackward(x: FloatArray, dy: FloatArray, lo: number, hi: number, dx: FloatArray): void;

  // Fused linear layer: x: [M, K], w: [N, K], bias: [N] or null -> out: [M, N],
  // out = x @ w^T + bias, then ReLU when relu is true.
  linear(x: FloatArray, w: FloatArray, bias: FloatArray | null, m: number, k: number, n: number, relu: boolean, out: FloatArray): void;

  // Batch norm over x: [N, C, S] (S = H*W, 1 for BatchNorm1d), per channel c.
  // training: batch statistics (biased variance), and runningMean/runningVar updated in
  // place with momentum using the unbiased variance (PyTorch); saveMean/saveInvStd: [C]
  // receive the batch mean and 1/sqrt(var + eps). Eval: running statistics are used and
  // saveMean/saveInvStd receive them in the same form. relu: out = max(out, 0) after
  // (NaN -> 0), the BN + ReLU of a ResNet block in one pass.
  batchNorm(
    x: FloatArray,
    gamma: FloatArray,
    beta: FloatArray,
    n: number,
    c: number,
    s: number,
    training: boolean,
    momentum: number,
    eps: number,
    runningMean: FloatArray,
    runningVar: FloatArray,
    out: FloatArray,
    saveMean: FloatArray,
    saveInvStd: FloatArray,
    relu: boolean,
  ): void;
  // Gradients of batchNorm. training=true: through the batch statistics; false: the
  // statistics are constants. dx: [N, C, S], dgamma, dbeta: [C]. reluOut: null, or the
  // output of batchNorm with relu (then dy counts only where reluOut > 0).
  batchNormBackward(
    x: FloatArray,
    dy: FloatArray,
    gamma: FloatArray,
    saveMean: FloatArray,
    saveInvStd: FloatArray,
    n: number,
    c: number,
    s: number,
    training: boolean,
    dx: FloatArray,
    dgamma: FloatArray,
    dbeta: FloatArray,
    reluOut: FloatArray | null,
  ): void;

  // Optimizer updates, in place on param and the state buffers.
  adamUpdate(param: FloatArray, grad: FloatArray, m: FloatArray, v: FloatArray, args: AdamArgs): void;
  sgdUpdate(param: FloatArray, grad: FloatArray, buf: FloatArray, args: SgdArgs): void;
}

export type KernelName = keyof Kernels;

/** Every kernel a complete backend provides; the coverage test checks each backend. */
export const KERNEL_NAMES: readonly KernelName[] = [
  'matmul',
  'binary',
  'unary',
  'affine',
  'scaledSum',
  'scaledSumOuter',
  'reduce',
  'stridedCopy',
  'stridedScatterAdd',
  'softmax',
  'logSoftmax',
  'softmaxCrossEntropy',
  'conv2d',
  'conv2dFused',
  'conv2dBackwardInput',
  'conv2dBackwardWeight',
  'conv2dFusedBackward',
  'maxPool2d',
  'maxPool2dBackward',
  'gatherIndex',
  'avgPool2d',
  'avgPool2dBackward',
  'clamp',
  'clampBackward',
  'linear',
  'batchNorm',
  'batchNormBackward',
  'adamUpdate',
  'sgdUpdate',
];

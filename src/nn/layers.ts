// The layers the paper's models are built from.
import { Tensor, zeros, type RandomSource } from '../tensor/tensor.ts';
import * as ops from '../ops/index.ts';
import { isGradEnabled } from '../autograd/tape.ts';
import { Module } from './module.ts';
import { constant, torchDefaultUniform } from './init.ts';

export class Linear extends Module {
  weight: Tensor; // [out, in]
  bias: Tensor | null; // [out]

  constructor(inFeatures: number, outFeatures: number, rng: RandomSource, opts: { bias?: boolean } = {}) {
    super();
    this.weight = this.param('weight', torchDefaultUniform([outFeatures, inFeatures], inFeatures, rng));
    this.bias = opts.bias === false ? null : this.param('bias', torchDefaultUniform([outFeatures], inFeatures, rng));
  }

  // x: [B, in] -> [B, out]
  forward(x: Tensor): Tensor {
    return ops.linear(x, this.weight, this.bias);
  }

  /** The layer followed by ReLU in one fused kernel. */
  forwardRelu(x: Tensor): Tensor {
    return ops.linear(x, this.weight, this.bias, true);
  }
}

export class Conv2d extends Module {
  weight: Tensor; // [out, in, k, k]
  bias: Tensor | null; // [out]

  /** opts.relu: the layer is followed by ReLU, applied inside the convolution's kernel. */
  constructor(
    inChannels: number,
    outChannels: number,
    kernel: number,
    rng: RandomSource,
    readonly opts: { stride?: number; padding?: number; bias?: boolean; relu?: boolean } = {},
  ) {
    super();
    const fanIn = inChannels * kernel * kernel;
    this.weight = this.param('weight', torchDefaultUniform([outChannels, inChannels, kernel, kernel], fanIn, rng));
    this.bias = opts.bias === false ? null : this.param('bias', torchDefaultUniform([outChannels], fanIn, rng));
  }

  // x: [N, in, H, W] -> [N, out, OH, OW]
  forward(x: Tensor): Tensor {
    return ops.conv2dFused(x, this.weight, this.bias, { stride: this.opts.stride, padding: this.opts.padding }, this.opts.relu ?? false);
  }
}

export class BatchNorm2d extends Module {
  weight: Tensor;
  bias: Tensor;
  runningMean: Tensor;
  runningVar: Tensor;

  constructor(
    channels: number,
    readonly momentum = 0.1,
    readonly eps = 1e-5,
  ) {
    super();
    this.weight = this.param('weight', constant([channels], 1));
    this.bias = this.param('bias', zeros([channels]));
    this.runningMean = this.buffer('running_mean', zeros([channels]));
    this.runningVar = this.buffer('running_var', constant([channels], 1));
  }

  forward(x: Tensor): Tensor {
    const state = { runningMean: this.runningMean, runningVar: this.runningVar, momentum: this.momentum, eps: this.eps };
    return ops.batchNorm(x, this.weight, this.bias, state, this.training);
  }

  /** forward(x).relu() in one pass. */
  forwardRelu(x: Tensor): Tensor {
    const state = { runningMean: this.runningMean, runningVar: this.runningVar, momentum: this.momentum, eps: this.eps };
    return ops.batchNorm(x, this.weight, this.bias, state, this.training, true);
  }
}

/**
 * bn(conv(x)), then ReLU when relu is set. In eval mode with no gradient being recorded
 * (evaluation, prediction) batch norm is an affine map per channel, folded into the
 * convolution: weights w * scale, bias (b - mean) * scale + beta with scale = gamma /
 * sqrt(var + eps), computed in double each call (the parameters may have changed) and
 * rounded once; the layer is then one fused kernel with no batch-norm pass over the
 * activations. Agrees with the unfolded layers to float rounding.
 */
export function convBatchNorm(conv: Conv2d, bn: BatchNorm2d, x: Tensor, relu: boolean): Tensor {
  if (bn.training || isGradEnabled() || conv.opts.relu) {
    const y = conv.forward(x);
    return relu ? bn.forwardRelu(y) : bn.forward(y);
  }
  const w = conv.weight.values();
  const [oc] = conv.weight.shape;
  const per = w.length / oc;
  const gamma = bn.weight.values();
  const beta = bn.bias.values();
  const mean = bn.runningMean.values();
  const variance = bn.runningVar.values();
  const b = conv.bias?.values();
  const fw = new Tensor(new Float32Array(w.length), conv.weight.shape);
  const fb = new Tensor(new Float32Array(oc), [oc]);
  for (let o = 0; o < oc; o++) {
    const scale = (1 / Math.sqrt(variance[o] + bn.eps)) * gamma[o];
    for (let i = o * per; i < (o + 1) * per; i++) fw.data[i] = w[i] * scale;
    fb.data[o] = ((b ? b[o] : 0) - mean[o]) * scale + beta[o];
  }
  return ops.conv2dFused(x, fw, fb, { stride: conv.opts.stride, padding: conv.opts.padding }, relu);
}

export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return x.relu();
  }
}

export class MaxPool2d extends Module {
  constructor(
    readonly kernel: number,
    readonly stride = kernel,
  ) {
    super();
  }

  forward(x: Tensor): Tensor {
    return ops.maxPool2d(x, { kernel: this.kernel, stride: this.stride });
  }
}

export class Dropout extends Module {
  /** The trainer points this at its checkpointed generator so resumed runs match. */
  constructor(
    readonly p: number,
    public rng: RandomSource,
  ) {
    super();
  }

  forward(x: Tensor): Tensor {
    return ops.dropout(x, this.p, this.training, this.rng);
  }
}

export class Flatten extends Module {
  forward(x: Tensor): Tensor {
    return x.flatten(1);
  }
}

/** (x - mean) / std per channel, for the "Norm02" models. x: [N, C, H, W] */
export class Normalize extends Module {
  private readonly mean: Tensor;
  private readonly std: Tensor;

  constructor(mean: number[], std: number[]) {
    super();
    this.mean = new Tensor(Float32Array.from(mean), [1, mean.length, 1, 1]);
    this.std = new Tensor(Float32Array.from(std), [1, std.length, 1, 1]);
  }

  forward(x: Tensor): Tensor {
    return x.sub(this.mean).div(this.std);
  }
}

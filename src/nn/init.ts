// Parameter initialisations with PyTorch's definitions.
import { type Tensor, randn, uniform, zeros, type RandomSource } from '../tensor/tensor.ts';

/** fan_in and fan_out of a Linear [out, in] or Conv2d [out, in, kh, kw] weight. */
export function fans(shape: number[]): { fanIn: number; fanOut: number } {
  const receptive = shape.slice(2).reduce((p, d) => p * d, 1);
  return { fanIn: shape[1] * receptive, fanOut: shape[0] * receptive };
}

/** nn.Linear / nn.Conv2d default: weight and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)). */
export function torchDefaultUniform(shape: number[], fanIn: number, rng: RandomSource): Tensor {
  const bound = 1 / Math.sqrt(fanIn);
  return uniform(shape, -bound, bound, rng);
}

/** kaiming_normal_ with the ReLU gain: N(0, 2 / fan). */
export function kaimingNormal(shape: number[], mode: 'fanIn' | 'fanOut', rng: RandomSource): Tensor {
  const f = fans(shape);
  const std = Math.sqrt(2 / (mode === 'fanIn' ? f.fanIn : f.fanOut));
  return randn(shape, rng).mul(std);
}

export function normal(shape: number[], std: number, rng: RandomSource): Tensor {
  return randn(shape, rng).mul(std);
}

export function constant(shape: number[], value: number): Tensor {
  const t = zeros(shape);
  t.data.fill(value);
  return t;
}

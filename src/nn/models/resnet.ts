// CIFAR ResNets (He et al. 2016) with the "option A" shortcut, as in the reference's
// alt_resnet.py: 3 stages of n basic blocks (16/32/64 channels), global average pool,
// fc 64 -> classes; kaiming-normal conv and fc weights. Norm02 variants normalise inputs.
import type { RandomSource, Tensor } from '../../tensor/tensor.ts';
import * as ops from '../../ops/index.ts';
import { Module, Sequential } from '../module.ts';
import { BatchNorm2d, Conv2d, convBatchNorm, Linear, Normalize } from '../layers.ts';
import { kaimingNormal } from '../init.ts';

export const CIFAR_MEAN = [0.4914, 0.4822, 0.4465];
export const CIFAR_STD = [0.2023, 0.1994, 0.201];

function conv3x3(cin: number, cout: number, stride: number, rng: RandomSource): Conv2d {
  const c = new Conv2d(cin, cout, 3, rng, { stride, padding: 1, bias: false });
  c.weight.data.set(kaimingNormal(c.weight.shape, 'fanIn', rng).data);
  return c;
}

class BasicBlock extends Module {
  private readonly conv1: Conv2d;
  private readonly bn1: BatchNorm2d;
  private readonly conv2: Conv2d;
  private readonly bn2: BatchNorm2d;
  private readonly padChannels: number; // option A: zero channels added on each side

  constructor(inPlanes: number, planes: number, stride: number, rng: RandomSource) {
    super();
    this.conv1 = this.child('conv1', conv3x3(inPlanes, planes, stride, rng));
    this.bn1 = this.child('bn1', new BatchNorm2d(planes));
    this.conv2 = this.child('conv2', conv3x3(planes, planes, 1, rng));
    this.bn2 = this.child('bn2', new BatchNorm2d(planes));
    this.padChannels = stride !== 1 || inPlanes !== planes ? planes >> 2 : -1;
  }

  // x: [N, in, H, W] -> [N, planes, H/stride, W/stride]
  forward(x: Tensor): Tensor {
    const out = convBatchNorm(this.conv2, this.bn2, convBatchNorm(this.conv1, this.bn1, x, true), false);
    return ops.addRelu(out, this.shortcut(x));
  }

  private shortcut(x: Tensor): Tensor {
    if (this.padChannels < 0) return x;
    // F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, planes//4, planes//4))
    const sub = x.slice(2, 0, x.shape[2], 2).slice(3, 0, x.shape[3], 2);
    return ops.pad(sub, [
      [0, 0],
      [this.padChannels, this.padChannels],
    ]);
  }
}

export class ResNet extends Module {
  private readonly normalize: Normalize | null;
  private readonly conv1: Conv2d;
  private readonly bn1: BatchNorm2d;
  private readonly layers: Sequential[] = [];
  private readonly linear: Linear;

  constructor(blocksPerStage: number, numClasses: number, rng: RandomSource, normalize: boolean, channels = 3) {
    super();
    this.normalize = normalize ? new Normalize(CIFAR_MEAN, CIFAR_STD) : null;
    this.conv1 = this.child('conv1', conv3x3(channels, 16, 1, rng));
    this.bn1 = this.child('bn1', new BatchNorm2d(16));
    let inPlanes = 16;
    [16, 32, 64].forEach((planes, stage) => {
      const blocks: Module[] = [];
      for (let b = 0; b < blocksPerStage; b++) {
        blocks.push(new BasicBlock(inPlanes, planes, b === 0 && stage > 0 ? 2 : 1, rng));
        inPlanes = planes;
      }
      this.layers.push(this.child(`layer${stage + 1}`, new Sequential(blocks)));
    });
    this.linear = this.child('linear', new Linear(64, numClasses, rng));
    this.linear.weight.data.set(kaimingNormal(this.linear.weight.shape, 'fanIn', rng).data);
  }

  // x: [N, 3, 32, 32] -> logits [N, classes]
  forward(x: Tensor): Tensor {
    let h = this.normalize ? this.normalize.forward(x) : x;
    h = convBatchNorm(this.conv1, this.bn1, h, true);
    for (const layer of this.layers) h = layer.forward(h);
    h = ops.avgPool2d(h, { kernel: h.shape[3] }).flatten(1);
    return this.linear.forward(h);
  }
}

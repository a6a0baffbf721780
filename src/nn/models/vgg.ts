// VGG-16 (configuration D) for CIFAR with "Norm02" input normalisation, as the
// reference's vgg.py: adaptive average pool to 7x7, classifier 25088-4096-4096-classes
// with dropout 0.5; conv kaiming-normal (fan_out), Linear N(0, 0.01), zero biases.
// The reference's Vgg16Norm02 builds vgg16 WITHOUT batch norm; batchNorm=true gives the
// BN variant (features.<i> indices then follow torchvision's vgg16_bn).
import { zeros, type RandomSource, type Tensor } from '../../tensor/tensor.ts';
import * as ops from '../../ops/index.ts';
import { Module, Sequential } from '../module.ts';
import { BatchNorm2d, Conv2d, Dropout, Flatten, Linear, MaxPool2d, Normalize, ReLU } from '../layers.ts';
import { kaimingNormal, normal } from '../init.ts';
import { CIFAR_MEAN, CIFAR_STD } from './resnet.ts';

const CONFIG_D: (number | 'M')[] = [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'];

class AdaptiveAvgPool extends Module {
  constructor(private readonly size: number) {
    super();
  }

  forward(x: Tensor): Tensor {
    return ops.adaptiveAvgPool2d(x, this.size, this.size);
  }
}

export class VGG16 extends Module {
  private readonly normalize = new Normalize(CIFAR_MEAN, CIFAR_STD);
  private readonly features: Sequential;
  private readonly avgpool = new AdaptiveAvgPool(7);
  private readonly classifier: Sequential;

  constructor(numClasses: number, rng: RandomSource, batchNorm: boolean, channels = 3) {
    super();
    const layers: Module[] = [];
    let cin = channels;
    for (const v of CONFIG_D) {
      if (v === 'M') {
        layers.push(new MaxPool2d(2));
        continue;
      }
      const conv = new Conv2d(cin, v, 3, rng, { padding: 1 });
      conv.weight.data.set(kaimingNormal(conv.weight.shape, 'fanOut', rng).data);
      conv.bias!.data.fill(0);
      layers.push(conv);
      if (batchNorm) layers.push(new BatchNorm2d(v));
      layers.push(new ReLU());
      cin = v;
    }
    this.features = this.child('features', new Sequential(layers));
    const linear = (i: number, o: number) => {
      const l = new Linear(i, o, rng);
      l.weight.data.set(normal(l.weight.shape, 0.01, rng).data);
      l.bias!.data.set(zeros(l.bias!.shape).data);
      return l;
    };
    this.classifier = this.child(
      'classifier',
      new Sequential([
        ['0', linear(512 * 7 * 7, 4096)],
        ['1', new ReLU()],
        ['2', new Dropout(0.5, rng)],
        ['3', linear(4096, 4096)],
        ['4', new ReLU()],
        ['5', new Dropout(0.5, rng)],
        ['6', linear(4096, numClasses)],
      ]),
    );
  }

  // x: [N, 3, 32, 32] -> logits [N, classes]
  forward(x: Tensor): Tensor {
    const h = this.avgpool.forward(this.features.forward(this.normalize.forward(x)));
    return this.classifier.forward(new Flatten().forward(h));
  }
}

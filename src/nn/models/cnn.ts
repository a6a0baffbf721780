// CNN002 (the small CNN of TRADES used by the paper) for 28x28 inputs, NCHW, with the
// reference's parameter names (feature_extractor.conv1 ... classifier.fc3).
import { zeros, type RandomSource, type Tensor } from '../../tensor/tensor.ts';
import { Module, Sequential } from '../module.ts';
import { Conv2d, Dropout, Flatten, Linear, MaxPool2d, ReLU } from '../layers.ts';
import { kaimingNormal } from '../init.ts';

export class CNN002 extends Module {
  private readonly featureExtractor: Sequential;
  private readonly classifier: Sequential;

  constructor(channels: number, numClasses: number, rng: RandomSource, dropout = 0.5) {
    super();
    // Each convolution is followed by ReLU, fused into its kernel (relu: true).
    const conv = (cin: number, cout: number) => {
      const c = new Conv2d(cin, cout, 3, rng, { relu: true });
      // kaiming_normal_ (fan_in, ReLU gain) and zero bias, as the reference
      c.weight.data.set(kaimingNormal(c.weight.shape, 'fanIn', rng).data);
      c.bias!.data.fill(0);
      return c;
    };
    this.featureExtractor = this.child(
      'feature_extractor',
      new Sequential([
        ['conv1', conv(channels, 32)],
        ['conv2', conv(32, 32)],
        ['maxpool1', new MaxPool2d(2)],
        ['conv3', conv(32, 64)],
        ['conv4', conv(64, 64)],
        ['maxpool2', new MaxPool2d(2)],
      ]),
    );
    const fc3 = new Linear(200, numClasses, rng);
    fc3.weight.data.set(zeros(fc3.weight.shape).data);
    fc3.bias!.data.fill(0);
    this.classifier = this.child(
      'classifier',
      new Sequential([
        ['flatten', new Flatten()],
        ['fc1', new Linear(64 * 4 * 4, 200, rng)],
        ['relu1', new ReLU()],
        ['drop', new Dropout(dropout, rng)],
        ['fc2', new Linear(200, 200, rng)],
        ['relu2', new ReLU()],
        ['fc3', fc3],
      ]),
    );
  }

  // x: [N, C, 28, 28] -> logits [N, classes]
  forward(x: Tensor): Tensor {
    return this.classifier.forward(this.featureExtractor.forward(x));
  }
}

// The paper's MLPs: ReLU between Linear layers, PyTorch default init, the reference's
// parameter names (hidden, hidden2, hidden3, fc). Input: the HWC image flattened.
import type { RandomSource, Tensor } from '../../tensor/tensor.ts';
import { Module } from '../module.ts';
import { Linear } from '../layers.ts';

export class MLP extends Module {
  private readonly hiddenLayers: Linear[] = [];
  readonly fc: Linear;

  /** widths: hidden layer widths, e.g. [256, 256, 256] for LargeMLP. */
  constructor(inFeatures: number, widths: number[], numClasses: number, rng: RandomSource) {
    super();
    let fanIn = inFeatures;
    widths.forEach((w, i) => {
      this.hiddenLayers.push(this.child(i === 0 ? 'hidden' : `hidden${i + 1}`, new Linear(fanIn, w, rng)));
      fanIn = w;
    });
    this.fc = this.child('fc', new Linear(fanIn, numClasses, rng));
  }

  // x: [B, features] -> logits [B, classes]
  forward(x: Tensor): Tensor {
    let h = x;
    for (const layer of this.hiddenLayers) h = layer.forwardRelu(h);
    return this.fc.forward(h);
  }

  /** The first hidden layer's weight [width, features] (for weight maps). */
  firstLayerWeight(): Tensor {
    return this.hiddenLayers[0].weight;
  }
}

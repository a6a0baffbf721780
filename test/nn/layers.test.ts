// convBatchNorm: batch norm folded into the convolution in eval mode without a gradient
// tape, against the unfolded layers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BatchNorm2d, Conv2d, convBatchNorm } from '../../src/nn/layers.ts';
import { noGrad } from '../../src/autograd/tape.ts';
import { withBackend } from '../../src/backend/registry.ts';
import { SimpleRandom } from '../../src/util/random.ts';
import { assertClose, backendNames, randUniform } from '../helpers.ts';

function layers(bias: boolean, stride: number): { conv: Conv2d; bn: BatchNorm2d } {
  const conv = new Conv2d(5, 7, 3, new SimpleRandom(3), { stride, padding: 1, bias });
  const bn = new BatchNorm2d(7);
  // statistics and affine parameters far from the identity, so a wrong fold shows
  bn.runningMean.data.set(randUniform([7], -1, 1, 4, 'float32').data);
  bn.runningVar.data.set(randUniform([7], 0.2, 3, 5, 'float32').data);
  bn.weight.data.set(randUniform([7], -2, 2, 6, 'float32').data);
  bn.bias.data.set(randUniform([7], -1, 1, 7, 'float32').data);
  return { conv, bn };
}

for (const backend of backendNames()) {
  test(`convBatchNorm folds eval-mode batch norm into the convolution, as the unfolded layers (${backend})`, () => {
    withBackend(backend, () => {
      const x = randUniform([3, 5, 9, 8], -1, 1, 8, 'float32');
      for (const bias of [false, true])
        for (const stride of [1, 2])
          for (const relu of [false, true]) {
            const { conv, bn } = layers(bias, stride);
            bn.eval();
            const unfolded = relu ? bn.forwardRelu(conv.forward(x)) : bn.forward(conv.forward(x)); // tape on: no fold
            const folded = noGrad(() => convBatchNorm(conv, bn, x, relu));
            assert.deepEqual(folded.shape, unfolded.shape);
            assertClose(folded.toArray(), unfolded.toArray(), 1e-5, 1e-5, `bias ${bias} stride ${stride} relu ${relu}`);
            assert.ok(unfolded.toArray().some((v) => Math.abs(v) > 1));
          }
    });
  });
}

test('convBatchNorm does not fold in training mode: the batch statistics and their update stay', () => {
  const { conv, bn } = layers(true, 1);
  const x = randUniform([4, 5, 6, 6], -1, 1, 9, 'float32');
  const twin = layers(true, 1);
  const viaHelper = noGrad(() => convBatchNorm(conv, bn, x, true));
  const direct = noGrad(() => twin.bn.forwardRelu(twin.conv.forward(x)));
  assert.deepEqual(viaHelper.toArray(), direct.toArray());
  assert.deepEqual(bn.runningMean.toArray(), twin.bn.runningMean.toArray());
  assert.notDeepEqual(bn.runningMean.toArray(), layers(true, 1).bn.runningMean.toArray());
});

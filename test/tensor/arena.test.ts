// Recycled storage must not change a single bit of training: steps run inside an arena
// (storage taken back after each) against the same steps with fresh allocations, for a
// model of each kind (dropout, batch norm, convolutions), weights and running stats.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RandomState } from '../../src/data/numpyRandom.ts';
import { createModel } from '../../src/nn/models/index.ts';
import { Adam, SGD } from '../../src/nn/optim/optimizer.ts';
import * as ops from '../../src/ops/index.ts';
import { StorageArena } from '../../src/tensor/arena.ts';
import { allocate, allocateUninitialized, uniform } from '../../src/tensor/tensor.ts';

const MNIST = { height: 28, width: 28, channels: 1, numClasses: 10 };
const CASES = [
  { model: 'LargeMLP', shape: [32, 784], info: MNIST, sgd: false },
  { model: 'CNN002', shape: [6, 1, 28, 28], info: MNIST, sgd: false },
  { model: 'ResNet20', shape: [4, 3, 16, 16], info: { height: 16, width: 16, channels: 3, numClasses: 10 }, sgd: true },
];

function train(c: (typeof CASES)[number], arena: StorageArena | null): Float32Array[] {
  const m = createModel(c.model, c.info, new RandomState(0));
  const opt = c.sgd ? new SGD(m.parameters(), { lr: 0.1, momentum: 0.9, weightDecay: 1e-4 }) : new Adam(m.parameters(), { lr: 0.01 });
  for (let s = 0; s < 3; s++) {
    const step = () => {
      // a different batch every step, so stale storage would show
      const x = uniform(c.shape, 0, 1, new RandomState(10 + s));
      const y = Int32Array.from({ length: c.shape[0] }, (_, i) => (i * 7 + s) % 10);
      m.zeroGrad();
      ops.crossEntropy(m.forward(x), y).backward();
      opt.step();
    };
    if (arena) {
      arena.run(step);
      m.zeroGrad();
      arena.recycle();
    } else {
      step();
    }
  }
  return [...m.stateDict().values()].map((t) => Float32Array.from(t.values()));
}

for (const c of CASES) {
  test(`training steps in a recycling arena give bit-identical weights and buffers (${c.model})`, () => {
    const arena = new StorageArena();
    const want = train(c, null);
    const got = train(c, arena);
    assert.ok(arena.peakBytes > 0, 'the steps took their storage from the arena');
    got.forEach((t, i) => assert.deepEqual(new Uint32Array(t.buffer), new Uint32Array(want[i].buffer), `${c.model}: tensor ${i} differs`));
  });
}

test('the arena reuses storage after recycle, re-zeroes what is asked for zeroed, and nests', () => {
  const arena = new StorageArena();
  const first = arena.run(() => allocateUninitialized('float32', 1000));
  first.fill(7);
  arena.recycle();
  const again = arena.run(() => allocate('float32', 1000));
  assert.equal(again, first, 'the same storage comes back');
  assert.ok(
    again.every((v) => v === 0),
    'zeroed storage is zeroed again',
  );
  arena.recycle();
  assert.equal(arena.run(() => allocateUninitialized('float64', 1000)) instanceof Float64Array, true, 'dtypes are kept apart');
  const inner = new StorageArena();
  const outside = arena.run(() => inner.run(() => allocate('float32', 10)) && allocate('float32', 10));
  assert.equal(arena.peakBytes >= 8000 + 40, true);
  assert.notEqual(outside, null);
  assert.ok(allocate('float32', 1000) !== first, 'outside run() storage is fresh');
});

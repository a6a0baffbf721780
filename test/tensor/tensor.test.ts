import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromArray, full, ones, scalar, tensor, zeros, Tensor } from '../../src/tensor/tensor.ts';
import { broadcastShapes } from '../../src/tensor/shape.ts';

test('creation, dtype, size and item', () => {
  const t = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
  assert.equal(t.dtype, 'float32');
  assert.equal(t.size, 6);
  assert.equal(t.rank, 2);
  assert.deepEqual(t.strides, [3, 1]);
  assert.equal(zeros([2, 2], 'float64').dtype, 'float64');
  assert.deepEqual(ones([2]).toArray(), [1, 1]);
  assert.deepEqual(full([3], 7).toArray(), [7, 7, 7]);
  assert.equal(scalar(5).item(), 5);
  assert.throws(() => t.item(), /item: tensor of shape \[2, 3\] is not a scalar/);
  assert.throws(() => tensor([1, 2, 3], [2, 2]), /3 values do not fill shape \[2, 2\]/);
  assert.throws(() => zeros([2, -1]), /invalid shape \[2, -1\]/);
  const data = new Float32Array([1, 2]);
  assert.equal(fromArray(data, [2]).data, data);
});

test('broadcast shapes follow NumPy rules', () => {
  assert.deepEqual(broadcastShapes('op', [3, 1, 5], [4, 1]), [3, 4, 5]);
  assert.deepEqual(broadcastShapes('op', [], [2, 2]), [2, 2]);
  assert.throws(() => broadcastShapes('op', [3], [4]), /op: shapes \[3\] and \[4\] cannot be broadcast together/);
});

test('views know whether they are contiguous; values() copies only when needed', () => {
  const t = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
  assert.ok(t.isContiguous());
  const tt = t.T;
  assert.ok(!tt.isContiguous());
  assert.deepEqual(Array.from(tt.values()), [1, 4, 2, 5, 3, 6]);
  const row = t.slice(0, 1, 2);
  assert.ok(row.isContiguous());
  assert.equal(row.values().buffer, t.data.buffer);
  assert.deepEqual(Array.from(row.values()), [4, 5, 6]);
  assert.ok(t.detach() instanceof Tensor);
});

test('tensor() takes nested arrays and infers the shape; ragged input is a clear error', () => {
  const t = tensor([
    [1, 2, 3],
    [4, 5, 6],
  ]);
  assert.deepEqual(t.shape, [2, 3]);
  assert.deepEqual(t.toArray(), [1, 2, 3, 4, 5, 6]);
  const cube = tensor(
    [
      [[1], [2]],
      [[3], [4]],
    ],
    undefined,
    'float64',
  );
  assert.deepEqual(cube.shape, [2, 2, 1]);
  assert.equal(cube.dtype, 'float64');
  assert.deepEqual(
    tensor(
      [
        [1, 2],
        [3, 4],
      ],
      [4],
    ).shape,
    [4],
  );
  assert.deepEqual(tensor([[], []]).shape, [2, 0]);
  assert.throws(() => tensor([[1, 2], [3]]), /ragged nested array: element \[1\] has length 1, expected length 2 \(shape \[2, 2\]/);
  assert.throws(() => tensor([[1, 2], 3]), /element \[1\] has number, expected length 2/);
  assert.throws(
    () =>
      tensor([
        [1, [2]],
        [3, 4],
      ]),
    /element \[0\]\[1\] is an array, expected a number/,
  );
  assert.throws(
    () =>
      tensor(
        [
          [1, 2],
          [3, 4],
        ],
        [3],
      ),
    /4 values of shape \[2, 2\] do not fill shape \[3\]/,
  );
});

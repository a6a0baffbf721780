// Forward values of every op: closed forms and hand-computed cases, on every backend.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor, zeros, type Tensor } from '../../src/tensor/tensor.ts';
import * as ops from '../../src/ops/index.ts';
import { withBackend } from '../../src/backend/registry.ts';
import { grad } from '../../src/autograd/tape.ts';
import { assertClose, backendNames, rand } from '../helpers.ts';
import { SimpleRandom } from '../../src/util/random.ts';

const f32 = (t: Tensor) => Array.from(t.values());

for (const backend of backendNames()) {
  describe(`forward on ${backend}`, () => {
    const run = (name: string, fn: () => void) => test(name, () => withBackend(backend, fn));

    run('broadcasting add, sub, mul, div', () => {
      const a = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
      const row = tensor([10, 20, 30], [3]);
      const col = tensor([100, 200], [2, 1]);
      assert.deepEqual(f32(a.add(row)), [11, 22, 33, 14, 25, 36]);
      assert.deepEqual(f32(a.sub(col)), [-99, -98, -97, -196, -195, -194]);
      assert.deepEqual(f32(a.mul(col)), [100, 200, 300, 800, 1000, 1200]);
      assert.deepEqual(f32(col.add(row)), [110, 120, 130, 210, 220, 230]);
      assertClose(f32(a.div(row)), [0.1, 0.1, 0.1, 0.4, 0.25, 0.2], 1e-7, 1e-6);
      assert.deepEqual(a.add(3).toArray(), [4, 5, 6, 7, 8, 9]);
      assert.deepEqual(a.mul(-2).toArray(), [-2, -4, -6, -8, -10, -12]);
    });

    run('broadcasting over odd shapes and transposed views', () => {
      const a = rand([3, 1, 5], 2, 'float32');
      const b = rand([4, 1], 3, 'float32');
      const out = a.add(b);
      assert.deepEqual(out.shape, [3, 4, 5]);
      const av = a.values();
      const bv = b.values();
      for (let i = 0; i < 3; i++)
        for (let j = 0; j < 4; j++)
          for (let k = 0; k < 5; k++) {
            assert.equal(out.values()[(i * 4 + j) * 5 + k], Math.fround(av[i * 5 + k] + bv[j]));
          }
      const m = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
      assert.deepEqual(m.T.add(tensor([0, 10], [2])).toArray(), [1, 14, 2, 15, 3, 16]);
    });

    run('shape errors name the op and both shapes', () => {
      assert.throws(() => tensor([1, 2, 3], [3]).add(tensor([1, 2], [2])), /add: shapes \[3\] and \[2\]/);
      assert.throws(() => ops.matmul(zeros([2, 3]), zeros([2, 3])), /matmul: cannot multiply \[2, 3\] by \[2, 3\]/);
      assert.throws(() => zeros([2], 'float32').add(zeros([2], 'float64')), /add: dtype mismatch, float32 \[2\] vs float64 \[2\]/);
      assert.throws(() => ops.conv2d(zeros([1, 2, 5, 5]), zeros([4, 3, 3, 3])), /conv2d: input \[1, 2, 5, 5\] and weight \[4, 3, 3, 3\]/);
    });

    run('unary ops', () => {
      const x = tensor([-2, -0.5, 0.25, 3], [4], 'float64');
      assert.deepEqual(x.relu().toArray(), [0, 0, 0.25, 3]);
      assert.deepEqual(x.neg().toArray(), [2, 0.5, -0.25, -3]);
      assert.deepEqual(x.abs().toArray(), [2, 0.5, 0.25, 3]);
      assert.deepEqual(x.square().toArray(), [4, 0.25, 0.0625, 9]);
      assertClose(x.exp().toArray(), [-2, -0.5, 0.25, 3].map(Math.exp));
      assertClose(x.abs().log().toArray(), [2, 0.5, 0.25, 3].map(Math.log));
      assertClose(x.abs().sqrt().toArray(), [2, 0.5, 0.25, 3].map(Math.sqrt));
      assertClose(x.tanh().toArray(), [-2, -0.5, 0.25, 3].map(Math.tanh));
      assertClose(
        x.sigmoid().toArray(),
        [-2, -0.5, 0.25, 3].map((v) => 1 / (1 + Math.exp(-v))),
      );
      assert.deepEqual(x.clamp(-1, 1).toArray(), [-1, -0.5, 0.25, 1]);
      assert.deepEqual(ops.maximum(x, tensor([0, 0, 0, 0], [4], 'float64')).toArray(), [0, 0, 0.25, 3]);
      assert.deepEqual(ops.minimum(x, tensor([0, 0, 0, 0], [4], 'float64')).toArray(), [-2, -0.5, 0, 0]);
    });

    run('sum, mean, max over axes', () => {
      const x = tensor([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [2, 3, 2]);
      assert.deepEqual(x.sum().toArray(), [78]);
      assert.deepEqual(x.sum(0).toArray(), [8, 10, 12, 14, 16, 18]);
      assert.deepEqual(x.sum([0, 2]).toArray(), [1 + 2 + 7 + 8, 3 + 4 + 9 + 10, 5 + 6 + 11 + 12]);
      assert.deepEqual(x.sum(-1, true).shape, [2, 3, 1]);
      assert.deepEqual(x.mean(1).toArray(), [3, 4, 9, 10]);
      assert.deepEqual(x.max(1).toArray(), [5, 6, 11, 12]);
      assert.deepEqual(x.max().toArray(), [12]);
      assert.deepEqual(x.T.sum(-1).toArray(), [9, 12, 27, 30]);
    });

    run('matmul with transposed operands, odd sizes', () => {
      for (const [m, k, n] of [
        [1, 1, 1],
        [3, 5, 2],
        [7, 1, 9],
        [17, 33, 13],
      ]) {
        const a = rand([m, k], m, 'float32');
        const b = rand([k, n], n, 'float32');
        const ref: number[] = [];
        const av = a.values();
        const bv = b.values();
        for (let i = 0; i < m; i++)
          for (let j = 0; j < n; j++) {
            let s = 0;
            for (let p = 0; p < k; p++) s += av[i * k + p] * bv[p * n + j];
            ref.push(s);
          }
        assertClose(f32(ops.matmul(a, b)), ref, 1e-5, 1e-5, `matmul ${m}x${k}x${n}`);
        assertClose(f32(ops.matmul(a.T.contiguous().T, b.T.contiguous().T)), ref, 1e-5, 1e-5, 'transposed views');
      }
    });

    run('linear with bias and fused ReLU', () => {
      const x = tensor([1, -1, 2, 0.5], [2, 2]);
      const w = tensor([1, 2, -3, 1, 0, 1], [3, 2]);
      const b = tensor([0.5, 0, -1], [3]);
      // x @ w^T = [[-1, -4, -1], [3, -5.5, 0.5]] + b
      assert.deepEqual(ops.linear(x, w, b).toArray(), [-0.5, -4, -2, 3.5, -5.5, -0.5]);
      assert.deepEqual(ops.linear(x, w, b, true).toArray(), [0, 0, 0, 3.5, 0, 0]);
      assert.deepEqual(ops.linear(x, w, null).toArray(), [-1, -4, -1, 3, -5.5, 0.5]);
    });

    run('softmax, logSoftmax, cross-entropy are stable for large logits', () => {
      const x = tensor([1000, 1001, 1002, -5, 0, 5], [2, 3], 'float64');
      const e = [Math.exp(-2), Math.exp(-1), 1];
      const z = e[0] + e[1] + e[2];
      assertClose(
        ops.softmax(x).toArray().slice(0, 3),
        e.map((v) => v / z),
        1e-12,
        1e-12,
      );
      assertClose(
        ops.logSoftmax(x).toArray().slice(0, 3),
        e.map((v) => Math.log(v / z)),
        1e-12,
        1e-12,
      );
      const loss = ops.crossEntropyPerExample(x, Int32Array.from([0, 2]));
      assertClose(loss.toArray(), [-Math.log(e[0] / z), -Math.log(Math.exp(5) / (Math.exp(-5) + 1 + Math.exp(5)))], 1e-12, 1e-12);
      assertClose(ops.crossEntropy(x, Int32Array.from([0, 2])).toArray(), [loss.toArray().reduce((a, b) => a + b) / 2], 1e-12, 1e-12);
      assert.throws(() => ops.crossEntropy(x, Int32Array.from([0, 3])), /label 3 at position 1 is outside \[0, 3\)/);
    });

    run('conv2d with stride and padding against a hand-computed case', () => {
      // 1x1x3x3 input, 1x1x2x2 weight of ones, padding 1, stride 2 -> 2x2 sums of windows
      const x = tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 1, 3, 3]);
      const w = tensor([1, 1, 1, 1], [1, 1, 2, 2]);
      assert.deepEqual(ops.conv2d(x, w, { stride: 2, padding: 1 }).toArray(), [1, 5, 11, 28]);
      const y = ops.conv2d(x, w);
      assert.deepEqual(y.shape, [1, 1, 2, 2]);
      assert.deepEqual(y.toArray(), [12, 16, 24, 28]);
    });

    run('multi-channel conv2d equals an explicit sum', () => {
      const x = rand([2, 3, 7, 6], 5, 'float32');
      const w = rand([4, 3, 3, 2], 6, 'float32');
      const y = ops.conv2d(x, w, { stride: [2, 1], padding: [1, 0] });
      assert.deepEqual(y.shape, [2, 4, 4, 5]);
      const xv = x.values();
      const wv = w.values();
      const expected: number[] = [];
      for (let b = 0; b < 2; b++)
        for (let o = 0; o < 4; o++)
          for (let i = 0; i < 4; i++)
            for (let j = 0; j < 5; j++) {
              let s = 0;
              for (let c = 0; c < 3; c++)
                for (let ki = 0; ki < 3; ki++)
                  for (let kj = 0; kj < 2; kj++) {
                    const yy = i * 2 - 1 + ki;
                    const xx = j + kj;
                    if (yy >= 0 && yy < 7) s += xv[((b * 3 + c) * 7 + yy) * 6 + xx] * wv[((o * 3 + c) * 3 + ki) * 2 + kj];
                  }
              expected.push(s);
            }
      assertClose(f32(y), expected, 1e-5, 1e-5);
    });

    run('max and average pooling', () => {
      const x = tensor([1, 5, 2, 0, 3, 4, 9, 1, 0, 0, 7, 8, 6, 2, 1, 3], [1, 1, 4, 4]);
      assert.deepEqual(ops.maxPool2d(x, { kernel: 2 }).toArray(), [5, 9, 6, 8]);
      assert.deepEqual(ops.avgPool2d(x, { kernel: 2 }).toArray(), [13 / 4, 12 / 4, 8 / 4, 19 / 4].map(Math.fround));
      assert.deepEqual(ops.maxPool2d(x, { kernel: 3, stride: 1 }).toArray(), [9, 9, 9, 9]);
      // padding 1 with count_include_pad: corner windows see one real element of four
      assert.deepEqual(ops.avgPool2d(tensor([4, 8, 12, 16], [1, 1, 2, 2]), { kernel: 2, stride: 2, padding: 1 }).toArray(), [1, 2, 3, 4]);
      // adaptive pooling from 3 to 2 uses overlapping windows [0,2) and [1,3)
      const a = tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 1, 3, 3]);
      assert.deepEqual(ops.adaptiveAvgPool2d(a, 2, 2).toArray(), [3, 4, 6, 7]);
      assert.deepEqual(ops.adaptiveAvgPool2d(tensor([5], [1, 1, 1, 1]), 3, 3).toArray(), new Array(9).fill(5));
    });

    run('batch norm in training and eval mode', () => {
      const x = tensor([1, 2, 3, 4, 10, 20, 30, 40], [2, 2, 2, 1], 'float64').reshape([2, 2, 2, 1]);
      const state = { runningMean: zeros([2], 'float64'), runningVar: tensor([1, 1], [2], 'float64'), momentum: 0.1, eps: 1e-5 };
      const g = tensor([1, 2], [2], 'float64');
      const b = tensor([0, 1], [2], 'float64');
      const y = ops.batchNorm(x, g, b, state, true);
      // channel 0 holds 1,2,10,20: mean 8.25, biased var 58.1875
      const m0 = 8.25;
      const v0 = (7.25 ** 2 + 6.25 ** 2 + 1.75 ** 2 + 11.75 ** 2) / 4;
      assertClose([y.toArray()[0]], [(1 - m0) / Math.sqrt(v0 + 1e-5)], 1e-9, 1e-9);
      assertClose([state.runningMean.toArray()[0]], [0.1 * m0], 1e-12, 1e-12);
      assertClose([state.runningVar.toArray()[0]], [0.9 + (0.1 * v0 * 4) / 3], 1e-12, 1e-12);
      const ye = ops.batchNorm(x, g, b, state, false);
      assertClose([ye.toArray()[4]], [(10 - 0.1 * m0) / Math.sqrt(0.9 + (0.1 * v0 * 4) / 3 + 1e-5)], 1e-9, 1e-9);
    });

    run('addRelu is add then relu, with NaN to 0 and broadcasting', () => {
      const a = tensor([1, -2, 3, Number.NaN, 0.5, -0.25], [2, 3]);
      const b = tensor([-1.5, 1, 0.5], [3]);
      assert.deepEqual(ops.addRelu(a, b).toArray(), [0, 0, 3.5, 0, 1.5, 0.25]);
      assert.deepEqual(ops.addRelu(a, b).toArray(), a.add(b).relu().toArray());
    });

    run('batch norm with its ReLU fused gives the bits of batch norm then ReLU, forward and backward', () => {
      for (const training of [true, false]) {
        const x = rand([3, 5, 4, 3], 11).requireGrad();
        const g = rand([5], 12).requireGrad();
        const b = rand([5], 13).requireGrad();
        const state = () => ({ runningMean: rand([5], 14), runningVar: rand([5], 15).abs().add(0.5), momentum: 0.1, eps: 1e-5 });
        const dy = rand([3, 5, 4, 3], 16);
        const fused = ops.batchNorm(x, g, b, state(), training, true);
        const plain = ops.batchNorm(x, g, b, state(), training).relu();
        assert.deepEqual(fused.toArray(), plain.toArray());
        assert.ok(fused.toArray().some((v) => v === 0) && fused.toArray().some((v) => v > 0));
        const gf = grad(fused, [x, g, b], { gradOutputs: [dy] });
        const gp = grad(plain, [x, g, b], { gradOutputs: [dy] });
        gf.forEach((t, i) => assertClose(t!.toArray(), gp[i]!.toArray(), 1e-6, 1e-5));
      }
    });

    run('dropout zeroes about p of the elements and rescales the rest', () => {
      const x = zeros([10000]).add(1);
      const y = ops.dropout(x, 0.5, true, new SimpleRandom(3));
      const v = y.toArray();
      const kept = v.filter((e) => e !== 0);
      assert.ok(Math.abs(kept.length - 5000) < 250, `kept ${kept.length}`);
      assert.ok(kept.every((e) => e === 2));
      assert.equal(ops.dropout(x, 0.5, false, new SimpleRandom(3)), x);
    });

    run('pad, slice with step, concat', () => {
      const x = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
      assert.deepEqual(
        ops
          .pad(x, [
            [1, 0],
            [0, 2],
          ])
          .toArray(),
        [0, 0, 0, 0, 0, 1, 2, 3, 0, 0, 4, 5, 6, 0, 0],
      );
      assert.deepEqual(x.slice(1, 0, 3, 2).toArray(), [1, 3, 4, 6]);
      assert.deepEqual(x.slice(0, 1, 2).toArray(), [4, 5, 6]);
      assert.deepEqual(x.slice(1, -2, 3).toArray(), [2, 3, 5, 6]);
      assert.deepEqual(ops.concat([x, tensor([7, 8], [2, 1])], 1).toArray(), [1, 2, 3, 7, 4, 5, 6, 8]);
      assert.deepEqual(ops.concat([x, x], 0).shape, [4, 3]);
      // the option-A shortcut of ResNet: subsample by 2, zero-pad channels
      const img = rand([2, 4, 6, 6], 9, 'float32');
      const short = ops.pad(img.slice(2, 0, 6, 2).slice(3, 0, 6, 2), [
        [0, 0],
        [2, 2],
      ]);
      assert.deepEqual(short.shape, [2, 8, 3, 3]);
      assert.equal(short.values()[(0 * 8 + 2) * 9 + 4], img.values()[(0 * 4 + 0) * 36 + 2 * 6 + 2]);
    });

    run('views: reshape, permute, expand share storage', () => {
      const x = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
      const r = x.reshape([3, -1]);
      assert.equal(r.data, x.data);
      assert.deepEqual(r.shape, [3, 2]);
      const p = x.permute([1, 0]);
      assert.equal(p.data, x.data);
      assert.deepEqual(p.toArray(), [1, 4, 2, 5, 3, 6]);
      assert.deepEqual(tensor([1, 2], [2, 1]).expand([2, 3]).toArray(), [1, 1, 1, 2, 2, 2]);
      assert.throws(() => x.reshape([4, 2]), /reshape: cannot reshape 6 elements into \[4, 2\]/);
      assert.throws(() => x.permute([0, 0]), /permute: \[0, 0\] is not a permutation/);
    });
  });
}

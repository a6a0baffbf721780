// RandomState against numpy's legacy RandomState, bit for bit (randn within 1 ulp:
// V8's Math.log may round differently from the C library's log).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RandomState } from '../../src/data/numpyRandom.ts';
import { loadNumpyGolden, sha256Of, type Golden } from './golden.ts';

const golden = loadNumpyGolden();

function ulpDistance(a: number, b: number): number {
  if (a === b) return 0;
  const buf = new DataView(new ArrayBuffer(16));
  buf.setFloat64(0, a);
  buf.setFloat64(8, b);
  return Number(buf.getBigInt64(0) - buf.getBigInt64(8));
}

function assertWithinUlp(actual: ArrayLike<number>, expected: number[], what: string): void {
  assert.equal(actual.length, expected.length, what);
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(ulpDistance(actual[i], expected[i]));
    assert.ok(d <= 1, `${what}[${i}]: ${actual[i]} vs numpy ${expected[i]} (${d} ulp)`);
  }
}

function assertDigest(values: Float64Array, expected: Golden, what: string): void {
  assert.equal(values.length, expected.n, what);
  assert.deepEqual(Array.from(values.subarray(0, 5)), expected.head, `${what} head`);
  assert.deepEqual(Array.from(values.subarray(values.length - 5)), expected.tail, `${what} tail`);
  assert.equal(sha256Of(values), expected.sha256, `${what} sha256`);
}

for (const g of golden.seeds as Golden[]) {
  const seed = g.seed as number;
  test(`RandomState(${seed}): state, raw outputs, rand`, () => {
    const state = new RandomState(seed).getState();
    assert.deepEqual(state.key.slice(0, 6), g.stateHead);
    assert.deepEqual(state.key.slice(-3), g.stateTail);
    assert.equal(state.pos, g.pos);
    const rs = new RandomState(seed);
    assert.deepEqual(
      Array.from({ length: 12 }, () => rs.nextUint32()),
      g.uint32,
    );
    assert.deepEqual(Array.from(new RandomState(seed).rand(12)), g.rand);
  });

  test(`RandomState(${seed}): randint`, () => {
    const rs = new RandomState(seed);
    assert.deepEqual(rs.randint(0, 10, 20), g.randint['0_10']);
    assert.deepEqual(rs.randint(-5, 1000, 10), g.randint.m5_1000);
    assert.deepEqual(rs.randint(3, 4, 3), g.randint['3_4']);
    assert.deepEqual(rs.randint(0, 2 ** 32, 4), g.randint['0_2pow32']);
    assert.deepEqual(rs.randint(0, 2 ** 40, 6), g.randint['0_2pow40']);
    assert.equal(rs.randint(0, 7), g.randint.single_0_7);
  });

  test(`RandomState(${seed}): randn, normal, uniform and a mixed sequence`, () => {
    assertWithinUlp(new RandomState(seed).randn(11), g.randn, 'randn');
    const rs = new RandomState(seed);
    assertWithinUlp(rs.normalArray(2, 3, 5), g.normal_2_3, 'normal');
    assertWithinUlp(rs.uniformArray(-1, 2, 5), g.uniform_m1_2, 'uniform after normal');
    const m = new RandomState(seed);
    const mixed = [m.random(), m.standardNormal(), m.randint(0, 7), m.standardNormal(), m.random(), m.standardNormal(), m.standardNormal()];
    assertWithinUlp(mixed, g.mixed, 'mixed');
  });

  test(`RandomState(${seed}): permutation, shuffle, choice`, () => {
    assert.deepEqual(new RandomState(seed).permutation(10), g.permutation10);
    const perm = new RandomState(seed).permutation(1000);
    assert.deepEqual(perm.slice(0, 10), g.permutation1000.head);
    assert.equal(
      perm.reduce((acc, v, i) => acc + v * i, 0),
      g.permutation1000.weighted,
    );
    const x = new Int32Array(20).map((_, i) => i);
    new RandomState(seed).shuffle(x);
    assert.deepEqual(Array.from(x), g.shuffle20);
    const rs = new RandomState(seed);
    assert.deepEqual(rs.choice(50, 5, { replace: false }), g.choice['50_5_noreplace']);
    assert.deepEqual(rs.choice(50, 10), g.choice['50_10_replace']);
    assert.deepEqual(rs.choice(5, 8, { p: [0.1, 0.2, 0.3, 0.15, 0.25] }), g.choice.p_replace);
    const p = [0.05, 0.05, 0.2, 0, 0.1, 0.1, 0.2, 0.1, 0.15, 0.05];
    assert.deepEqual(rs.choice(10, 4, { replace: false, p }), g.choice.p_noreplace);
  });

  test(`RandomState(${seed}): noise images rand(28,28,1) and rand(32,32,3)`, () => {
    assertDigest(new RandomState(seed).rand(28, 28, 1), g.rand_28_28_1, 'rand(28,28,1)');
    assertDigest(new RandomState(seed).rand(32, 32, 3), g.rand_32_32_3, 'rand(32,32,3)');
  });
}

test('array seeds use init_by_array', () => {
  for (const g of golden.arraySeeds as Golden[]) {
    const rs = new RandomState(g.seed as number[]);
    assert.deepEqual(rs.getState().key.slice(0, 6), g.stateHead, `seed ${JSON.stringify(g.seed)}`);
    assert.deepEqual(Array.from(rs.rand(6)), g.rand, `seed ${JSON.stringify(g.seed)}`);
  }
});

test('choice(list, n, replace=false) picks list[permutation(len)[:n]]', () => {
  const pool = Array.from({ length: 100 }, (_, i) => 3 * i + 1);
  const picked = new RandomState(4).choice(pool, 7, { replace: false });
  const positions = new RandomState(4).permutation(100).slice(0, 7);
  assert.deepEqual(
    picked,
    positions.map((i) => pool[i]),
  );
});

test('bad arguments throw RangeError naming the value', () => {
  assert.throws(() => new RandomState(-1), /got -1/);
  assert.throws(() => new RandomState(2 ** 32), /2\*\*32 - 1/);
  assert.throws(() => new RandomState(1.5), /got 1.5/);
  assert.throws(() => new RandomState([]), /non-empty/);
  assert.throws(() => new RandomState(0).randint(5, 5), /low=5, high=5/);
  assert.throws(() => new RandomState(0).choice(3, 4, { replace: false }), /4 samples from a population of 3/);
  assert.throws(() => new RandomState(0).choice(3, 1, { p: [0.5, 0.6, 0] }), /sum to/);
});

test('setState restores the stream including the cached Gaussian', () => {
  const rs = new RandomState(9);
  rs.standardNormal();
  const snap = rs.getState();
  const a = [rs.standardNormal(), rs.random(), rs.standardNormal()];
  rs.setState(snap);
  assert.deepEqual([rs.standardNormal(), rs.random(), rs.standardNormal()], a);
});

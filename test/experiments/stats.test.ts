import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  averageRanks,
  bootstrapMeanCI,
  mannWhitneyU,
  mean,
  pearson,
  permutationTest,
  sampleStd,
  spearman,
  standardError,
  welchTTest,
  oneSampleTTest,
  type Alternative,
} from '../../src/experiments/stats.ts';

// Tolerances: statistics (means, t, df, r) are plain float64 arithmetic and must match
// scipy to 1e-12 relative; p-values go through @stdlib's t CDF instead of scipy's stdtr
// (and, for Pearson, scipy's beta CDF), pinned here to 1e-9 relative.
const STAT_RTOL = 1e-12;
const P_RTOL = 1e-9;
const ALTERNATIVES: Alternative[] = ['two-sided', 'greater', 'less'];

type GoldenNumber = number | 'nan' | 'inf' | '-inf';
type GoldenVector = string | GoldenNumber[];
interface WelchCase {
  name: string;
  a: GoldenVector;
  b: GoldenVector;
  df: GoldenNumber;
  [alt: string]: unknown;
}
interface CorrCase {
  name: string;
  x: GoldenVector;
  y: GoldenVector;
  [alt: string]: unknown;
}
interface DescribeCase {
  name: string;
  x: GoldenVector;
  mean: GoldenNumber;
  std: GoldenNumber;
  sem: GoldenNumber;
  ranks: GoldenNumber[] | null;
}

const golden = JSON.parse(readFileSync(new URL('../golden/scipy_stats.json', import.meta.url), 'utf8')) as {
  magic: string;
  version: number;
  generator: string;
  welch: WelchCase[];
  pearson: CorrCase[];
  spearman: CorrCase[];
  describe: DescribeCase[];
  mannwhitneyu: CorrCase[];
  permutation: CorrCase[];
  bootstrap: { name: string; x: GoldenVector; level: number; low: number; high: number; std: number }[];
  ttest_1samp: (CorrCase & { mu: number })[];
};

function num(v: GoldenNumber): number {
  if (v === 'nan') return NaN;
  if (v === 'inf') return Infinity;
  if (v === '-inf') return -Infinity;
  return v;
}

function vector(v: GoldenVector): Float64Array {
  if (typeof v === 'string') return Float64Array.from(v, (c) => (c === '1' ? 1 : 0));
  return Float64Array.from(v, num);
}

function assertClose(actual: number, expected: number, rtol: number, what: string): void {
  if (Number.isNaN(expected) || !Number.isFinite(expected) || expected === 0) {
    assert.ok(Object.is(actual, expected) || (expected === 0 && Math.abs(actual) < 1e-300), `${what}: expected ${expected}, got ${actual}`);
    return;
  }
  const rel = Math.abs(actual - expected) / Math.abs(expected);
  assert.ok(rel <= rtol, `${what}: expected ${expected}, got ${actual} (relative error ${rel.toExponential(2)} > ${rtol})`);
}

test('golden file identifies itself', () => {
  assert.equal(golden.magic, 'spurlab-golden-scipy-stats');
  assert.equal(golden.version, 3);
  assert.equal(golden.generator, 'test/golden/make_scipy_stats.py');
});

test("Welch's t-test matches scipy.stats.ttest_ind(equal_var=False)", () => {
  for (const c of golden.welch) {
    const a = vector(c.a);
    const b = vector(c.b);
    for (const alt of ALTERNATIVES) {
      const expected = c[alt] as { t: GoldenNumber; pValue: GoldenNumber };
      const got = welchTTest(a, b, alt);
      assertClose(got.t, num(expected.t), STAT_RTOL, `${c.name} [${alt}] t`);
      assertClose(got.pValue, num(expected.pValue), P_RTOL, `${c.name} [${alt}] p`);
      assertClose(got.df, num(c.df), STAT_RTOL, `${c.name} df`);
    }
  }
});

test('the one-sample t-test matches scipy.stats.ttest_1samp', () => {
  for (const c of golden.ttest_1samp) {
    for (const alt of ALTERNATIVES) {
      const expected = c[alt] as { t: GoldenNumber; pValue: GoldenNumber };
      const got = oneSampleTTest(vector(c.x), c.mu, alt);
      assertClose(got.t, num(expected.t), STAT_RTOL, `${c.name} [${alt}] t`);
      assertClose(got.pValue, num(expected.pValue), P_RTOL, `${c.name} [${alt}] p`);
    }
  }
  assert.ok(Number.isNaN(oneSampleTTest([0.4]).pValue), 'one value: no test');
});

test('Welch on 0/1 vectors works on Uint8Array as stored per image', () => {
  const c = golden.welch[1];
  const a = Uint8Array.from(vector(c.a));
  const b = Uint8Array.from(vector(c.b));
  assertClose(welchTTest(a, b, 'greater').pValue, num((c.greater as { pValue: GoldenNumber }).pValue), P_RTOL, c.name);
});

test('Welch with a group of one is undefined', () => {
  const r = welchTTest([1], [0, 1, 1]);
  assert.ok(Number.isNaN(r.t) && Number.isNaN(r.df) && Number.isNaN(r.pValue));
});

for (const [name, fn] of [
  ['Pearson', pearson],
  ['Spearman', spearman],
] as const) {
  test(`${name} matches scipy`, () => {
    const cases = name === 'Pearson' ? golden.pearson : golden.spearman;
    for (const c of cases) {
      for (const alt of ALTERNATIVES) {
        const expected = c[alt] as { r: GoldenNumber; pValue: GoldenNumber };
        const got = fn(vector(c.x), vector(c.y), alt);
        assertClose(got.r, num(expected.r), STAT_RTOL, `${c.name} [${alt}] r`);
        assertClose(got.pValue, num(expected.pValue), P_RTOL, `${c.name} [${alt}] p`);
      }
    }
  });
}

test('correlations reject mismatched or too short inputs', () => {
  assert.throws(() => pearson([1, 2, 3], [1, 2]), /same length/);
  assert.throws(() => spearman([1], [1]), /at least 2/);
});

test('mean, sample std, SEM and average ranks match numpy/scipy', () => {
  for (const c of golden.describe) {
    const x = vector(c.x);
    assertClose(mean(x), num(c.mean), STAT_RTOL, `${c.name} mean`);
    assertClose(sampleStd(x), num(c.std), STAT_RTOL, `${c.name} std`);
    assertClose(standardError(x), num(c.sem), STAT_RTOL, `${c.name} sem`);
    if (c.ranks) assert.deepEqual(Array.from(averageRanks(x)), c.ranks.map(num), `${c.name} ranks`);
  }
  assert.ok(Number.isNaN(mean([])));
});

test('Mann-Whitney U matches scipy.stats.mannwhitneyu (exact without ties, asymptotic with them)', () => {
  for (const c of golden.mannwhitneyu) {
    for (const alt of ALTERNATIVES) {
      const expected = c[alt] as { u: GoldenNumber; pValue: GoldenNumber };
      const got = mannWhitneyU(vector(c.x), vector(c.y), alt);
      assertClose(got.u, num(expected.u), STAT_RTOL, `${c.name} [${alt}] U`);
      assertClose(got.pValue, num(expected.pValue), P_RTOL, `${c.name} [${alt}] p (${got.method})`);
    }
  }
  assert.equal(mannWhitneyU([3, 4, 5], [0, 1, 2], 'greater').method, 'exact');
  assert.equal(mannWhitneyU([0, 0, 1], [0, 0, 0], 'greater').method, 'asymptotic');
});

test('exact permutation test matches scipy.stats.permutation_test over every split', () => {
  for (const c of golden.permutation) {
    for (const alt of ALTERNATIVES) {
      const expected = c[alt] as { statistic: GoldenNumber; pValue: GoldenNumber };
      const got = permutationTest(vector(c.x), vector(c.y), alt);
      assert.ok(got.exact, `${c.name}: exact`);
      assertClose(got.statistic, num(expected.statistic), STAT_RTOL, `${c.name} [${alt}] statistic`);
      assertClose(got.pValue, num(expected.pValue), STAT_RTOL, `${c.name} [${alt}] p`);
    }
  }
});

test('permutation test falls back to seeded random splits beyond maxExact, close to the exact p', () => {
  const x = [0.31, 0.12, 0.55, 0.47, 0.2, 0.4, 0.38];
  const y = [0.05, 0.11, 0.02, 0.3, 0.25, 0.1, 0.33];
  const exact = permutationTest(x, y, 'greater');
  const random = permutationTest(x, y, 'greater', { maxExact: 10, resamples: 20000, seed: 3 });
  assert.ok(exact.exact && !random.exact);
  assert.equal(random.resamples, 20000);
  // binomial Monte Carlo error of a p near 0.01 with 2e4 draws is about 7e-4
  assert.ok(Math.abs(random.pValue - exact.pValue) < 4e-3, `random ${random.pValue} vs exact ${exact.pValue}`);
  assert.deepEqual(permutationTest(x, y, 'greater', { maxExact: 10, seed: 3 }), permutationTest(x, y, 'greater', { maxExact: 10, seed: 3 }));
});

test('percentile bootstrap interval agrees with scipy.stats.bootstrap within Monte Carlo error', () => {
  for (const c of golden.bootstrap) {
    const x = vector(c.x);
    const [low, high] = bootstrapMeanCI(x, { level: c.level, resamples: 100_000, seed: 1 });
    // scipy used 10^6 resamples; the percentiles of 10^5 move by well under a tenth of the sample std
    const tol = 0.1 * c.std + 1e-12;
    assert.ok(Math.abs(low - c.low) <= tol, `${c.name}: low ${low} vs scipy ${c.low}`);
    assert.ok(Math.abs(high - c.high) <= tol, `${c.name}: high ${high} vs scipy ${c.high}`);
    assert.ok(low <= mean(x) && mean(x) <= high, `${c.name}: the interval holds the mean`);
  }
  assert.deepEqual(bootstrapMeanCI([0.5]), [NaN, NaN]);
  assert.deepEqual(bootstrapMeanCI([0.25, 0.25, 0.25]), [0.25, 0.25]);
});

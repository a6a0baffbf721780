import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareWithBaseline } from '../../src/experiments/baselineTest.ts';
import { DEMO_SWEEP, demoFinding } from '../../src/experiments/demo.ts';
import type { BaselineSummary } from '../../src/experiments/summaries.ts';
import { expandSweep } from '../../src/experiments/grids/spec.ts';
import { mean, standardError } from '../../src/experiments/stats.ts';

/** summarizeWithBaseline-shaped rows from per-run scores, with the real test over runs. */
function rows(table: Record<string, Record<number, number[]>>, testAcc = 0.95): BaselineSummary[] {
  return Object.entries(table).flatMap(([pattern, byN]) =>
    Object.entries(byN).map(([nText, scores]) => {
      const n = Number(nText);
      const baseline = n > 0 ? byN[0] : [];
      const comparison = compareWithBaseline(scores, baseline);
      const test = n > 0 ? comparison : { ...comparison, t: NaN, df: NaN, pValue: NaN, note: 'baseline' };
      return {
        group: { pattern, n },
        runs: scores.length,
        meanScore: mean(scores),
        semScore: standardError(scores),
        meanTestAcc: testAcc,
        keys: [],
        scores,
        baselineRuns: baseline.length,
        baselineMeanScore: mean(baseline),
        comparison: test,
        t: test.t,
        df: test.df,
        pValue: test.pValue,
      };
    }),
  );
}

test('the sentence names the significant n and the non-significant ones, as the table has them (a measured demo table)', () => {
  // The per-run scores of a demo run on this machine (seeds 0, 1, 2).
  const table = rows({
    S3: { 0: [0.002, 0.0, 0.0], 1: [0.024, 0.006, 0.022], 3: [0.02, 0.048, 0.025], 10: [0.225, 0.055, 0.054] },
    R3: { 0: [0.065, 0.0, 0.0], 1: [0.889, 0.897, 0.903], 3: [0.902, 0.898, 0.132], 10: [0.9, 0.903, 0.927] },
  });
  const r3 = table.filter((r) => r.group.pattern === 'R3');
  assert.ok(r3.find((r) => r.group.n === 3)!.pValue >= 0.05, 'one unlearnt seed makes R3 n = 3 non-significant over runs');
  const sentence = demoFinding(table);
  assert.match(
    sentence,
    /^S3: the clean models \(n = 0\) score 0\.001; significantly higher \(p < 0\.05\) at n = 1 \(0\.017, p = 0\.04\d\), n = 3 \(0\.031, p = 0\.03\d\); not significant at n = 10 \(0\.111, p = 0\.\d+\)\./,
  );
  assert.match(sentence, /At n = 10, 2 of 3 runs \(0\.055, 0\.054\) stayed far below the best \(0\.225\)/);
  assert.match(
    sentence,
    /R3: the clean models \(n = 0\) score 0\.022; significantly higher \(p < 0\.05\) at n = 1 \(0\.896, p = 2\.\de-4\), n = 10 \(0\.910, p = \S+\); not significant at n = 3 \(0\.644, p = 0\.0\d+\)\./,
  );
  assert.match(sentence, /At n = 3, 1 of 3 runs \(0\.132\) stayed far below the best \(0\.902\): the pattern was not learnt reliably there\./);
  assert.match(sentence, /R3 is learnt more strongly than S3 at every n > 0\./);
  assert.match(sentence, /Clean test accuracy stays between 95\.0% and 95\.0%\./);
  // Never a claim the table does not back:
  assert.doesNotMatch(sentence, /significantly higher[^;.]*n = 3 \(0\.644/);
});

test('no significant n: the sentence says so and never claims a rise', () => {
  const sentence = demoFinding(rows({ R3: { 0: [0.0, 0.3, 0.1], 1: [0.2, 0.0, 0.1], 3: [0.9, 0.0, 0.05] } }));
  assert.match(
    sentence,
    /R3: the clean models \(n = 0\) score 0\.133, and no n raises that significantly: n = 1 \(0\.100, p = 0\.\d+\), n = 3 \(0\.317, p = 0\.\d+\)\./,
  );
  assert.doesNotMatch(sentence, /significantly higher/);
  assert.match(sentence, /At n = 3, 2 of 3 runs \(0\.000, 0\.050\) stayed far below the best \(0\.900\)/);
});

test('one run per setting: no p-value, and the sentence says why', () => {
  const sentence = demoFinding(rows({ R3: { 0: [0.01], 3: [0.9] } }));
  assert.match(sentence, /no n raises that significantly: n = 3 \(0\.900, 1 run\)/);
});

test('a setting whose runs all equal the baseline is p = 1, not significant', () => {
  const table = rows({ S3: { 0: [0, 0, 0], 1: [0, 0, 0], 3: [0.1, 0.12, 0.11] } });
  assert.equal(table.find((r) => r.group.n === 1)!.pValue, 1);
  const sentence = demoFinding(table);
  assert.match(sentence, /significantly higher \(p < 0\.05\) at n = 3 \(0\.110, p = /);
  assert.match(sentence, /not significant at n = 1 \(0\.000, p = 1\.000\)/);
});

test("the demo grid: 5 seeds (the paper's seeds 0-4) with the model seed following the data seed, S3 and R3 at n = 0, 1, 3, 10", () => {
  const configs = expandSweep(DEMO_SWEEP);
  assert.equal(configs.length, 40);
  assert.ok(configs.every((c) => c.modelSeed === c.seed && c.trainSubset === 10000 && c.epochs === 10));
  assert.deepEqual([...new Set(configs.map((c) => c.seed))], [0, 1, 2, 3, 4]);
  assert.deepEqual([...new Set(configs.map((c) => c.n))], [0, 1, 3, 10]);
  assert.equal(expandSweep(DEMO_SWEEP, { epochs: 2 })[0].epochs, 2);
});

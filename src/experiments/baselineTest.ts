// The test of a setting against its n = 0 baseline, as `results`, the demo and the report
// show it: over runs by default, the reference's per-image test on request (PROTOCOL.md
// section 6). The statistics themselves are in stats.ts, pinned against scipy.
import { bootstrapMeanCI, mannWhitneyU, mean, permutationTest, standardError, welchTTest } from './stats.ts';

/** Which test a p-value against the baseline comes from. */
export type BaselineTest = 'runs' | 'per-image';

export interface BaselineComparison {
  test: BaselineTest;
  /** Mean and spread of the setting's per-run scores. */
  runs: number;
  mean: number;
  sem: number;
  /** 95% percentile bootstrap interval of the mean over runs; NaN with fewer than 2 runs. */
  ci: [number, number];
  baselineRuns: number;
  baselineMean: number;
  /** The headline p-value: one-sided ("greater") Welch over runs, or over images for 'per-image'. */
  t: number;
  df: number;
  pValue: number;
  /** Exact one-sided permutation test and Mann-Whitney U over runs (NaN for 'per-image' or < 2 runs). */
  pPermutation: number;
  /** The smallest p the permutation test can give with these counts (0.05 for 3 runs against 3). */
  pPermutationMin: number;
  pMannWhitney: number;
  /** Why there is no p-value ('1 run', 'no baseline', ...), or '' when there is one. */
  note: string;
}

/**
 * Tests whether a setting raises the score above its n = 0 baseline (PROTOCOL.md
 * section 6). By default over runs: the setting's per-run scores against the baseline's
 * per-run scores (trained over the same seeds), Welch's one-sided t-test with the exact
 * permutation test and Mann-Whitney U beside it. With `perImage` it is the reference's
 * test instead: Welch over the pooled per-image 0/1 indicators of the setting's runs
 * against the baseline's, which treats test images as independent draws of the training
 * randomness and says "these models differ", not "this setting raises the score".
 *
 * With fewer than 2 runs on either side there is no test over runs (note "1 run").
 * When both sides have no spread and the same mean (e.g. every run scored 0), Welch is
 * undefined (scipy returns NaN); there is then no evidence of a rise and p is 1.
 */
export function compareWithBaseline(
  scores: number[],
  baselineScores: number[],
  perImage?: { setting: ArrayLike<number>; baseline: ArrayLike<number> },
): BaselineComparison {
  const runs = scores.length;
  const baselineRuns = baselineScores.length;
  const base = {
    runs,
    mean: mean(scores),
    sem: standardError(scores),
    ci: bootstrapMeanCI(scores),
    baselineRuns,
    baselineMean: mean(baselineScores),
    pPermutation: NaN,
    pPermutationMin: NaN,
    pMannWhitney: NaN,
  };
  const none = { t: NaN, df: NaN, pValue: NaN };
  if (perImage) {
    if (baselineRuns === 0 || perImage.setting.length === 0 || perImage.baseline.length === 0) {
      return { ...base, test: 'per-image', ...none, note: baselineRuns === 0 ? 'no baseline' : 'no per-image data' };
    }
    const w = welchTTest(perImage.setting, perImage.baseline, 'greater');
    return { ...base, test: 'per-image', ...w, pValue: Number.isNaN(w.pValue) ? 1 : w.pValue, note: '' };
  }
  if (baselineRuns === 0) return { ...base, test: 'runs', ...none, note: 'no baseline' };
  if (runs < 2) return { ...base, test: 'runs', ...none, note: `${runs} run` };
  if (baselineRuns < 2) return { ...base, test: 'runs', ...none, note: `baseline ${baselineRuns} run` };
  const w = welchTTest(scores, baselineScores, 'greater');
  const perm = permutationTest(scores, baselineScores, 'greater');
  return {
    ...base,
    test: 'runs',
    ...w,
    pValue: Number.isNaN(w.pValue) ? 1 : w.pValue,
    pPermutation: perm.pValue,
    pPermutationMin: perm.minP,
    pMannWhitney: mannWhitneyU(scores, baselineScores, 'greater').pValue,
    note: '',
  };
}

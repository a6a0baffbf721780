// The spurious score (PROTOCOL section 6): over the test set, the share of images whose
// softmax probability of the target class rises by more than a threshold when the
// pattern is added. Population "all" (the reference's main tables) or "non-target"
// (test images whose label is not the target; the norm study).
import { cloneDataset, type Dataset } from '../data/dataset.ts';
import { applyPatternToIndices, type Pattern } from '../data/patterns.ts';
import type { Module } from '../nn/module.ts';
import type { Layout } from '../train/batches.ts';
import { predict } from '../train/evaluate.ts';
import { UserError } from '../util/errors.ts';

export type Population = 'all' | 'non-target';

export interface ScoreOptions {
  pattern: Pattern;
  target: number;
  population?: Population;
  threshold?: number;
  indices?: ArrayLike<number>; // test images to use (default: all)
}

export interface SpuriousScore {
  score: number;
  population: Population;
  threshold: number;
  nTest: number; // images in the population
  testAcc: number; // clean accuracy on the population
  patternedTestAcc: number; // accuracy on the patterned population
  targetRate: number; // share of patterned images predicted as the target
  perImage: Uint8Array; // 1 where the target probability rose by more than the threshold
}

export function spuriousScore(model: Module, layout: Layout, test: Dataset, opts: ScoreOptions): SpuriousScore {
  const population = opts.population ?? 'all';
  const threshold = opts.threshold ?? 0.1;
  if (population !== 'all' && population !== 'non-target') throw new UserError(`population: got "${population}", expected "all" or "non-target"`);
  if (!(threshold >= 0 && threshold < 1)) throw new UserError(`threshold: got ${threshold}, expected a number in [0, 1)`);
  if (!Number.isInteger(opts.target) || opts.target < 0 || opts.target >= test.numClasses) {
    throw new UserError(`target: got ${opts.target}, expected a class in [0, ${test.numClasses})`);
  }
  const base = opts.indices ? Array.from(opts.indices) : Array.from({ length: test.n }, (_, i) => i);
  const idx = population === 'all' ? base : base.filter((i) => test.labels[i] !== opts.target);
  const patterned = cloneDataset(test);
  applyPatternToIndices(opts.pattern, patterned, idx);
  const clean = predict(model, layout, test, idx);
  const dirty = predict(model, layout, patterned, idx);
  const c = test.numClasses;
  const perImage = new Uint8Array(idx.length);
  let rises = 0;
  let cleanHits = 0;
  let dirtyHits = 0;
  let toTarget = 0;
  for (let i = 0; i < idx.length; i++) {
    const label = test.labels[idx[i]];
    if (dirty.probs[i * c + opts.target] - clean.probs[i * c + opts.target] > threshold) {
      perImage[i] = 1;
      rises++;
    }
    if (clean.predicted[i] === label) cleanHits++;
    if (dirty.predicted[i] === label) dirtyHits++;
    if (dirty.predicted[i] === opts.target) toTarget++;
  }
  const n = idx.length;
  return {
    score: rises / n,
    population,
    threshold,
    nTest: n,
    testAcc: cleanHits / n,
    patternedTestAcc: dirtyHits / n,
    targetRate: toTarget / n,
    perImage,
  };
}

/** What a run must offer to be scored: train()'s and loadRun()'s results both do. */
export interface ScorableRun {
  model: Module;
  layout: Layout;
  data: { test: Dataset; pattern: Pattern };
  config: { target: number };
  testIndices: ArrayLike<number>;
}

/**
 * The spurious score of a trained run on its own test images (its `testSubset`, all of
 * them by default), pattern and target; `opts` overrides any of them.
 */
export function scoreRun(run: ScorableRun, opts: Partial<ScoreOptions> = {}): SpuriousScore {
  return spuriousScore(run.model, run.layout, run.data.test, {
    pattern: run.data.pattern,
    target: run.config.target,
    indices: run.testIndices,
    ...opts,
  });
}

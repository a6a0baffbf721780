// The reproduction plan: how many runs each finding has at each budget (counted by hand
// from the paper's grids), that runs shared between findings are counted once, that
// --only accepts names and numbers and refuses anything else by name, and that each
// finding's runs are exactly the runs (the same store keys) of its equivalent sweep.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  FINDING_IDS,
  parseBudget,
  parseOnly,
  planReproduction,
  kindCounts,
  type Budget,
  type FindingId,
} from '../../src/experiments/reproduction.ts';
import { loadSweepSpec, planSweep, validateSweepSpec } from '../../src/experiments/grids/spec.ts';
import { UserError } from '../../src/util/errors.ts';

const PATTERNS = ['S1', 'S2', 'S3', 'R1', 'R2', 'R3', 'Co'];

// datasets x patterns x n x seeds; architectures: models x patterns x n x seeds, each
// trained and measured (sensitivity); deletion: n x seeds x 3 methods plus their base
// runs; mia: n x seeds (x targets x optimizers x datasets for the paper); mitigations:
// n x seeds x (1 baseline + 3 mitigations x their non-zero values); mia also runs LiRA:
// n x seeds x K = 16 shadow models and one attack per setting (the paper budget: the
// paper-lira preset, R3 and S3, n = 1, 3, 10, 100, seeds 0-2).
const EXPECTED: Record<Budget, Record<FindingId, Record<string, number>>> = {
  fast: {
    examples: { train: 2 * 7 * 5 * 5 },
    norm: { train: 2 * 7 * 5 * 5 },
    architectures: { train: 5 * 2 * 3 * 5, sensitivity: 5 * 2 * 3 * 5 },
    deletion: { train: 3 * 5, forget: 3 * 5 * 3 },
    mia: { mia: 4 * 5, 'lira-shadow': 4 * 5 * 16, lira: 4 * 5 },
    mitigations: { train: 3 * 5 * (1 + 3 * 3) },
  },
  paper: {
    examples: { train: 2 * 7 * 9 * 5 },
    norm: { train: 2 * 7 * 9 * 5 },
    architectures: { train: 5 * 2 * 7 * 5, sensitivity: 5 * 2 * 7 * 5 },
    deletion: { train: 2 * 3 * 5, forget: 2 * 3 * 5 * 3 },
    mia: { mia: 2 * 7 * 2 * 10 * 2, 'lira-shadow': 2 * 4 * 3 * 16, lira: 2 * 4 * 3 },
    mitigations: { train: 4 * 5 * (1 + 3 * 5) },
  },
};

test('each finding has the runs its grids describe, at both budgets', () => {
  for (const budget of ['fast', 'paper'] as const) {
    for (const p of planReproduction(budget, FINDING_IDS)) {
      assert.deepEqual(kindCounts(p.runs), EXPECTED[budget][p.finding.id], `${budget} ${p.finding.id}`);
    }
  }
});

test("fast runs use 5 seeds and 5 epochs, paper runs the paper's seeds and 70 epochs", () => {
  for (const budget of ['fast', 'paper'] as const) {
    for (const p of planReproduction(budget, FINDING_IDS)) {
      const seeds = new Set(p.runs.map((r) => (r.config as { seed: number }).seed));
      const epochs = new Set(p.runs.map((r) => (r.config as { epochs: number }).epochs));
      const wantSeeds = budget === 'fast' ? 5 : p.finding.id === 'mia' ? 10 : 5;
      assert.equal(seeds.size, wantSeeds, `${budget} ${p.finding.id} seeds`);
      // LiRA's shadow models train 20 epochs at the paper budget (the paper-lira preset)
      const wantEpochs = budget === 'fast' ? [5] : p.finding.id === 'mia' ? [70, 20] : [70];
      assert.deepEqual([...epochs].sort(), wantEpochs.sort(), `${budget} ${p.finding.id} epochs`);
    }
  }
});

test('runs shared between findings belong to the first finding that lists them', () => {
  const plans = planReproduction('fast', FINDING_IDS);
  const by = Object.fromEntries(plans.map((p) => [p.finding.id, p]));
  assert.equal(by.norm.newRuns.length, 0);
  assert.deepEqual(by.norm.reuses, ['examples']);
  // LargeMLP with S3 and R3 on MNIST at n = 0, 3, 100 is in finding 1 already
  assert.equal(by.architectures.runs.length - by.architectures.newRuns.length, 2 * 3 * 5);
  const all = plans.flatMap((p) => p.newRuns.map((r) => r.key));
  assert.equal(new Set(all).size, all.length);
  // alone, a finding owns all its runs: each --only piece finishes on its own
  const alone = planReproduction('fast', ['norm']);
  assert.equal(alone[0].newRuns.length, 350);
});

test("--only takes names or numbers, comma-separated, in the paper's order", () => {
  assert.deepEqual(parseOnly(undefined), FINDING_IDS);
  assert.deepEqual(parseOnly('deletion,1'), ['examples', 'deletion']);
  assert.deepEqual(parseOnly(' mia , 6 '), ['mia', 'mitigations']);
  assert.throws(
    () => parseOnly('7'),
    (e: unknown) => e instanceof UserError && /"7" is not a finding/.test(e.message) && /1 examples/.test(e.message),
  );
  assert.throws(
    () => parseOnly('examples,memorization'),
    (e: unknown) => e instanceof UserError && /"memorization"/.test(e.message),
  );
  assert.throws(() => parseOnly(''), UserError);
  assert.equal(parseBudget(undefined), 'fast');
  assert.throws(
    () => parseBudget('slow'),
    (e: unknown) => e instanceof UserError && /--budget slow: expected one of fast, paper/.test(e.message),
  );
});

const keysOf = (runs: { key: string }[]) => new Set(runs.map((r) => r.key));

test("a finding's runs are the runs of its preset, and the paper budget is the paper's presets", () => {
  for (const budget of ['fast', 'paper'] as const) {
    for (const p of planReproduction(budget, FINDING_IDS)) {
      assert.deepEqual(keysOf(planSweep(loadSweepSpec(`reproduce-${budget}-${p.finding.id}`))), keysOf(p.runs));
    }
  }
  const paper = Object.fromEntries(planReproduction('paper', FINDING_IDS).map((p) => [p.finding.id, keysOf(p.runs)]));
  const presetKeys = (...names: string[]) => new Set(names.flatMap((n) => planSweep(loadSweepSpec(n)).map((r) => r.key)));
  assert.deepEqual(paper.examples, presetKeys('paper-mnist-patterns', 'paper-fashion-patterns'));
  assert.deepEqual(paper.deletion, presetKeys('paper-deletion'));
  assert.deepEqual(paper.mia, presetKeys('paper-mia', 'paper-lira'));
  assert.deepEqual(paper.mitigations, presetKeys('paper-mitigation-weight-decay', 'paper-mitigation-input-noise', 'paper-mitigation-clipping'));
  const arch = presetKeys('paper-architectures');
  for (const k of arch) assert.ok(paper.architectures.has(k));
});

test('the fast pieces are the runs of hand-written sweep files of the same settings', () => {
  const base = { target: 0, seed: [0, 1, 2, 3, 4], model: 'LargeMLP', optimizer: 'adam', lr: 0.01, epochs: 5, trainSubset: 10000 };
  const file = (grids: object[]) => planSweep(validateSweepSpec({ name: 'by hand', grids }, 'by-hand.json'));
  const fast = Object.fromEntries(planReproduction('fast', FINDING_IDS).map((p) => [p.finding.id, keysOf(p.runs)]));
  assert.deepEqual(fast.examples, keysOf(file([{ ...base, dataset: ['mnist', 'fashion'], pattern: PATTERNS, n: [0, 1, 3, 10, 100] }])));
  assert.deepEqual(
    fast.deletion,
    keysOf(
      file([
        { ...base, kind: 'forget', dataset: 'mnist', pattern: 'R3', n: [3, 10, 100], method: 'incremental' },
        {
          ...base,
          kind: 'forget',
          dataset: 'mnist',
          pattern: 'R3',
          n: [3, 10, 100],
          method: 'influence',
          damp: 0.01,
          scale: 25,
          repeats: 10,
          scaling: 'reference',
          mode: 'fast',
        },
        { ...base, kind: 'forget', dataset: 'mnist', pattern: 'R3', n: [3, 10, 100], method: 'retrain' },
      ]),
    ),
  );
  const attack = {
    dataset: 'mnist',
    pattern: 'R3',
    n: [1, 3, 10, 100],
    target: 0,
    seed: [0, 1, 2, 3, 4],
    model: 'LargeMLP',
    optimizer: 'adam',
    lr: 0.01,
    epochs: 5,
    trainLimit: 20000,
  };
  assert.deepEqual(
    fast.mia,
    keysOf(
      file([
        { ...attack, kind: 'mia' },
        { ...attack, kind: 'lira', shadows: 16 },
      ]),
    ),
  );
  const mit = { ...base, dataset: 'mnist', pattern: 'R3', n: [0, 10, 100] };
  assert.deepEqual(
    fast.mitigations,
    keysOf(
      file([
        { ...mit, weightDecay: [0, 1e-4, 1e-3, 1e-2] },
        { ...mit, inputNoise: [0.1, 0.5, 1] },
        { ...mit, gradClip: [1e-2, 1e-3, 1e-4] },
      ]),
    ),
  );
});

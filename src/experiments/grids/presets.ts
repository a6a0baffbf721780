// Sweep presets that reproduce the paper's grids (PROTOCOL sections 1, 5 to 8): training
// grids, the deletion grid (kind forget), the membership-inference grid (kind mia) and
// issue 20's LiRA grid (kind lira, whose shadow models are runs of their own).
import type { Grid, GridValue, SweepSpec } from './spec.ts';
import { LIRA_GRID } from '../../privacy/liraRun.ts';
import { DEMO_SWEEP } from '../demo.ts';

const PATTERNS = ['S1', 'S2', 'S3', 'R1', 'R2', 'R3', 'Co'];
const N_VALUES = [0, 1, 3, 5, 10, 20, 100, 2000, 5000];
const SEEDS = [0, 1, 2, 3, 4];
const MNIST_ADAM = { model: 'LargeMLP', optimizer: 'adam', lr: 0.01, epochs: 70 };

/**
 * The paper's deletion grid (section 7): R3 on MNIST with LargeMLP (Adam, lr 0.01),
 * n = 3, 10, 100, target 0, seeds 0-4; incremental retraining, first-order group
 * influence with the reference's settings (damp 0.01, scale 25, or 100 on Fashion-MNIST,
 * depth by k, r = 10) in the fast mode, and retraining from scratch. Each method runs on
 * the same trained base runs (a forget run depends on its train run).
 */
function deletionGrids(dataset: string, scale: number): Grid[] {
  const base: Grid = { kind: 'forget', dataset, pattern: 'R3', n: [3, 10, 100], target: 0, seed: SEEDS, ...MNIST_ADAM };
  return [
    { ...base, method: 'incremental' },
    { ...base, method: 'influence', damp: 0.01, scale, repeats: 10, scaling: 'reference', mode: 'fast' },
    { ...base, method: 'retrain' },
  ];
}

/**
 * The paper's membership-inference grid (reference params.py, MemInference): R3 on MNIST
 * and Fashion-MNIST, targets 0 and 1, 10 seeds, LargeMLP with Adam (lr 0.01) or SGD (lr
 * 0.01, momentum 0.9), 70 epochs.
 */
const MIA_BASE: Grid = {
  kind: 'mia',
  dataset: ['mnist', 'fashion'],
  pattern: 'R3',
  n: [1, 3, 5, 10, 20, 100, 1000],
  target: [0, 1],
  seed: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  model: 'LargeMLP',
  epochs: 70,
};

/**
 * Finding the spurious examples (issue 21): MNIST, LargeMLP (Adam, lr 0.01, 20 epochs,
 * like the unlearning and LiRA presets: 70 would triple the cost of this 144-run grid),
 * R3 and S3, n = 3, 10, 100, target 0, seeds 0-2; every method that needs no LiRA export
 * (memorization reads one), on base runs that keep every 2nd epoch's weights, so that all
 * methods of a seed share one train run (TracIn reads 10 checkpoints, TRAK the last 3).
 */
const DETECT_BASE: Grid = {
  kind: 'detect',
  dataset: 'mnist',
  pattern: ['R3', 'S3'],
  n: [3, 10, 100],
  target: 0,
  seed: [0, 1, 2],
  ...MNIST_ADAM,
  epochs: 20,
  keepCheckpoints: 2,
};

// LIRA_GRID's readonly lists as a grid's lists
const LIRA: Grid = Object.fromEntries(
  Object.entries(LIRA_GRID).map(([k, v]) => [k, Array.isArray(v) ? [...(v as readonly GridValue[])] : (v as GridValue)]),
);

/**
 * Today's unlearning methods against retraining (issue 19): MNIST, LargeMLP and CNN002
 * (Adam lr 0.01, 20 epochs), R3 and S3, n = 3, 10, 100, target 0, seeds 0-2, each method
 * with its paper's defaults. Every forget run depends on its base train run and on the
 * train run retrained without the spurious examples; both are trained once per setting.
 */
/** The paper's two deletion methods, beside the unlearning methods on the same base runs (retraining is each forget run's reference). */
const PAPER_DELETION_METHODS = ['incremental', 'influence'];

const UNLEARNING_GRID: Grid = {
  kind: 'forget',
  dataset: 'mnist',
  pattern: ['R3', 'S3'],
  n: [3, 10, 100],
  target: 0,
  seed: [0, 1, 2],
  model: ['LargeMLP', 'CNN002'],
  optimizer: 'adam',
  lr: 0.01,
  epochs: 20,
  method: ['finetune', 'gradient-ascent', 'neggrad-plus', 'scrub', 'random-label', 'salun', 'l1-sparse', 'ssd'],
};

export const PRESETS: SweepSpec[] = [
  {
    name: 'unlearning',
    description:
      "Unlearning methods (finetune, gradient-ascent, neggrad-plus, scrub, random-label, salun, l1-sparse, ssd) and the paper's incremental retraining and influence deletion against retraining: MNIST, LargeMLP and CNN002, R3 and S3, n = 3, 10, 100, seeds 0-2, 20 epochs",
    grids: [UNLEARNING_GRID, { ...UNLEARNING_GRID, method: PAPER_DELETION_METHODS }],
  },
  {
    name: 'unlearning-largemlp',
    description:
      "The unlearning preset's LargeMLP half (issue 19's table: R3 and S3, n = 3, 10, 100, seeds 0-2, 20 epochs); the same keys, so it shares its runs with `unlearning`",
    grids: [
      { ...UNLEARNING_GRID, model: 'LargeMLP' },
      { ...UNLEARNING_GRID, model: 'LargeMLP', method: PAPER_DELETION_METHODS },
    ],
  },
  DEMO_SWEEP,
  {
    name: 'paper-mnist-patterns',
    description: 'Every pattern against n on MNIST (LargeMLP, Adam lr 0.01), target 0, seeds 0-4',
    grids: [{ dataset: 'mnist', pattern: PATTERNS, n: N_VALUES, target: 0, seed: SEEDS, ...MNIST_ADAM }],
  },
  {
    name: 'paper-fashion-patterns',
    description: 'Every pattern against n on Fashion-MNIST (LargeMLP, Adam lr 0.01), target 0, seeds 0-4',
    grids: [{ dataset: 'fashion', pattern: PATTERNS, n: N_VALUES, target: 0, seed: SEEDS, ...MNIST_ADAM }],
  },
  {
    name: 'paper-architectures',
    description: 'Architectures of different input sensitivity on MNIST: MLP, MLPv2, LargeMLP, LargeMLPv2, CNN002 with S3 and R3',
    grids: [
      {
        dataset: 'mnist',
        pattern: ['S3', 'R3'],
        n: [0, 1, 3, 5, 10, 20, 100],
        target: 0,
        seed: SEEDS,
        model: ['MLP', 'MLPv2', 'LargeMLP', 'LargeMLPv2', 'CNN002'],
        optimizer: 'adam',
        lr: 0.01,
        epochs: 70,
      },
    ],
  },
  {
    name: 'paper-optimizers',
    description: 'Adam against SGD (momentum 0.9), each with gradient clipping by value, on MNIST with R3',
    grids: [
      {
        dataset: 'mnist',
        pattern: 'R3',
        n: [0, 1, 3, 5, 10, 20, 100],
        target: 0,
        seed: SEEDS,
        model: 'LargeMLP',
        optimizer: 'adam',
        lr: 0.01,
        gradClip: [0, 0.1, 0.01],
        epochs: 70,
      },
      {
        dataset: 'mnist',
        pattern: 'R3',
        n: [0, 1, 3, 5, 10, 20, 100],
        target: 0,
        seed: SEEDS,
        model: 'LargeMLP',
        optimizer: 'sgd',
        lr: 0.01,
        momentum: 0.9,
        gradClip: [0, 0.1, 0.01],
        epochs: 70,
      },
    ],
  },
  {
    name: 'paper-cifar10',
    description: 'CIFAR-10 with ResNet20 (SGD lr 0.1, momentum 0.9, weight decay 1e-4, aug01), S3 and R3',
    grids: [
      {
        dataset: 'cifar10',
        pattern: ['S3', 'R3'],
        n: [0, 1, 3, 5, 10, 20, 100],
        target: 0,
        seed: SEEDS,
        model: 'ResNet20',
        optimizer: 'sgd',
        lr: 0.1,
        momentum: 0.9,
        weightDecay: 1e-4,
        aug: 'aug01',
        epochs: 70,
      },
    ],
  },
  {
    name: 'paper-mitigation-weight-decay',
    description: 'l2 regularization (weight decay 1e-5..1e-1) against the spurious score of R3 on MNIST',
    grids: [
      { dataset: 'mnist', pattern: 'R3', n: [0, 3, 10, 100], target: 0, seed: SEEDS, ...MNIST_ADAM, weightDecay: [0, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1] },
    ],
  },
  {
    name: 'paper-mitigation-input-noise',
    description: 'Gaussian input noise (sigma 0.05..5) during training against the spurious score of R3 on MNIST',
    grids: [{ dataset: 'mnist', pattern: 'R3', n: [0, 3, 10, 100], target: 0, seed: SEEDS, ...MNIST_ADAM, inputNoise: [0, 0.05, 0.1, 0.5, 1, 5] }],
  },
  {
    name: 'paper-mitigation-clipping',
    description: 'Gradient clipping by value (1e-1..1e-5) against the spurious score of R3 on MNIST',
    grids: [
      { dataset: 'mnist', pattern: 'R3', n: [0, 3, 10, 100], target: 0, seed: SEEDS, ...MNIST_ADAM, gradClip: [0, 1e-1, 1e-2, 1e-3, 1e-4, 1e-5] },
    ],
  },
  {
    name: 'paper-deletion',
    description:
      'Deleting n = 3, 10, 100 R3 examples from LargeMLP on MNIST and Fashion-MNIST: incremental retraining, group influence (LiSSA, the reference scale), retraining',
    grids: (['mnist', 'fashion'] as const).flatMap((dataset) => deletionGrids(dataset, dataset === 'fashion' ? 100 : 25)),
  },
  {
    name: 'paper-mia',
    description:
      'Membership inference with R3 for n = 1, 3, 5, 10, 20, 100, 1000 over 10 seeds, targets 0 and 1, Adam and SGD, MNIST and Fashion-MNIST',
    grids: [
      { ...MIA_BASE, optimizer: 'adam', lr: 0.01 },
      { ...MIA_BASE, optimizer: 'sgd', lr: 0.01, momentum: 0.9 },
    ],
  },
  {
    name: 'detect',
    description:
      'Finding the n = 3, 10, 100 spurious examples (R3, S3) of LargeMLP on MNIST by every detection method, seeds 0-2; grad-norm and spectral also remove their top 100 and retrain',
    grids: [
      { ...DETECT_BASE, method: ['loss', 'margin', 'tracin', 'trak', 'spectral', 'activation-clustering'] },
      { ...DETECT_BASE, method: 'grad-norm', thenRetrain: 100 },
      // the method that found the examples in smaller settings: its top 100 removed and retrained
      { ...DETECT_BASE, method: 'spectral', thenRetrain: 100 },
      { ...DETECT_BASE, method: 'self-influence', depth: 10 },
    ],
  },
  {
    name: 'paper-lira',
    description:
      'LiRA (K = 16 shadow models, 20 epochs) with R3 and S3 for n = 1, 3, 10, 100 on MNIST with LargeMLP (Adam lr 0.01): AUC and TPR at low FPR for the spurious examples against matched clean ones, and their memorization',
    grids: [{ kind: 'lira', ...LIRA }],
  },
];

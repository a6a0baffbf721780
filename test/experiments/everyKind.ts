// A tiny sweep with one grid of every kind of run, for the local, queue and Slurm tests:
// 200 training and 100 test images of MNIST, one epoch of the MLP.
export const tinyTrain = {
  dataset: 'mnist',
  target: 0,
  model: 'MLP',
  epochs: 1,
  trainSubset: 200,
  testSubset: 100,
  batchSize: 50,
  pattern: 'R3',
  seed: 0,
};

/** Plans to 8 runs: train n = 0 and 3 and mia (stage 0); two forget runs, sensitivity, weights and detect on the n = 3 model (stage 1). */
export const EVERY_KIND = [
  { ...tinyTrain, n: [0, 3] },
  { ...tinyTrain, kind: 'forget', n: 3, method: ['incremental', 'retrain'] },
  { kind: 'mia', dataset: 'mnist', pattern: 'R3', n: 3, seed: 0, model: 'MLP', epochs: 1, batchSize: 50, trainLimit: 300, testLimit: 100 },
  { ...tinyTrain, kind: 'sensitivity', n: 3, images: 20, steps: 4 },
  { ...tinyTrain, kind: 'weights', n: 3, clean: true },
  { ...tinyTrain, kind: 'detect', n: 3, method: 'grad-norm', thenRetrain: 5 },
];

export const EVERY_KIND_ORDER = ['train', 'train', 'mia', 'forget', 'forget', 'sensitivity', 'weights', 'detect'];
/** How many runs EVERY_KIND plans to. */
export const EVERY_KIND_RUNS = EVERY_KIND_ORDER.length;

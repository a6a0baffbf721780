// Small deterministic inputs for every chart builder, shared by the chart tests.
import type { MeanBar, MeanPoint, MitigationPoint, NormScoreGroup, HeatMapPanel } from '../../src/report/charts.ts';

export const N_GRID = [0, 1, 3, 10, 100];

/** Two patterns x five n: a saturating curve per pattern. */
export function scorePoints(facets: (string | undefined)[] = [undefined]): MeanPoint[] {
  return facets.flatMap((facet) =>
    ['S3', 'R3'].flatMap((series, k) =>
      N_GRID.map((x) => ({
        x,
        series,
        facet,
        mean: 0.02 + 0.9 * (1 - Math.exp(-x / (3 + 5 * k))),
        sem: 0.02 + 0.01 * k,
      })),
    ),
  );
}

export function optimizerBars(): MeanBar[] {
  return [1, 3, 10].flatMap((n) =>
    ['adam lr 0.01', 'sgd lr 0.01', 'adam lr 0.01, clip 0.1'].map((series, k) => ({
      group: `${n}`,
      series,
      mean: (0.1 * n ** 0.5) / (1 + k),
      sem: 0.01,
    })),
  );
}

export function deletionBars(): MeanBar[] {
  return [3, 10].flatMap((n) =>
    ['retrain', 'before', 'influence', 'incremental'].map((series, k) => ({
      group: `${n}`,
      series,
      mean: series === 'retrain' ? 0.02 : 0.5 - 0.05 * k,
      sem: 0.03,
    })),
  );
}

export function normGroups(): NormScoreGroup[] {
  const points = ['S1', 'S2', 'S3', 'R1', 'R2', 'R3'].map((pattern, i) => ({ pattern, norm: 1 + 2 * i, score: 0.05 + 0.12 * i, sem: 0.02 }));
  return [{ label: 'n = 3', r: 0.97, pValue: 0.0012, points }];
}

export function miaPoints(): MeanPoint[] {
  return [1, 3, 10, 100].flatMap((x) => [
    { x, series: 'spurious examples', mean: 0.6 + 0.02 * Math.log(x + 1), sem: 0.02 },
    { x, series: 'all examples', mean: 0.52, sem: 0.005 },
  ]);
}

export function sensitivityPoints(): MeanPoint[] {
  const ps = Array.from({ length: 51 }, (_, i) => i / 50);
  return ['MLP', 'CNN002'].flatMap((series, k) => ps.map((x) => ({ x, series, mean: Math.max(0.1, 1 - x ** (1 + k)) })));
}

export function mitigationPoints(): MitigationPoint[] {
  return [0, 1e-5, 1e-4, 1e-3, 1e-2].flatMap((strength) =>
    [3, 10].flatMap((n) => [
      { strength, series: `n = ${n}`, metric: 'spurious score' as const, mean: (0.5 / (1 + 1000 * strength)) * (n / 10), sem: 0.02 },
      { strength, series: `n = ${n}`, metric: 'test accuracy' as const, mean: 0.98 - 5 * strength, sem: 0.002 },
    ]),
  );
}

export function weightPanels(): HeatMapPanel[] {
  const map = Array.from({ length: 784 }, (_, i) => Math.sin(i / 37) * 0.3);
  const diff = Array.from({ length: 784 }, (_, i) => (Math.floor(i / 28) < 5 && i % 28 < 5 ? 0.4 : 0.02 * Math.cos(i)));
  return [
    { title: 'spurious model', values: map },
    { title: 'minus clean model', values: diff, diverging: true, legendTitle: 'difference' },
  ];
}

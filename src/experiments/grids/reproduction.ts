// The runs behind each of the paper's six findings (issue 22), as ordinary sweeps: one
// sweep per finding and budget, registered as the presets reproduce-<budget>-<finding>,
// so `spurlab reproduce`, `spurlab sweep`, the queue and Slurm run the same keys, and
// an interrupted reproduction continues where the store left it.
//
// The paper budget is the paper's presets (presets.ts) unchanged. The fast budget
// derives from them by overriding values, so the two budgets cannot drift apart in
// anything but what the override says: 5 seeds (the paper's number), 5 epochs on a 10,000-image training
// subset (mia: 20,000 images split into two halves; LiRA: a pool of 20,000, R3 only),
// fewer n and mitigation values, MNIST only for deletion and membership inference.
import type { Grid, GridValue, SweepSpec } from './spec.ts';
import { PRESETS } from './presets.ts';

export type Budget = 'fast' | 'paper';
export const BUDGETS: readonly Budget[] = ['fast', 'paper'];

export type FindingId = 'examples' | 'norm' | 'architectures' | 'deletion' | 'mia' | 'mitigations';

export interface Finding {
  id: FindingId;
  number: number;
  title: string;
  /** The paper's claim, as the report quotes it. */
  claim: string;
  /** Runs of this finding that are not in the store yet as a kind (printed by --dry-run). */
  outsideStore?: string;
}

export const FINDINGS: readonly Finding[] = [
  {
    id: 'examples',
    number: 1,
    title: 'A handful of examples suffices',
    claim:
      'A few spurious training examples (n = 1 to 10 of 60,000) are enough for the network to learn the pattern: the spurious score rises above its n = 0 baseline, on MNIST and Fashion-MNIST, for every pattern.',
  },
  {
    id: 'norm',
    number: 2,
    title: 'Pattern norm against score',
    claim:
      'Patterns of larger l2 norm are learnt from fewer examples: the spurious score correlates positively with the pattern norm (Pearson r over patterns).',
  },
  {
    id: 'architectures',
    number: 3,
    title: 'Architectures',
    claim: 'Architectures that are more sensitive to their input (smaller occlusion area) are more susceptible to rare spurious correlations.',
  },
  {
    id: 'deletion',
    number: 4,
    title: 'Deletion',
    claim:
      'Incremental retraining and first-order influence-function deletion do not remove a learnt rare spurious correlation; only retraining without the examples does.',
  },
  {
    id: 'mia',
    number: 5,
    title: 'Membership inference',
    claim: 'Rare spurious examples are exposed: a shadow-model membership attack flags them as members more often than other training examples.',
  },
  {
    id: 'mitigations',
    number: 6,
    title: 'Mitigations',
    claim:
      'l2 regularization (weight decay) and Gaussian input noise reduce the spurious score but cost test accuracy; gradient clipping does not help.',
  },
];

export const FINDING_IDS: readonly FindingId[] = FINDINGS.map((f) => f.id);

const FAST_SEEDS = [0, 1, 2, 3, 4];
const FAST_TRAIN = { seed: FAST_SEEDS, epochs: 5, trainSubset: 10_000 };
const FAST_MIA = { seed: FAST_SEEDS, epochs: 5, trainLimit: 20_000 };

function preset(name: string): SweepSpec {
  const p = PRESETS.find((s) => s.name === name);
  if (!p) throw new Error(`reproduction: preset ${name} is missing from grids/presets.ts`);
  return p;
}

function gridsOf(...names: string[]): Grid[] {
  return names.flatMap((n) => preset(n).grids);
}

function withValues(grids: Grid[], values: Record<string, GridValue | GridValue[]>): Grid[] {
  return grids.map((g) => ({ ...g, ...values }));
}

/** The same train grids measured by kind sensitivity (occlusion area, input-gradient norm). */
function withSensitivity(grids: Grid[]): Grid[] {
  return [...grids, ...grids.map((g) => ({ ...g, kind: 'sensitivity' }))];
}

const hasValue = (g: Grid, key: string, value: GridValue) => g[key] === value;

const PAPER_GRIDS: Record<FindingId, () => Grid[]> = {
  examples: () => gridsOf('paper-mnist-patterns', 'paper-fashion-patterns'),
  norm: () => gridsOf('paper-mnist-patterns', 'paper-fashion-patterns'),
  architectures: () => withSensitivity(gridsOf('paper-architectures')),
  deletion: () => gridsOf('paper-deletion'),
  mia: () => gridsOf('paper-mia', 'paper-lira'),
  mitigations: () => gridsOf('paper-mitigation-weight-decay', 'paper-mitigation-input-noise', 'paper-mitigation-clipping'),
};

const FAST_GRIDS: Record<FindingId, () => Grid[]> = {
  examples: () => withValues(PAPER_GRIDS.examples(), { ...FAST_TRAIN, n: [0, 1, 3, 10, 100] }),
  norm: () => FAST_GRIDS.examples(),
  architectures: () => withSensitivity(withValues(gridsOf('paper-architectures'), { ...FAST_TRAIN, n: [0, 3, 100] })),
  deletion: () =>
    withValues(
      PAPER_GRIDS.deletion().filter((g) => hasValue(g, 'dataset', 'mnist')),
      { ...FAST_TRAIN, n: [3, 10, 100] },
    ),
  mia: () => [
    ...withValues(
      gridsOf('paper-mia').filter((g) => hasValue(g, 'optimizer', 'adam')),
      { ...FAST_MIA, dataset: 'mnist', target: 0, n: [1, 3, 10, 100] },
    ),
    // LiRA on the same pool size and schedule, R3 only, K = 16 shadow models per setting
    ...withValues(gridsOf('paper-lira'), { ...FAST_MIA, pattern: 'R3', n: [1, 3, 10, 100] }),
  ],
  mitigations: () => withValues(PAPER_GRIDS.mitigations(), { ...FAST_TRAIN, n: [0, 10, 100] }).map((g) => ({ ...g, ...fastMitigationValues(g) })),
};

/** Four values per mitigation (0 the unmitigated baseline, shared by the three grids). */
function fastMitigationValues(g: Grid): Grid {
  if ('weightDecay' in g && Array.isArray(g.weightDecay)) return { weightDecay: [0, 1e-4, 1e-3, 1e-2] };
  if ('inputNoise' in g && Array.isArray(g.inputNoise)) return { inputNoise: [0, 0.1, 0.5, 1] };
  if ('gradClip' in g && Array.isArray(g.gradClip)) return { gradClip: [0, 1e-2, 1e-3, 1e-4] };
  return {};
}

export function reproductionPresetName(budget: Budget, finding: FindingId): string {
  return `reproduce-${budget}-${finding}`;
}

/** The sweep behind one finding at one budget. */
export function reproductionSweep(budget: Budget, finding: FindingId): SweepSpec {
  const f = FINDINGS.find((x) => x.id === finding)!;
  const grids = (budget === 'paper' ? PAPER_GRIDS : FAST_GRIDS)[finding]();
  const how = budget === 'paper' ? "the paper's 5 seeds and 70 epochs" : `${FAST_SEEDS.length} seeds, 5 epochs on a 10,000-image subset`;
  return { name: reproductionPresetName(budget, finding), description: `Finding ${f.number} (${f.title}), ${budget} budget: ${how}`, grids };
}

/** Every reproduction sweep as a preset, for `spurlab sweep reproduce-<budget>-<finding>`. */
export function reproductionPresets(): SweepSpec[] {
  return BUDGETS.flatMap((b) => FINDING_IDS.map((f) => reproductionSweep(b, f)));
}

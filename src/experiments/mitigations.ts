// The paper's mitigation sweeps (PROTOCOL section 5; later version of the paper): l2
// weight decay, Gaussian input noise during training (x + sigma * N(0, 1)) and gradient
// clipping by value, each swept against the spurious score. The values are those of the
// reference's regularization notebook; the training options already exist in TrainConfig
// (weightDecay, inputNoise, gradClip), so a sweep preset only needs these lists.
import type { TrainConfig } from '../train/config.ts';

export type MitigationName = 'weightDecay' | 'inputNoise' | 'gradClip';

export interface MitigationValues {
  weightDecay: readonly number[];
  inputNoise: readonly number[]; // sigma
  gradClip: readonly number[]; // c: every gradient element clamped to [-c, c]
}

/** Per data set; the unmitigated baseline (value 0) is not listed, see mitigationSettings. */
export const MITIGATION_GRIDS: Readonly<Record<'mnist' | 'fashion' | 'cifar10', MitigationValues>> = {
  mnist: {
    weightDecay: [1e-5, 1e-4, 1e-3, 1e-2, 5e-2, 1e-1],
    inputNoise: [0.05, 0.1, 0.2, 0.5, 0.75, 1, 5],
    gradClip: [1e-1, 1e-2, 1e-3, 1e-4, 1e-5],
  },
  fashion: {
    weightDecay: [1e-5, 1e-4, 1e-3, 1e-2, 5e-2, 1e-1],
    inputNoise: [0.05, 0.1, 0.2, 0.5, 0.75, 1, 5],
    gradClip: [1e-1, 1e-2, 1e-3, 1e-4, 1e-5],
  },
  cifar10: {
    weightDecay: [1e-6, 1e-5, 1e-4, 1e-3, 1e-2],
    inputNoise: [0.1, 0.2, 0.5, 1, 2],
    gradClip: [1e-2, 1e-1, 1, 10],
  },
};

/**
 * The rest of each mitigation sweep in the reference notebook: Adam (lr 0.01), target 0,
 * dataset seeds 0-4, 70 epochs, no weight decay unless swept. The notebook's last run
 * uses S3 (v8) after an R3 (v20) one; both are listed.
 */
// MNIST and Fashion-MNIST share one setting in the notebook
const MLP_BASE = {
  model: 'LargeMLP',
  optimizer: 'adam' as const,
  lr: 0.01,
  patterns: ['S3', 'R3'],
  n: [1, 3, 5, 10, 20, 100],
  target: [0],
  seed: [0, 1, 2, 3, 4],
  epochs: 70,
  aug: 'none' as const,
};

export const MITIGATION_BASE = {
  mnist: MLP_BASE,
  fashion: MLP_BASE,
  cifar10: {
    model: 'ResNet20Norm02',
    optimizer: 'adam',
    lr: 0.01,
    patterns: ['S3', 'R3'],
    n: [1, 3, 5, 10, 20, 100, 1000],
    target: [0],
    seed: [0, 1, 2, 3, 4],
    epochs: 70,
    aug: 'aug01',
  },
} as const;

export interface MitigationSetting {
  mitigation: MitigationName | 'none';
  value: number;
  overrides: Partial<Pick<TrainConfig, MitigationName>>;
}

/** The baseline plus every value of one mitigation (or of all three), as TrainConfig overrides. */
export function mitigationSettings(dataset: keyof typeof MITIGATION_GRIDS, which?: MitigationName): MitigationSetting[] {
  const grid = MITIGATION_GRIDS[dataset];
  const names: MitigationName[] = which ? [which] : ['weightDecay', 'inputNoise', 'gradClip'];
  const settings: MitigationSetting[] = [{ mitigation: 'none', value: 0, overrides: {} }];
  for (const name of names) for (const value of grid[name]) settings.push({ mitigation: name, value, overrides: { [name]: value } });
  return settings;
}

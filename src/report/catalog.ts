/**
 * The report's sections, in the paper's order, with the sweep presets that fill them.
 * A section appears only when the store holds its data; otherwise the report's
 * appendix names the presets to run.
 */

export interface SectionInfo {
  id: string;
  title: string;
  /** One or two sentences: what the figure shows and what to look for. */
  intro: string;
  /** Sweep presets (`spurlab sweep <preset>`) whose runs fill the section. */
  presets: string[];
  /** A further step after the sweep, when the sweep alone does not fill the section. */
  afterwards?: string;
}

export const SECTION_CATALOG: readonly SectionInfo[] = [
  {
    id: 'patterns',
    title: 'Spurious score against n, by pattern',
    intro:
      'The share of test images whose target-class probability rises by more than 0.1 when the pattern is added, against the number n of patterned training images: one dot per run, lines through the means, error bars ± SEM over runs (n = 0 is the clean baseline). Settings that differ in anything but the pattern (epochs, subsets, optimizer) are separate panels. The paper finds that a handful of examples suffices.',
    presets: ['paper-mnist-patterns', 'paper-fashion-patterns', 'paper-cifar10'],
  },
  {
    id: 'pattern-norm',
    title: 'Pattern norm and spurious score',
    intro:
      'Each point is one pattern: its empirical l2 norm against its mean spurious score at one n. The paper finds that patterns with a larger norm are learnt more easily (positive Pearson r).',
    presets: ['paper-mnist-patterns', 'paper-fashion-patterns'],
  },
  {
    id: 'datasets',
    title: 'Spurious score against n, by data set',
    intro: 'The same pattern, architecture and optimizer on different data sets.',
    presets: ['paper-mnist-patterns', 'paper-fashion-patterns'],
  },
  {
    id: 'architectures',
    title: 'Spurious score against n, by architecture',
    intro:
      'The paper finds that architectures more sensitive to their input (see the occlusion curves) are more susceptible to rare spurious correlations.',
    presets: ['paper-architectures'],
  },
  {
    id: 'sensitivity',
    title: 'Model sensitivity: occlusion curves',
    intro:
      'Mean probability of the true class on training images when each non-zero pixel is zeroed with probability p; a curve that falls faster belongs to a model more sensitive to its input.',
    presets: ['paper-architectures'],
    afterwards: 'then `spurlab sensitivity <run dirs> --store PATH` on its runs',
  },
  {
    id: 'weight-maps',
    title: 'First-layer weight maps',
    intro:
      'For MLPs, the maximum over hidden units of the first-layer weights of each pixel, and its difference from a model trained without the pattern: a learnt pattern shows up where it was drawn.',
    presets: ['paper-architectures'],
    afterwards: 'then store weight maps of its MLP runs as runs of kind `weights`',
  },
  {
    id: 'optimizers',
    title: 'Optimizers and gradient clipping',
    intro: 'The same setting trained with different optimizers, learning rates and gradient clipping.',
    presets: ['paper-optimizers'],
  },
  {
    id: 'deletion',
    title: 'Deleting the spurious examples',
    intro:
      'Spurious score before deletion, after incremental retraining and after first-order influence deletion, against retraining from scratch without the examples. The paper finds that neither method reaches the retrained model.',
    presets: ['paper-deletion'],
  },
  {
    id: 'unlearning',
    title: 'Unlearning methods against retraining',
    intro:
      "Spurious score after each of today's unlearning methods (their papers' defaults) against the method's wall time; dashed lines mark the model retrained without the examples (its score and its training time). A method that forgets the correlation reaches the retrained score in less time.",
    presets: ['unlearning'],
  },
  {
    id: 'membership-inference',
    title: 'Membership inference',
    intro:
      'Accuracy of a shadow-model membership-inference attack on the spurious training examples and on all examples (0.5 is chance). The paper finds the spurious examples are easier to identify: rare spurious correlations hurt privacy.',
    presets: ['paper-mia'],
  },
  {
    id: 'detection',
    title: 'Finding the spurious examples',
    intro:
      'How well each detection method (loss, margin, gradient norm, self-influence, TracIn, TRAK, spectral signatures, activation clustering) ranks the spurious training examples first: precision at n against n, and the rank of every spurious example (1 = flagged first; chance puts them near the middle of the training set).',
    presets: ['detect'],
  },
  {
    id: 'lira',
    title: 'Membership inference with LiRA, and memorization',
    intro:
      'The likelihood-ratio attack (Carlini et al. 2022) on K shadow models, every training example in half of them and each model the target in turn: ROC curves on log-log axes, the true-positive rate at 0.1% and 1% false-positive rate against n for the spurious examples, clean examples of the target class and all examples, and the Feldman-Zhang memorization estimate from the same models (accuracy on an example when trained on it minus when not).',
    presets: ['paper-lira'],
  },
  {
    id: 'mitigation-weight-decay',
    title: 'Mitigation: weight decay',
    intro: 'Spurious score and test accuracy against the l2 regularization strength (log axis); dashed lines show the model without it.',
    presets: ['paper-mitigation-weight-decay'],
  },
  {
    id: 'mitigation-input-noise',
    title: 'Mitigation: Gaussian input noise',
    intro:
      'Spurious score and test accuracy against the standard deviation of Gaussian noise added to training inputs (log axis); dashed lines show the model without it.',
    presets: ['paper-mitigation-input-noise'],
  },
  {
    id: 'mitigation-clipping',
    title: 'Mitigation: gradient clipping',
    intro:
      'Spurious score and test accuracy against the gradient clipping threshold (log axis; smaller clips harder); dashed lines show the model without clipping.',
    presets: ['paper-mitigation-clipping'],
  },
  {
    id: 'training-curves',
    title: 'Training curves',
    intro: 'Loss, training accuracy and test accuracy per epoch, from the history each run stores (mean ± SEM over the runs of a setting).',
    presets: ['demo'],
  },
  {
    id: 'settings',
    title: 'All training settings',
    intro:
      'Every training setting in the store: runs, mean spurious score, SEM, a 95% bootstrap interval of the mean, the one-sided test of the per-run scores against the n = 0 runs of the same setting (Welch, with the exact permutation test beside it; "n.s." at p ≥ 0.05, "(min.)" where the permutation test is at the smallest p its run counts allow), and test accuracy.',
    presets: ['paper-mnist-patterns'],
  },
];

export function sectionInfo(id: string): SectionInfo {
  const info = SECTION_CATALOG.find((s) => s.id === id);
  if (!info) throw new RangeError(`no report section "${id}"; known: ${SECTION_CATALOG.map((s) => s.id).join(', ')}`);
  return info;
}

/** Which preset adds a data set's curves to the pattern section (matched on the lower-cased data set name). */
export const PATTERN_PRESET_BY_DATASET: Readonly<Record<string, string>> = {
  mnist: 'paper-mnist-patterns',
  fashion: 'paper-fashion-patterns',
  cifar10: 'paper-cifar10',
};

/** The command that runs a preset, as the appendix prints it. */
export function sweepCommand(preset: string): string {
  return `spurlab sweep ${preset}`;
}

// The unlearning methods as one table: each one's name on the command line, what data it
// needs, its paper's hyper-parameters as defaults (the options it takes are exactly the
// keys of its defaults), and how it runs. The forget command, the forget run kind and the
// report read this table only.
import { UserError } from '../../util/errors.ts';
import { finetune } from './finetune.ts';
import type { UnlearnInput, UnlearnTrace } from './loop.ts';
import { gradientAscent, negGradPlus } from './negGrad.ts';
import { randomLabel, salun } from './randomLabel.ts';
import { scrub } from './scrub.ts';
import { ssd } from './ssd.ts';

export type UnlearnMethod = 'finetune' | 'gradient-ascent' | 'neggrad-plus' | 'scrub' | 'random-label' | 'salun' | 'l1-sparse' | 'ssd';
export const UNLEARN_METHODS: readonly UnlearnMethod[] = [
  'finetune',
  'gradient-ascent',
  'neggrad-plus',
  'scrub',
  'random-label',
  'salun',
  'l1-sparse',
  'ssd',
];

/** Every option any method takes; a method takes the keys of its defaults. */
export interface UnlearnOptions {
  epochs?: number;
  lr?: number;
  batch?: number;
  forgetBatch?: number;
  momentum?: number;
  weightDecay?: number;
  alpha?: number;
  gamma?: number;
  temperature?: number;
  maxSteps?: number;
  threshold?: number;
  lambda?: number;
}
export type UnlearnOptionName = keyof UnlearnOptions;

export interface MethodSpec {
  name: UnlearnMethod;
  summary: string;
  /** What the method reads: the forget set, the retain set, the whole training set's Fisher. */
  data: string;
  needsRetain: boolean;
  source: string;
  defaults: Partial<Record<UnlearnOptionName, number>>;
  run(input: UnlearnInput, o: Required<UnlearnOptions>): UnlearnTrace;
}

// The reference codes' SGD: momentum 0.9, weight decay 5e-4 (Unlearn-Sparse, SalUn, SCRUB).
const SGD_DEFAULTS = { momentum: 0.9, weightDecay: 5e-4 };

export const METHODS: readonly MethodSpec[] = [
  {
    name: 'finetune',
    summary: 'fine-tune on the retain set (FT)',
    data: 'retain set',
    needsRetain: true,
    source: 'Unlearn-Sparse FT: 10 epochs, lr 0.01, batch 256',
    defaults: { epochs: 10, lr: 0.01, batch: 256, ...SGD_DEFAULTS },
    run: (input, o) => finetune(input, { ...o, alpha: 0 }, 'finetune'),
  },
  {
    name: 'gradient-ascent',
    summary: 'gradient ascent on the forget set (GA, NegGrad)',
    data: 'forget set only',
    needsRetain: false,
    source: 'Unlearn-Sparse GA: 5 epochs, lr 1e-4, batch 256',
    defaults: { epochs: 5, lr: 1e-4, batch: 256, ...SGD_DEFAULTS },
    run: (input, o) => gradientAscent(input, o),
  },
  {
    name: 'neggrad-plus',
    summary: 'alpha CE(retain) - (1 - alpha) CE(forget) (NegGrad+)',
    data: 'forget and retain sets',
    needsRetain: true,
    source: 'Kurmanji et al. 2023 (SCRUB code): alpha 0.95, 10 epochs, lr 0.01, batch 256, no weight decay',
    defaults: { epochs: 10, lr: 0.01, batch: 256, alpha: 0.95, momentum: 0.9, weightDecay: 0 },
    run: (input, o) => negGradPlus(input, o),
  },
  {
    name: 'scrub',
    summary: 'max KL on the forget set, min CE + KL on the retain set against the frozen original (SCRUB)',
    data: 'forget and retain sets',
    needsRetain: true,
    source: 'Kurmanji et al. 2023: 5 epochs, 3 max epochs, lr 5e-4 (/10 after epochs 3, 5, 9), batches 128/32, gamma 0.99, alpha 0.001, T 4',
    defaults: { epochs: 5, maxSteps: 3, lr: 5e-4, batch: 128, forgetBatch: 32, gamma: 0.99, alpha: 0.001, temperature: 4, ...SGD_DEFAULTS },
    run: (input, o) => scrub(input, o),
  },
  {
    name: 'random-label',
    summary: 'train on the forget set with random labels and the retain set (RL)',
    data: 'forget and retain sets',
    needsRetain: true,
    source: 'Unlearn-Sparse RL: 10 epochs, lr 0.01, batch 256',
    defaults: { epochs: 10, lr: 0.01, batch: 256, ...SGD_DEFAULTS },
    run: (input, o) => randomLabel(input, o),
  },
  {
    name: 'salun',
    summary: 'random labelling restricted to the weights most salient for the forget loss (SalUn)',
    data: 'forget and retain sets',
    needsRetain: true,
    source: 'Fan et al. 2024: mask threshold 0.5, 10 epochs, lr 0.013, batch 256',
    defaults: { epochs: 10, lr: 0.013, batch: 256, threshold: 0.5, ...SGD_DEFAULTS },
    run: (input, o) => salun(input, o),
  },
  {
    name: 'l1-sparse',
    summary: 'fine-tune on the retain set with a decaying l1 penalty (l1-sparse)',
    data: 'retain set',
    needsRetain: true,
    source: 'Jia et al. 2023 (Unlearn-Sparse FT_prune/FT_l1): alpha 1e-4 decaying linearly, 10 epochs, lr 0.01, batch 256',
    defaults: { epochs: 10, lr: 0.01, batch: 256, alpha: 1e-4, ...SGD_DEFAULTS },
    run: (input, o) => finetune(input, o, 'l1-sparse'),
  },
  {
    name: 'ssd',
    summary: 'dampen the weights whose forget-set Fisher exceeds alpha x the training-set Fisher (SSD)',
    data: 'forget set and the training-set Fisher, no retain training',
    needsRetain: false,
    source: 'Foster et al. 2024: alpha (selection weighting) 10, lambda (dampening) 1',
    defaults: { alpha: 10, lambda: 1, batch: 128 },
    run: (input, o) => ssd(input, o),
  },
];

/** The optimizer steps a method takes on forget and retain sets of these sizes (progress bars; the tests check it). */
export function expectedSteps(m: UnlearnMethod, o: Required<UnlearnOptions>, forget: number, retain: number): number {
  const batches = (n: number, b: number) => Math.ceil(n / b);
  switch (m) {
    case 'finetune':
    case 'l1-sparse':
    case 'neggrad-plus':
      return o.epochs * batches(retain, o.batch);
    case 'gradient-ascent':
      return o.epochs * batches(forget, o.batch);
    case 'scrub':
      return Math.min(o.maxSteps, o.epochs) * batches(forget, o.forgetBatch) + o.epochs * batches(retain, o.batch);
    case 'random-label':
      return o.epochs * batches(forget + retain, o.batch);
    case 'salun':
      return o.epochs * (batches(forget, o.batch) + batches(retain, o.batch));
    case 'ssd':
      return 0;
  }
}

export function isUnlearnMethod(m: string): m is UnlearnMethod {
  return (UNLEARN_METHODS as readonly string[]).includes(m);
}

export function methodSpec(m: UnlearnMethod): MethodSpec {
  return METHODS.find((s) => s.name === m)!;
}

const CHECKS: Record<UnlearnOptionName, [(v: number) => boolean, string]> = {
  epochs: [(v) => Number.isInteger(v) && v >= 1, 'a positive integer'],
  lr: [(v) => v > 0, 'a positive number'],
  batch: [(v) => Number.isInteger(v) && v >= 1, 'a positive integer'],
  forgetBatch: [(v) => Number.isInteger(v) && v >= 1, 'a positive integer'],
  momentum: [(v) => v >= 0 && v < 1, 'a number in [0, 1)'],
  weightDecay: [(v) => v >= 0, 'a non-negative number'],
  alpha: [(v) => v >= 0, 'a non-negative number'],
  gamma: [(v) => v >= 0, 'a non-negative number'],
  temperature: [(v) => v > 0, 'a positive number'],
  maxSteps: [(v) => Number.isInteger(v) && v >= 0, 'a non-negative integer'],
  threshold: [(v) => v > 0 && v <= 1, 'a number in (0, 1]'],
  lambda: [(v) => v > 0, 'a positive number'],
};

/**
 * The method's options: its defaults with the given ones over them, each checked. An
 * option the method does not take is refused, naming the ones it does.
 */
export function resolveUnlearnOptions(m: UnlearnMethod, given: UnlearnOptions): Required<UnlearnOptions> {
  const spec = methodSpec(m);
  const out: Record<string, number> = { ...spec.defaults } as Record<string, number>;
  for (const [k, v] of Object.entries(given) as [UnlearnOptionName, number | undefined][]) {
    if (v === undefined) continue;
    if (!(k in spec.defaults)) throw new UserError(`${k}: not an option of ${m}; it takes ${Object.keys(spec.defaults).join(', ')}`);
    const [ok, expected] = CHECKS[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw new UserError(`${k}: got ${JSON.stringify(v)} for ${m}, expected ${expected}`);
    out[k] = v;
  }
  if (m === 'neggrad-plus' && out.alpha > 1) throw new UserError(`alpha: got ${out.alpha} for neggrad-plus, expected a weight in [0, 1]`);
  return out as Required<UnlearnOptions>;
}

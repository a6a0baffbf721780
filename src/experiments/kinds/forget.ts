// Kind 'forget': delete a trained run's spurious examples by one method and measure the
// score before and after (forget/forget.ts). Its config is the base run's TrainConfig
// plus the method and its options; it depends on that train run. The stored config is
// forgetStoreConfig's (only the options that change the result), as before run kinds.
// The unlearning methods (forget/unlearning/methods.ts) take their options as forget*
// keys and also depend on the train run retrained without the spurious examples, so a
// sweep trains that once per setting and every method is compared with it.
import {
  cleanedConfig,
  checkMethod,
  forgetRun,
  resolveForgetOptions,
  type ForgetMethod,
  type ForgetOptions,
  type ForgetResult,
  checkOptionsFor,
} from '../../forget/forget.ts';
import { AVERAGINGS, type Averaging, SCALINGS, type Scaling } from '../../forget/lissa.ts';
import { INFLUENCE_MODES, type InfluenceMode } from '../../forget/groupInfluence.ts';
import type { TrainConfig } from '../../train/config.ts';
import { isUnlearnMethod, resolveUnlearnOptions, type UnlearnOptions } from '../../forget/unlearning/methods.ts';
import { UserError } from '../../util/errors.ts';
import { TRAIN_KEYS, TRAIN_REQUIRED, trainConfigOf, trainPart } from './train.ts';
import { checkKeys, objectAt, resultWithNumbers, type RunKind } from './types.ts';

/** The deletion's own options; lr and seed are prefixed, the base run has its own. */
export interface ForgetFields {
  method: ForgetMethod;
  forgetLr?: number;
  damp?: number;
  scale?: number | 'auto';
  depth?: number;
  repeats?: number;
  scaling?: Scaling;
  average?: Averaging;
  mode?: InfluenceMode;
  forgetSeed?: number;
  moreEpochs?: number;
  withRetrain?: boolean;
  // the unlearning methods' options (forgetLr is their learning rate too)
  forgetEpochs?: number;
  forgetBatch?: number;
  forgetForgetBatch?: number;
  forgetMomentum?: number;
  forgetWeightDecay?: number;
  forgetAlpha?: number;
  forgetGamma?: number;
  forgetTemperature?: number;
  forgetMaxSteps?: number;
  forgetThreshold?: number;
  forgetLambda?: number;
}

/** Kind key -> option of the unlearning methods. */
const UNLEARN_KEYS: readonly [keyof ForgetFields, keyof UnlearnOptions][] = [
  ['forgetLr', 'lr'],
  ['forgetEpochs', 'epochs'],
  ['forgetBatch', 'batch'],
  ['forgetForgetBatch', 'forgetBatch'],
  ['forgetMomentum', 'momentum'],
  ['forgetWeightDecay', 'weightDecay'],
  ['forgetAlpha', 'alpha'],
  ['forgetGamma', 'gamma'],
  ['forgetTemperature', 'temperature'],
  ['forgetMaxSteps', 'maxSteps'],
  ['forgetThreshold', 'threshold'],
  ['forgetLambda', 'lambda'],
];

export type ForgetConfig = TrainConfig & ForgetFields;

const FORGET_FIELDS = [
  'method',
  'forgetLr',
  'damp',
  'scale',
  'depth',
  'repeats',
  'scaling',
  'average',
  'mode',
  'forgetSeed',
  'moreEpochs',
  'withRetrain',
  'forgetEpochs',
  'forgetBatch',
  'forgetForgetBatch',
  'forgetMomentum',
  'forgetWeightDecay',
  'forgetAlpha',
  'forgetGamma',
  'forgetTemperature',
  'forgetMaxSteps',
  'forgetThreshold',
  'forgetLambda',
] as const;
const KEYS: readonly string[] = [...TRAIN_KEYS, ...FORGET_FIELDS];
const REQUIRED: readonly string[] = [...TRAIN_REQUIRED, 'method'];

function numberOrUndefined(input: Record<string, unknown>, k: string): number | undefined {
  const v = input[k];
  if (v === undefined) return undefined;
  if (typeof v !== 'number') throw new UserError(`${k}: got ${JSON.stringify(v)}, expected a number`);
  return v;
}

/**
 * The stored config of a deletion run: the base run's TrainConfig plus `method` and the
 * method's resolved options that change its result, so equal deletion runs share one key.
 */
export function forgetStoreConfig(cfg: TrainConfig, method: ForgetMethod, options: ForgetOptions): object {
  checkOptionsFor(method, options);
  const o = resolveForgetOptions(cfg, cfg.targetB === null ? cfg.n : 2 * cfg.n, options);
  let chosen: Record<string, unknown> = {};
  // The options added later (moreEpochs, average) join the key only when they differ from
  // the default, so runs recorded before them keep their keys.
  if (method === 'incremental') chosen = { lr: o.lr ?? 'schedule', ...(o.moreEpochs !== undefined ? { moreEpochs: o.moreEpochs } : {}) };
  if (method === 'influence')
    chosen = {
      damp: o.damp,
      scale: o.scale,
      depth: o.depth,
      repeats: o.repeats,
      scaling: o.scaling,
      ...(o.average !== 'mean' ? { average: o.average } : {}),
      mode: o.mode,
      seed: o.seed,
    };
  if (isUnlearnMethod(method)) return { ...cfg, method, options: { ...resolveUnlearnOptions(method, o.unlearn), seed: o.seed, withRetrain: true } };
  return { ...cfg, method, options: { ...chosen, withRetrain: method !== 'retrain' && o.withRetrain } };
}

export function forgetOptionsOf(c: ForgetFields): ForgetOptions {
  const unlearning = isUnlearnMethod(c.method);
  const o: ForgetOptions = {
    lr: unlearning ? undefined : c.forgetLr,
    damp: c.damp,
    scale: c.scale,
    depth: c.depth,
    repeats: c.repeats,
    scaling: c.scaling,
    average: c.average,
    mode: c.mode,
    seed: c.forgetSeed,
    moreEpochs: c.moreEpochs,
    withRetrain: c.withRetrain,
  };
  if (unlearning) {
    const u: UnlearnOptions = {};
    for (const [key, opt] of UNLEARN_KEYS) if (c[key] !== undefined) u[opt] = c[key] as number;
    o.unlearn = u;
  } else {
    const stray = UNLEARN_KEYS.find(([key]) => key !== 'forgetLr' && c[key] !== undefined);
    if (stray) throw new UserError(`${stray[0]}: an option of the unlearning methods, not of ${c.method}`);
  }
  for (const k of Object.keys(o) as (keyof ForgetOptions)[]) if (o[k] === undefined) delete o[k];
  return o;
}

/** The kind keys of unlearning options (the CLI's way in). */
function unlearnFields(u: UnlearnOptions | undefined): Partial<ForgetFields> {
  const out: Partial<Record<keyof ForgetFields, number>> = {};
  for (const [key, opt] of UNLEARN_KEYS) if (u?.[opt] !== undefined) out[key] = u[opt];
  return out as Partial<ForgetFields>;
}

/** A forget config from a base run's config, a method and its options (the CLI's way in). */
export function forgetConfig(base: TrainConfig, method: ForgetMethod, options: ForgetOptions): ForgetConfig {
  return forgetKind.configure({
    ...trainPart(base),
    ...unlearnFields(options.unlearn),
    method,
    forgetLr: options.lr ?? options.unlearn?.lr,
    damp: options.damp,
    scale: options.scale,
    depth: options.depth,
    repeats: options.repeats,
    scaling: options.scaling,
    average: options.average,
    mode: options.mode,
    forgetSeed: options.seed,
    moreEpochs: options.moreEpochs,
    withRetrain: options.withRetrain,
  });
}

export const forgetKind: RunKind<ForgetConfig, ForgetResult> = {
  name: 'forget',
  description: "delete a trained run's spurious examples (incremental retraining, group influence, retraining) and measure again",
  keys: KEYS,
  required: REQUIRED,
  configure(input) {
    checkKeys(input, 'forget', KEYS, REQUIRED);
    const train = trainConfigOf(input);
    if (train.n === 0 || train.dropSpurious)
      throw new UserError(`forget needs a run with spurious examples: got n = ${train.n}${train.dropSpurious ? ' and dropSpurious' : ''}`);
    const method = checkMethod(String(input.method));
    const scale = input.scale === 'auto' ? 'auto' : numberOrUndefined(input, 'scale');
    const choice = <T extends string>(k: string, allowed: readonly T[]): T | undefined => {
      const v = input[k];
      if (v === undefined) return undefined;
      if (!allowed.includes(v as T)) throw new UserError(`${k}: got ${JSON.stringify(v)}, expected ${allowed.join(' or ')}`);
      return v as T;
    };
    if (input.withRetrain !== undefined && typeof input.withRetrain !== 'boolean')
      throw new UserError(`withRetrain: got ${JSON.stringify(input.withRetrain)}, expected true or false`);
    const fields: ForgetFields = {
      method,
      forgetLr: numberOrUndefined(input, 'forgetLr'),
      damp: numberOrUndefined(input, 'damp'),
      scale,
      depth: numberOrUndefined(input, 'depth'),
      repeats: numberOrUndefined(input, 'repeats'),
      scaling: choice('scaling', SCALINGS),
      average: choice('average', AVERAGINGS),
      mode: choice('mode', INFLUENCE_MODES),
      forgetSeed: numberOrUndefined(input, 'forgetSeed'),
      moreEpochs: numberOrUndefined(input, 'moreEpochs'),
      withRetrain: input.withRetrain as boolean | undefined,
    };
    for (const [key] of UNLEARN_KEYS) if (key !== 'forgetLr') (fields as unknown as Record<string, unknown>)[key] = numberOrUndefined(input, key);
    const config: ForgetConfig = { ...train, ...fields };
    for (const k of FORGET_FIELDS) if (config[k] === undefined) delete config[k];
    forgetStoreConfig(train, method, forgetOptionsOf(config)); // validates the options
    return config;
  },
  storeConfig: (c) => forgetStoreConfig(trainPart(c), c.method, forgetOptionsOf(c)),
  // an unlearning method is compared with the retrained run: a train run of its own, shared by the setting's methods
  dependencies: (c) => (isUnlearnMethod(c.method) ? [trainPart(c), cleanedConfig(trainPart(c))] : [trainPart(c)]),
  async run(c, ctx) {
    const dir = await ctx.trainedModel(trainPart(c));
    // the incremental and retrained checkpoints go to the run's own artifact directory, if any
    const result = await forgetRun(dir, c.method, forgetOptionsOf(c), {
      dataDir: ctx.dataDir,
      outDir: ctx.artifactDir,
      retrainedModel: isUnlearnMethod(c.method) ? () => ctx.trainedModel(cleanedConfig(trainPart(c))) : undefined,
      events: { onStep: ctx.events?.onStep, onEpoch: (r) => ctx.events?.onEpoch?.(c.method, r) },
    });
    return { result };
  },
  checkResult(value, where) {
    const r = objectAt(value, where);
    resultWithNumbers(r.before, ['score', 'testAcc'], `${where}: before`);
    resultWithNumbers(r.after, ['score', 'testAcc'], `${where}: after`);
    if (r.retrain !== null) resultWithNumbers(r.retrain, ['score', 'testAcc'], `${where}: retrain`);
    checkMethod(String(r.method));
    return resultWithNumbers<ForgetResult>(r, ['seconds', 'removed', 'trainSize'], where);
  },
  groupBy: ['dataset', 'pattern', 'model', 'method', 'n'],
  columns: [
    { name: 'scoreBefore', value: (r) => r.before.score },
    { name: 'scoreAfter', value: (r) => r.after.score },
    { name: 'testAccAfter', value: (r) => r.after.testAcc },
    { name: 'scoreRetrain', value: (r) => r.retrain?.score ?? NaN },
    { name: 'seconds', value: (r) => r.seconds },
    { name: 'scoreNonTargetAfter', value: (r) => r.after.scoreNonTarget ?? NaN },
    { name: 'forgetAccAfter', value: (r) => r.after.forgetAcc ?? NaN },
    { name: 'retainAccAfter', value: (r) => r.after.retainAcc ?? NaN },
    { name: 'patternedAccAfter', value: (r) => r.after.patternedTestAcc ?? NaN },
    { name: 'memberRateAfter', value: (r) => r.after.forgetMemberRate ?? NaN },
    { name: 'memberRateRetrain', value: (r) => r.retrain?.forgetMemberRate ?? NaN },
    { name: 'l2ToRetrain', value: (r) => r.distance?.after.paramL2 ?? NaN },
    { name: 'klToRetrain', value: (r) => r.distance?.after.testKl ?? NaN },
    { name: 'methodSeconds', value: (r) => r.methodSeconds ?? NaN },
    { name: 'timeVsRetrain', value: (r) => r.relativeTime ?? NaN },
  ],
  reportSections: ['forget', 'unlearning'],
  label: (c) => `${c.dataset} ${c.pattern} n=${c.n} seed=${c.seed} ${c.model} forget by ${c.method}`,
  outcome: (r) => `score ${r.before.score.toFixed(4)} -> ${r.after.score.toFixed(4)}, ${r.seconds.toFixed(1)} s`,
};

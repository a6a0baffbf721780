// Kinds 'lira-shadow' and 'lira': LiRA (privacy/liraRun.ts) on the shared run mechanism.
// Each shadow model is one run, so a queue spreads the K models over workers; its config
// is the LiRA setting plus which of the K it is, and its result is what the attack needs
// from it (the logit-scaled confidence of every pool example, whether it is classified
// right), as base64 of the typed arrays. A 'lira' run reads its K shadow runs' results
// (its inputs) and records the attack and the memorization estimate.
import { makeSpuriousDataset } from '../../data/spurious.ts';
import { analyzeLira, liraConfig, planLira, type LiraOptions, type LiraResult, type LiraRun } from '../../privacy/liraRun.ts';
import { queryCount, trainShadowModel, type LiraQueries, type ShadowOutput } from '../../privacy/liraShadows.ts';
import { checkShadows, type LiraVariant } from '../../privacy/lira.ts';
import type { TrainConfig } from '../../train/config.ts';
import { UserError } from '../../util/errors.ts';
import { checkRunnable, TRAINING_KEYS, trainingSettingOf } from './train.ts';
import { checkKeys, inputOf, objectAt, resultWithNumbers, type RunContext, type RunKind, type RunRef } from './types.ts';

/** A LiRA setting with every default filled: what `spurlab lira` takes. */
export interface LiraConfig {
  dataset: string;
  pattern: string;
  n: number;
  target: number;
  seed: number;
  model: string;
  optimizer: TrainConfig['optimizer'];
  lr: number;
  momentum: number;
  weightDecay: number;
  gradClip: number;
  batchSize: number;
  epochs: number;
  aug: TrainConfig['aug'];
  inputNoise: number;
  modelSeed: number;
  scheduler: boolean;
  shadows: number;
  trainLimit: number;
  testLimit: number;
  queries: LiraQueries;
  matched: number;
  variant: LiraVariant;
  globalVariance: boolean;
  center: 'median' | 'mean';
}

/** One shadow model: the setting's fields that change the models, and k (0..K-1). */
export type LiraShadowConfig = Omit<LiraConfig, 'matched' | 'variant' | 'globalVariance' | 'center'> & { shadow: number };

/** A shadow model's stored result; stats and correct are base64 of Float64 and 0/1 bytes in pool order. */
export interface LiraShadowResult {
  shadow: number;
  shadows: number;
  poolSize: number;
  queries: LiraQueries;
  stats: string;
  correct: string;
  testAcc: number;
  trainAcc: number;
  seconds: number;
}

const SETTING_KEYS = ['dataset', 'pattern', 'n', 'target', 'seed', ...TRAINING_KEYS, 'shadows', 'trainLimit', 'testLimit', 'queries'] as const;
const ATTACK_KEYS = ['matched', 'variant', 'globalVariance', 'center'] as const;
const LIRA_KEYS: readonly string[] = [...SETTING_KEYS, ...ATTACK_KEYS];
const SHADOW_KEYS: readonly string[] = [...SETTING_KEYS, 'shadow'];
const REQUIRED = ['dataset', 'n', 'seed'] as const;

function given(input: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
}

// The LiRA setting of a grid point or transported config, validated, with the defaults filled.
function configureSetting(input: Record<string, unknown>): LiraConfig {
  for (const k of ['dataset', 'pattern', 'queries', 'variant', 'center'] as const)
    if (input[k] !== undefined && typeof input[k] !== 'string') throw new UserError(`${k}: got ${JSON.stringify(input[k])}, expected a string`);
  if (input.globalVariance !== undefined && typeof input.globalVariance !== 'boolean')
    throw new UserError(`globalVariance: got ${JSON.stringify(input.globalVariance)}, expected true or false`);
  for (const k of ['shadows', 'trainLimit', 'testLimit', 'matched'] as const)
    if (input[k] !== undefined && typeof input[k] !== 'number') throw new UserError(`${k}: got ${JSON.stringify(input[k])}, expected a number`);
  const opts = given(input) as unknown as LiraOptions;
  const { train: cfg, store } = liraConfig(opts);
  checkRunnable(cfg);
  checkShadows(store.shadows as number);
  return {
    ...trainingSettingOf(cfg),
    shadows: store.shadows as number,
    trainLimit: store.trainLimit as number,
    testLimit: store.testLimit as number,
    queries: store.queries as LiraQueries,
    matched: store.matched as number,
    variant: opts.variant ?? 'online',
    globalVariance: opts.globalVariance ?? false,
    center: opts.center ?? 'median',
  };
}

/** The config of shadow model k of a LiRA setting. */
export function shadowConfigOf(c: LiraConfig, shadow: number): LiraShadowConfig {
  const { matched: _m, variant: _v, globalVariance: _g, center: _c, ...setting } = c;
  return { ...setting, shadow };
}

const settingOf = (c: LiraShadowConfig): LiraConfig => {
  const { shadow: _s, ...setting } = c;
  return configureSetting(setting);
};

function toBase64(a: Float64Array | Uint8Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}

/** A stored shadow result as the attack takes it, checked against the setting's pool size; `where` names its source. */
export function decodeShadow(r: LiraShadowResult, poolSize: number, queries: LiraQueries, where: string): ShadowOutput {
  const A = queryCount(queries);
  const stats = Buffer.from(r.stats, 'base64');
  const correct = Buffer.from(r.correct, 'base64');
  if (r.poolSize !== poolSize || stats.length !== poolSize * A * 8 || correct.length !== poolSize) {
    throw new UserError(
      `${where}: shadow model ${r.shadow} holds ${stats.length / 8} statistics and ${correct.length} correctness flags; expected ${poolSize * A} and ${poolSize} (pool of ${poolSize})`,
    );
  }
  // copies: a Buffer's bytes may sit at an offset Float64Array cannot view
  const s = new Float64Array(poolSize * A);
  new Uint8Array(s.buffer).set(stats);
  return { stats: s, correct: Uint8Array.from(correct), testAcc: r.testAcc, trainAcc: r.trainAcc, seconds: r.seconds };
}

export const liraShadowKind: RunKind<LiraShadowConfig, LiraShadowResult> = {
  name: 'lira-shadow',
  description: 'one shadow model of a LiRA setting (model k of K on its half of the pool) and its report on every pool example',
  keys: SHADOW_KEYS,
  required: [...REQUIRED, 'shadow'],
  configure(input) {
    checkKeys(input, 'lira-shadow', SHADOW_KEYS, [...REQUIRED, 'shadow']);
    const { shadow, ...rest } = input;
    const setting = configureSetting(rest);
    if (!(typeof shadow === 'number' && Number.isInteger(shadow) && shadow >= 0 && shadow < setting.shadows)) {
      throw new UserError(
        `shadow: got ${JSON.stringify(shadow)}, expected a model number from 0 to ${setting.shadows - 1} (shadows = ${setting.shadows})`,
      );
    }
    return shadowConfigOf(setting, shadow);
  },
  storeConfig(c) {
    const { matched: _m, ...store } = liraConfig(settingOf(c)).store;
    return { ...store, experiment: 'lira-shadow', shadow: c.shadow };
  },
  dependencies: () => [],
  async run(c, ctx) {
    const { data, plan } = planLira({ ...settingOf(c), dataDir: ctx.dataDir });
    const run = plan.runs[c.shadow];
    ctx.events?.onPhase?.(`shadow ${c.shadow + 1}/${c.shadows}`);
    const out = await trainShadowModel(run, data, (r) => ctx.events?.onEpoch?.(`shadow ${c.shadow + 1}/${c.shadows}`, r));
    return {
      result: {
        shadow: c.shadow,
        shadows: c.shadows,
        poolSize: plan.pool.length,
        queries: c.queries,
        stats: toBase64(out.stats),
        correct: toBase64(out.correct),
        testAcc: out.testAcc,
        trainAcc: out.trainAcc,
        seconds: out.seconds,
      },
    };
  },
  checkResult(value, where) {
    const r = resultWithNumbers<LiraShadowResult>(value, ['shadow', 'shadows', 'poolSize', 'testAcc', 'trainAcc', 'seconds'], where);
    for (const f of ['stats', 'correct'] as const)
      if (typeof r[f] !== 'string') throw new UserError(`${where}: result field "${f}" is ${JSON.stringify(r[f])}; expected base64 text`);
    if (r.queries !== 'none' && r.queries !== 'flip')
      throw new UserError(`${where}: result field "queries" is ${JSON.stringify(r.queries)}; expected none or flip`);
    decodeShadow(r, r.poolSize, r.queries, where);
    return r;
  },
  groupBy: ['dataset', 'pattern', 'model', 'n', 'shadows'],
  columns: [
    { name: 'testAcc', value: (r) => r.testAcc },
    { name: 'trainAcc', value: (r) => r.trainAcc },
    { name: 'seconds', value: (r) => r.seconds },
  ],
  reportSections: [],
  label: (c) => `${c.dataset} ${c.pattern} n=${c.n} seed=${c.seed} ${c.model} shadow ${c.shadow + 1}/${c.shadows} (lira)`,
  outcome: (r) => `shadow ${r.shadow + 1}/${r.shadows}: test acc ${(100 * r.testAcc).toFixed(2)}%, train acc ${(100 * r.trainAcc).toFixed(2)}%`,
};

/**
 * The attack on a setting's K shadow models, each taken from `shadowResult` (the store,
 * a queue job's inputs, or trained here): the stored result and the per-example export.
 */
export async function liraFromShadows(
  c: LiraConfig,
  shadowResult: (config: LiraShadowConfig) => Promise<LiraShadowResult>,
  dataDir?: string,
  started = Date.now(),
): Promise<LiraRun> {
  const data = makeSpuriousDataset({ dataset: c.dataset, pattern: c.pattern, n: c.n, target: c.target, seed: c.seed }, { dataDir });
  const { plan, attack } = planLira({ ...c, data });
  const outputs: ShadowOutput[] = [];
  for (let k = 0; k < c.shadows; k++) {
    const r = await shadowResult(shadowConfigOf(c, k));
    outputs.push(decodeShadow(r, plan.pool.length, c.queries, `shadow model ${k} of the LiRA run`));
  }
  return analyzeLira(plan, outputs, data, attack, started);
}

const GROUP_FIELDS = ['auc', 'tprAt01Fpr', 'tprAt1Fpr'];

export const liraKind: RunKind<LiraConfig, LiraResult> = {
  name: 'lira',
  description: 'likelihood-ratio membership attack (LiRA) on K shadow-model runs, and the memorization of the spurious examples',
  keys: LIRA_KEYS,
  required: REQUIRED,
  configure(input) {
    checkKeys(input, 'lira', LIRA_KEYS, REQUIRED);
    return configureSetting(input);
  },
  storeConfig: (c) => ({ ...liraConfig(c).store, variant: c.variant, globalVariance: c.globalVariance, center: c.center }),
  dependencies: () => [],
  inputs: (c): RunRef[] => Array.from({ length: c.shadows }, (_, k) => ({ kind: 'lira-shadow', config: { ...shadowConfigOf(c, k) } })),
  async run(c, ctx: RunContext) {
    const started = Date.now();
    const { result } = await liraFromShadows(c, (sc) => inputOf(ctx, liraShadowKind, sc), ctx.dataDir, started);
    return { result };
  },
  checkResult(value, where) {
    const r = resultWithNumbers<LiraResult>(value, ['shadows', 'seconds'], where);
    for (const g of ['all', 'spurious', 'matchedClean'] as const) resultWithNumbers(r[g], GROUP_FIELDS, `${where}: ${g}`);
    resultWithNumbers(r.memorization, ['spuriousMean', 'populationMean', 'matchedCleanMean', 'poolSize'], `${where}: memorization`);
    const d = objectAt(r.details, `${where}: details`);
    const roc = objectAt(d.roc, `${where}: details.roc`);
    for (const g of ['all', 'spurious', 'matchedClean'])
      if (!Array.isArray(roc[g])) throw new UserError(`${where}: details.roc.${g} is not a list of ROC points`);
    if (!Array.isArray(r.memorization.spuriousRanks) || !Array.isArray(r.memorization.spurious))
      throw new UserError(`${where}: memorization lacks the spurious examples' ranks`);
    objectAt(r.memorization.histogram, `${where}: memorization.histogram`);
    return r;
  },
  groupBy: ['dataset', 'pattern', 'model', 'n', 'shadows'],
  columns: [
    { name: 'aucAll', value: (r) => r.all.auc },
    { name: 'aucSpurious', value: (r) => r.spurious.auc },
    { name: 'aucMatchedClean', value: (r) => r.matchedClean.auc },
    { name: 'tpr01All', value: (r) => r.all.tprAt01Fpr },
    { name: 'tpr01Spurious', value: (r) => r.spurious.tprAt01Fpr },
    { name: 'tpr01MatchedClean', value: (r) => r.matchedClean.tprAt01Fpr },
    { name: 'tpr1All', value: (r) => r.all.tprAt1Fpr },
    { name: 'tpr1Spurious', value: (r) => r.spurious.tprAt1Fpr },
    { name: 'tpr1MatchedClean', value: (r) => r.matchedClean.tprAt1Fpr },
    { name: 'memSpurious', value: (r) => r.memorization.spuriousMean },
    { name: 'memPopulation', value: (r) => r.memorization.populationMean },
  ],
  reportSections: ['lira'],
  label: (c) => `${c.dataset} ${c.pattern} n=${c.n} seed=${c.seed} ${c.model} K=${c.shadows} (lira ${c.variant})`,
  outcome: (r) =>
    `AUC all ${r.all.auc.toFixed(3)}, spurious ${r.spurious.auc.toFixed(3)}, matched clean ${r.matchedClean.auc.toFixed(3)}; memorization spurious ${r.memorization.spuriousMean.toFixed(3)} (population ${r.memorization.populationMean.toFixed(3)})`,
};

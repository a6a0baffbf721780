// Kind 'mia': membership inference against a model trained with n rare spurious
// examples (privacy/membershipInference.ts). It trains its own target and shadow
// models on halves of the data, so it depends on no train run.
import { membershipConfig, runMembershipInference, type MembershipOptions, type MembershipResult } from '../../privacy/membershipInference.ts';
import { UserError } from '../../util/errors.ts';
import { checkRunnable, TRAINING_KEYS, trainingSettingOf } from './train.ts';
import { checkKeys, objectAt, resultWithNumbers, type RunKind } from './types.ts';

/** The stored options of a run: what `spurlab mia` takes, with every default filled. */
export type MiaConfig = Required<Omit<MembershipOptions, 'dataDir' | 'artifactDir' | 'data' | 'events'>>;

const KEYS: readonly string[] = ['dataset', 'pattern', 'n', 'target', 'seed', ...TRAINING_KEYS, 'trainLimit', 'testLimit', 'balance'];
const REQUIRED = ['dataset', 'n', 'seed'] as const;

export const miaKind: RunKind<MiaConfig, MembershipResult> = {
  name: 'mia',
  description: 'membership inference (shadow-model attack) on a model trained with n spurious examples',
  keys: KEYS,
  required: REQUIRED,
  configure(input) {
    checkKeys(input, 'mia', KEYS, REQUIRED);
    for (const k of ['dataset', 'pattern'] as const)
      if (input[k] !== undefined && typeof input[k] !== 'string') throw new UserError(`${k}: got ${JSON.stringify(input[k])}, expected a string`);
    if (input.balance !== undefined && typeof input.balance !== 'boolean')
      throw new UserError(`balance: got ${JSON.stringify(input.balance)}, expected true or false`);
    const opts = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) as unknown as MembershipOptions;
    const { train: cfg } = membershipConfig(opts);
    checkRunnable(cfg);
    return {
      ...trainingSettingOf(cfg),
      trainLimit: opts.trainLimit ?? 0,
      testLimit: opts.testLimit ?? 0,
      balance: opts.balance ?? true,
    };
  },
  storeConfig: (c) => membershipConfig(c).store,
  dependencies: () => [],
  async run(c, ctx) {
    const result = await runMembershipInference({
      ...c,
      dataDir: ctx.dataDir,
      artifactDir: ctx.artifactDir,
      events: { onPhase: ctx.events?.onPhase, onEpoch: ctx.events?.onEpoch },
    });
    return { result };
  },
  checkResult(value, where) {
    objectAt(objectAt(value, where).details, `${where}: details`);
    return resultWithNumbers<MembershipResult>(value, ['n', 'attackAcc', 'attackAccSpurious', 'auc', 'tprAt1Fpr', 'targetTestAcc'], where);
  },
  groupBy: ['dataset', 'pattern', 'model', 'optimizer', 'target', 'n'],
  columns: [
    { name: 'attackAcc', value: (r) => r.attackAcc },
    { name: 'attackAccSpurious', value: (r) => r.attackAccSpurious },
    { name: 'auc', value: (r) => r.auc },
    { name: 'tprAt1Fpr', value: (r) => r.tprAt1Fpr },
    { name: 'targetTestAcc', value: (r) => r.targetTestAcc },
  ],
  reportSections: ['mia'],
  label: (c) => `${c.dataset} ${c.pattern} n=${c.n} target=${c.target} seed=${c.seed} ${c.model} ${c.optimizer} (mia)`,
  outcome: (r) => `attack accuracy ${(100 * r.attackAcc).toFixed(2)}% (spurious ${(100 * r.attackAccSpurious).toFixed(2)}%), AUC ${r.auc.toFixed(3)}`,
};

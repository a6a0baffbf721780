// `spurlab mia`: membership inference against a model trained with n rare spurious
// examples (PROTOCOL section 8). Trains a target and a shadow model, fits the attack and
// reports its accuracy on all examples and on the spurious ones, ROC AUC and TPR at 1%
// FPR. Runs are recorded in the results store (kind 'mia'); an identical finished run is
// reported from the store instead of being trained again.
import { numberOption, stringOption, flag, type Command, type OptionSpecs, type ParsedArgs, DATA_DIR_OPTION } from '../command.ts';
import { UserError } from '../../util/errors.ts';
import { trainOverrides, TRAINING_OPTIONS } from './train.ts';
import { DEFAULT_RESULTS_PATH, ResultsStore } from '../../store/results.ts';
import { runMembershipInference, type MembershipOptions, type MembershipResult } from '../../privacy/membershipInference.ts';
import { kindKey, miaKind } from '../../experiments/kinds/index.ts';
import { resultOf, runInStore } from '../../experiments/sweep.ts';

const USAGE = [
  'spurlab mia --dataset D --n N --seed S [--pattern R3] [--target 0] [--model LargeMLP] [--epochs 70]',
  '       [--optimizer adam|sgd] [--lr 0.01] [--momentum M] [--weight-decay W] [--grad-clip C] [--aug none|aug01] [--input-noise SIGMA]',
  '       [--batch-size 128] [--model-seed 0] [--no-scheduler] [--train-limit K] [--test-limit K] [--unbalanced]',
  '       [--data-dir DIR] [--store PATH | --no-store] [--json]',
  '  --train-limit/--test-limit: use K training/test images in all (both halves), for quick runs',
  '  --unbalanced: train and evaluate the attack on all members instead of as many as there are non-members',
].join('\n');

const isCount = (v: number) => Number.isInteger(v) && v >= 0;

/** The spurious data set of a membership attack (mia, lira): given by options, not by a name. */
export const ATTACK_DATA_OPTIONS: OptionSpecs = {
  dataset: { type: 'string', help: 'D: mnist, fashion, cifar10, ...', defaultText: 'required' },
  pattern: {
    type: 'string',
    help: 'P: the spurious pattern (S1 S2 S3 R1 R2 R3 Co, noise:l2=<norm>, file.json, mask.png)',
    defaultText: "R3, the paper's",
  },
  n: { type: 'string', help: 'N: how many training images get the pattern (spurious examples)', defaultText: 'required' },
  target: { type: 'string', help: 'T: the class whose images are patterned', defaultText: '0' },
  seed: { type: 'string', help: 'S: data set seed (which images are patterned, the halves)', defaultText: 'required' },
};

/** What every attack command says about where it records its runs. */
export function attackStoreOptions(kind: string): OptionSpecs {
  return {
    'data-dir': DATA_DIR_OPTION,
    store: {
      type: 'string',
      help: `PATH: record the run in this results store (kind ${kind}); the same command again reports it without training`,
      defaultText: DEFAULT_RESULTS_PATH,
    },
    'no-store': { type: 'boolean', help: 'record nothing (and look nothing up)' },
    json: { type: 'boolean', help: 'print the result as one JSON line (accuracies as 0-1 fractions)' },
  };
}

function required(args: ParsedArgs, name: string): void {
  if (args.values[name] === undefined) throw new UserError(`--${name} is required\nusage: ${USAGE}`);
}

/** Only the options given: the rest take the library's defaults. */
function optionsFrom(args: ParsedArgs): MembershipOptions {
  for (const name of ['dataset', 'n', 'seed']) required(args, name);
  if (args.positionals.length > 0) throw new UserError(`unexpected argument "${args.positionals[0]}"\nusage: ${USAGE}`);
  const num = (name: string, check: (v: number) => boolean, expected: string) =>
    args.values[name] === undefined ? undefined : numberOption(args, name, 0, check, expected);
  const opts: MembershipOptions = {
    dataset: stringOption(args, 'dataset') as string,
    pattern: stringOption(args, 'pattern'),
    n: numberOption(args, 'n', 0, isCount, 'a non-negative integer'),
    target: num('target', isCount, 'a class number'),
    seed: numberOption(args, 'seed', 0, isCount, 'a non-negative integer'),
    ...trainOverrides(args),
    model: stringOption(args, 'model') ?? 'LargeMLP',
    trainLimit: num('train-limit', isCount, 'a non-negative integer (0 = all)'),
    testLimit: num('test-limit', isCount, 'a non-negative integer (0 = all)'),
    balance: flag(args, 'unbalanced') ? false : undefined,
    dataDir: stringOption(args, 'data-dir'),
  };
  // Absent options must not appear as explicit undefined keys in the stored configuration.
  for (const k of Object.keys(opts) as (keyof MembershipOptions)[]) if (opts[k] === undefined) delete opts[k];
  return opts;
}

const f3 = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : 'n/a');
/** Accuracies in % (AUC and TPR stay 0-1, as in the papers). */
export const pct = (v: number) => (Number.isFinite(v) ? `${(100 * v).toFixed(2)}%` : 'n/a');

function printReport(io: { out: (l: string) => void }, opts: MembershipOptions, r: MembershipResult): void {
  const d = r.details;
  const spuriousHits = Math.round(r.attackAccSpurious * d.spuriousIndices.length);
  io.out(
    `membership inference: ${opts.dataset}, pattern ${opts.pattern ?? 'R3'}, n = ${r.n}, target ${opts.target ?? 0}, seed ${opts.seed}, ${opts.model}`,
  );
  io.out(`  halves: target ${d.sizes.targetTrain} train / ${d.sizes.targetTest} test, shadow ${d.sizes.shadowTrain} / ${d.sizes.shadowTest}`);
  io.out(
    `  target model: train acc ${pct(d.targetTrainAcc)}, test acc ${pct(r.targetTestAcc)}; shadow model: train acc ${pct(d.shadowTrainAcc)}, test acc ${pct(d.shadowTestAcc)}`,
  );
  io.out(
    `  attack: C = ${d.C} (3-fold CV accuracy ${d.cvScores.map(pct).join(' / ')} for C = ${d.cGrid.join(' / ')}), trained on ${d.attackTrainRows.members} members + ${d.attackTrainRows.nonMembers} non-members`,
  );
  io.out(
    `  attack accuracy: all ${pct(r.attackAcc)} (${d.members} members + ${d.nonMembers} non-members), spurious ${pct(r.attackAccSpurious)} (${r.n > 0 ? `${spuriousHits} of ${r.n} called members` : 'no spurious examples'})`,
  );
  io.out(
    `  ROC AUC ${f3(r.auc)}, TPR at 1% FPR ${f3(r.tprAt1Fpr)}; spurious examples against non-members: AUC ${f3(d.aucSpurious)}, TPR at 1% FPR ${f3(d.tprAt1FprSpurious)}`,
  );
}

export const miaCommand: Command = {
  name: 'mia',
  summary: 'Membership inference: do rare spurious training examples leak membership? (shadow-model attack)',
  usage: USAGE,
  options: {
    ...ATTACK_DATA_OPTIONS,
    ...TRAINING_OPTIONS,
    'train-limit': { type: 'string', help: 'K: use K training images in all (both halves), for quick runs; 0 = all', defaultText: '0' },
    'test-limit': { type: 'string', help: 'K: use K test images in all (both halves); 0 = all', defaultText: '0' },
    unbalanced: { type: 'boolean', help: 'train and evaluate the attack on all members instead of as many as there are non-members' },
    ...attackStoreOptions('mia'),
  },
  example: 'spurlab mia --dataset mnist --n 10 --seed 0 --epochs 2 --train-limit 2000 --test-limit 1000',
  async run(args, io) {
    const opts = optionsFrom(args);
    const json = flag(args, 'json');
    if (flag(args, 'no-store') && args.values.store !== undefined) throw new UserError('give --store PATH or --no-store, not both');
    if (!json) {
      opts.events = {
        onPhase: (phase) => io.err(phase === 'attack' ? 'fitting the attack ...' : `training the ${phase} model ...`),
        onEpoch: (phase, r) =>
          io.err(`  ${phase} epoch ${r.epoch}: loss ${r.loss.toFixed(4)}, test acc ${pct(r.testAcc)} (${r.seconds.toFixed(1)} s)`),
      };
    }
    let result: MembershipResult;
    let storedNote = '';
    if (flag(args, 'no-store')) {
      result = await runMembershipInference(opts);
    } else {
      const path = stringOption(args, 'store') ?? DEFAULT_RESULTS_PATH;
      const { dataDir, events, ...given } = opts;
      const config = miaKind.configure(given);
      const key = kindKey(miaKind, config);
      const store = ResultsStore.open(path);
      try {
        // no checkpoints: a command's run is redone whole if it is killed, as before
        const stored = resultOf(miaKind, await runInStore(store, miaKind, config, { artifacts: false, dataDir, events }), path);
        result = stored.result;
        storedNote = stored.fromStore
          ? `  (an identical run was already in ${path}: run ${key.slice(0, 12)}; nothing was trained)`
          : `  recorded in ${path} as run ${key.slice(0, 12)} (kind mia)`;
      } finally {
        store.close();
      }
    }
    if (json) {
      io.out(JSON.stringify(result));
      return 0;
    }
    printReport(io, opts, result);
    if (storedNote) io.out(storedNote);
    return 0;
  },
};

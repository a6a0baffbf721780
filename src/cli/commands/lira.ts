// `spurlab lira`: the likelihood-ratio membership attack (Carlini et al. 2022) on K shadow
// models trained on random halves of the training set, every example (the n spurious
// ones included) in exactly half of them; each model is the target in turn. Reports AUC
// and TPR at 0.1% and 1% FPR for all examples, the spurious ones and matched clean
// examples of the target class, and the Feldman-Zhang memorization of the spurious
// examples against the population.
import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { flag, numberOption, stringOption, type CliIo, type Command, type ParsedArgs } from '../command.ts';
import { UserError } from '../../util/errors.ts';
import { writeFileAtomicSync } from '../../store/atomic.ts';
import { trainOverrides, TRAINING_OPTIONS } from './train.ts';
import { ATTACK_DATA_OPTIONS, attackStoreOptions, pct } from './mia.ts';
import type { LiraOptions, LiraResult, LiraRun } from '../../privacy/liraRun.ts';
import { DEFAULT_RESULTS_PATH, ResultsStore } from '../../store/results.ts';
import { kindKey, liraKind, liraShadowKind, type RunContext, type RunEvents } from '../../experiments/kinds/index.ts';
import { liraFromShadows, type LiraShadowResult } from '../../experiments/kinds/lira.ts';
import { inputResultInStore, resultOf, runInStore } from '../../experiments/sweep.ts';
import type { GroupMetrics } from '../../privacy/liraMetrics.ts';
import { exportFormatOf, formatExamples } from '../../privacy/liraExport.ts';

const USAGE = [
  'spurlab lira --dataset D --n N --seed S [--pattern R3] [--target 0] [--model LargeMLP] [--epochs 70] [--shadows 16]',
  '       [--offline] [--global-variance] [--center median|mean] [--queries none|flip] [--matched M]',
  '       [--optimizer adam|sgd] [--lr 0.01] [--momentum M] [--weight-decay W] [--grad-clip C] [--aug none|aug01] [--input-noise SIGMA]',
  '       [--batch-size 128] [--model-seed 0] [--no-scheduler] [--train-limit K] [--test-limit K]',
  '       [--data-dir DIR] [--out FILE.jsonl|FILE.csv] [--store PATH | --no-store] [--json]',
  '  --shadows K: shadow models (even, 6..256; 16 default, 64 for tighter low-FPR numbers); model k uses --model-seed + k',
  '  --train-limit K: the pool, K training images (seeded, spurious ones always in; 0 = all); each model trains on about half',
  '  --offline: the one-sided test against the out-Gaussian only (default online: in against out)',
  '  --global-variance: one variance per target model, pooled over examples (better for small K)',
  '  --queries flip: also query the mirror image and average the scores (CIFAR; not for digits)',
  '  --matched M: clean examples of the target class to compare with (default max(n, 100))',
  '  --out FILE: per-example scores against every target model, membership and memorization',
  '  --store PATH: each shadow model is recorded as a run (kind lira-shadow), the attack as a run of kind lira;',
  '    the same command again reports the stored result (default spurlab-results/results.db; --no-store: nothing recorded)',
].join('\n');

const isCount = (v: number) => Number.isInteger(v) && v >= 0;

function optionsFrom(args: ParsedArgs): LiraOptions {
  for (const name of ['dataset', 'n', 'seed']) if (args.values[name] === undefined) throw new UserError(`--${name} is required\nusage: ${USAGE}`);
  if (args.positionals.length > 0) throw new UserError(`unexpected argument "${args.positionals[0]}"\nusage: ${USAGE}`);
  const num = (name: string, check: (v: number) => boolean, expected: string) =>
    args.values[name] === undefined ? undefined : numberOption(args, name, 0, check, expected);
  const center = stringOption(args, 'center');
  if (center !== undefined && center !== 'median' && center !== 'mean') throw new UserError(`--center: got "${center}", expected median or mean`);
  const queries = stringOption(args, 'queries');
  if (queries !== undefined && queries !== 'none' && queries !== 'flip') throw new UserError(`--queries: got "${queries}", expected none or flip`);
  const opts: LiraOptions = {
    dataset: stringOption(args, 'dataset') as string,
    pattern: stringOption(args, 'pattern'),
    n: numberOption(args, 'n', 0, isCount, 'a non-negative integer'),
    target: num('target', isCount, 'a class number'),
    seed: numberOption(args, 'seed', 0, isCount, 'a non-negative integer'),
    ...trainOverrides(args),
    model: stringOption(args, 'model') ?? 'LargeMLP',
    shadows: num('shadows', (v) => Number.isInteger(v) && v >= 6 && v <= 256 && v % 2 === 0, 'an even number from 6 to 256'),
    trainLimit: num('train-limit', isCount, 'a non-negative integer (0 = all)'),
    testLimit: num('test-limit', isCount, 'a non-negative integer (0 = all)'),
    matched: num('matched', (v) => Number.isInteger(v) && v >= 1, 'a positive integer'),
    variant: flag(args, 'offline') ? 'offline' : 'online',
    globalVariance: flag(args, 'global-variance'),
    center: center as LiraOptions['center'],
    queries: queries as LiraOptions['queries'],
    dataDir: stringOption(args, 'data-dir'),
  };
  for (const k of Object.keys(opts) as (keyof LiraOptions)[]) if (opts[k] === undefined) delete opts[k];
  return opts;
}

// Refuses an --out that cannot be written before any model is trained.
function checkOut(path: string): void {
  exportFormatOf(path);
  const dir = dirname(resolve(path));
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UserError(`--out ${path}: the directory ${dir} does not exist`);
  if (existsSync(path) && statSync(path).isDirectory())
    throw new UserError(`--out ${path}: is a directory; expected a file name ending in .jsonl or .csv`);
}

const f3 = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : 'n/a');
const f4 = (v: number) => (Number.isFinite(v) ? v.toFixed(4) : 'n/a');

function groupLine(name: string, g: GroupMetrics): string {
  return `  ${name.padEnd(13)} ${String(g.examples).padStart(6)} ${f3(g.auc).padStart(6)} ${f4(g.tprAt01Fpr).padStart(8)} ${f4(g.tprAt1Fpr).padStart(8)}   ${f4(g.tprAt01FprPopulation).padStart(8)} ${f4(g.tprAt1FprPopulation).padStart(8)}`;
}

function printReport(io: CliIo, opts: LiraOptions, r: LiraResult, note: string): void {
  const d = r.details;
  const a = r.attack;
  io.out(
    `LiRA ${a.variant}, ${a.globalVariance ? 'global' : 'per-example'} variance, ${a.center} centre, queries ${a.queries}: ${opts.dataset}, pattern ${opts.pattern ?? 'R3'}, n = ${d.spuriousIndices.length}, target ${opts.target ?? 0}, seed ${opts.seed}, ${opts.model}`,
  );
  io.out(
    `  ${r.shadows} shadow models on a pool of ${d.poolSize} training images (${Math.min(...d.modelTrainSizes)}-${Math.max(...d.modelTrainSizes)} each), every model the target in turn`,
  );
  io.out(
    `  shadow models: test acc ${pct(d.models.testAcc.mean)} ± ${pct(d.models.testAcc.se)}, train acc ${pct(d.models.trainAcc.mean)}; ${d.models.trainingSeconds.toFixed(1)} s of training`,
  );
  io.out(`  group         examples    AUC TPR@0.1%   TPR@1%   (at the population's 0.1% / 1% FPR threshold)`);
  io.out(groupLine('all', r.all));
  io.out(groupLine('spurious', r.spurious));
  io.out(groupLine('matched clean', r.matchedClean));
  io.out(
    `  all examples, one target at a time: AUC ${f3(d.perTarget.auc.mean)} ± ${f3(d.perTarget.auc.se)}, TPR@0.1% ${f4(d.perTarget.tprAt01Fpr.mean)} ± ${f4(d.perTarget.tprAt01Fpr.se)}, TPR@1% ${f4(d.perTarget.tprAt1Fpr.mean)} ± ${f4(d.perTarget.tprAt1Fpr.se)} (mean ± SE over models)`,
  );
  io.out(
    `  AUC by variant (all / spurious / matched clean): ${Object.entries(d.variants)
      .map(([k, v]) => `${k} ${f3(v.all.auc)} / ${f3(v.spurious.auc)} / ${f3(v.matchedClean.auc)}`)
      .join('; ')}`,
  );
  const m = r.memorization;
  io.out(
    `  memorization (Feldman-Zhang): spurious mean ${f3(m.spuriousMean)}, matched clean ${f3(m.matchedCleanMean)}, population ${f3(m.populationMean)}`,
  );
  if (m.spurious.length > 0) {
    const shown = m.spurious.slice(0, 10).map((s, j) => `#${s.index} ${f3(s.memorization)} ± ${f3(s.se)} (rank ${m.spuriousRanks[j]})`);
    io.out(
      `  spurious examples (rank 1 = most memorized of ${m.poolSize}): ${shown.join(', ')}${m.spurious.length > 10 ? `, ... (${m.spurious.length - 10} more in --json)` : ''}`,
    );
  }
  io.out(`  ${note}; ${r.seconds.toFixed(1)} s`);
}

export const liraCommand: Command = {
  name: 'lira',
  summary: 'Likelihood-ratio membership attack (LiRA) on K shadow models, and memorization of the spurious examples',
  usage: USAGE,
  options: {
    ...ATTACK_DATA_OPTIONS,
    ...TRAINING_OPTIONS,
    shadows: {
      type: 'string',
      help: 'K: shadow models (even, 6 to 256; 64 for tighter low-FPR numbers); model k uses --model-seed + k',
      defaultText: '16',
    },
    offline: { type: 'boolean', help: 'the one-sided test against the out-Gaussian only (instead of the online in-against-out test)' },
    'global-variance': { type: 'boolean', help: 'one variance per target model, pooled over examples (better for small K)' },
    center: { type: 'string', help: 'median|mean: the centre of the in and out Gaussians', defaultText: 'median' },
    queries: {
      type: 'string',
      help: 'none|flip: flip also queries the mirror image and averages the scores (CIFAR; not for digits)',
      defaultText: 'none',
    },
    matched: { type: 'string', help: 'M: clean examples of the target class to compare with', defaultText: 'max(n, 100)' },
    'train-limit': {
      type: 'string',
      help: 'K: the pool, K training images (seeded, spurious ones always in); each model trains on about half; 0 = all',
      defaultText: '0',
    },
    'test-limit': { type: 'string', help: 'K: use K test images; 0 = all', defaultText: '0' },
    out: {
      type: 'string',
      help: 'FILE.jsonl|FILE.csv: per-example scores against every target model, membership and memorization',
      defaultText: 'none',
    },
    ...attackStoreOptions('lira, each shadow model as kind lira-shadow'),
  },
  example: 'spurlab lira --dataset mnist --n 3 --seed 0 --shadows 6 --epochs 2 --train-limit 2000 --test-limit 500',
  async run(args, io) {
    const opts = optionsFrom(args);
    const json = flag(args, 'json');
    const out = stringOption(args, 'out');
    if (flag(args, 'no-store') && args.values.store !== undefined) throw new UserError('give --store PATH or --no-store, not both');
    if (out !== undefined) checkOut(out);
    const { dataDir, events: _e, ...given } = opts;
    const config = liraKind.configure(given);
    const events: RunEvents = {
      onEpoch: (phase, r) => io.err(`  ${phase} epoch ${r.epoch}: loss ${r.loss.toFixed(4)}, test acc ${pct(r.testAcc)} (${r.seconds.toFixed(1)} s)`),
    };
    let result: LiraResult;
    let note: string;
    let run: LiraRun | undefined;
    if (flag(args, 'no-store')) {
      const ctx: RunContext = {
        dataDir,
        events,
        trainedModel: () => Promise.reject(new Error('a LiRA run needs no trained model')),
      };
      run = await liraFromShadows(
        config,
        async (sc) => {
          const r = (await liraShadowKind.run(sc, ctx)).result;
          io.err(`shadow model ${sc.shadow + 1}/${sc.shadows}: test acc ${pct(r.testAcc)}, train acc ${pct(r.trainAcc)} (${r.seconds.toFixed(1)} s)`);
          return r;
        },
        dataDir,
      );
      result = run.result;
      note = 'not recorded (--no-store)';
    } else {
      const path = stringOption(args, 'store') ?? DEFAULT_RESULTS_PATH;
      const key = kindKey(liraKind, config);
      const store = ResultsStore.open(path);
      try {
        const stored = resultOf(liraKind, await runInStore(store, liraKind, config, { artifacts: false, dataDir, events }), path);
        result = stored.result;
        note = stored.fromStore
          ? `an identical run was already in ${path}: run ${key.slice(0, 12)} (kind lira); nothing was trained`
          : `recorded in ${path} as run ${key.slice(0, 12)} (kind lira) with its ${config.shadows} shadow models (kind lira-shadow)`;
        // the per-example export is recomputed from the recorded shadow models (no training)
        if (out !== undefined)
          run = await liraFromShadows(
            config,
            async (sc) => (await inputResultInStore(store, 'lira-shadow', sc, { artifacts: false, dataDir, events })) as LiraShadowResult,
            dataDir,
          );
      } finally {
        store.close();
      }
    }
    if (out !== undefined && run) {
      writeFileAtomicSync(out, formatExamples(run.examples, exportFormatOf(out)));
      io.err(`per-example scores of ${run.examples.pool.length} examples written to ${out}`);
    }
    if (json) {
      io.out(JSON.stringify(result, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)));
      return 0;
    }
    printReport(io, opts, result, note);
    return 0;
  },
};

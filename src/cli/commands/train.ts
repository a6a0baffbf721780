// `spurlab train`: one training run of a paper model on a spurious data set, with
// checkpoints, history and metrics in --out; --resume continues an interrupted run and
// --continue-from trains an existing model further (its optimizer state included).
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { flag, numberOption, stringOption, type Command, type ParsedArgs } from '../command.ts';
import { dataSelectorFrom, SELECTOR, SELECTOR_OPTIONS } from '../dataSelector.ts';
import { makeTrainConfig, type TrainConfig } from '../../train/config.ts';
import { train, type TrainEvents } from '../../train/trainer.ts';
import { loadCheckpoint, metadataJson } from '../../store/checkpoint.ts';
import { ProgressBar, stderrSink } from '../../util/progress.ts';
import { UserError } from '../../util/errors.ts';
import { checkRunDirectory } from '../../store/runDirectory.ts';
import { trainIntoStore } from './trainStore.ts';

const USAGE = `spurlab train ${SELECTOR} --model M --out DIR [--optimizer adam|sgd] [--lr X] [--momentum X]
       [--weight-decay X] [--grad-clip C] [--batch-size B] [--epochs E] [--aug none|aug01]
       [--input-noise SIGMA] [--model-seed S] [--train-subset K] [--test-subset K] [--no-scheduler]
       [--keep-checkpoints E] [--data-dir DIR] [--force] [--store PATH] [--json]
       spurlab train --resume DIR [--store PATH] [--json]
       spurlab train --continue-from DIR --epochs E2 --out DIR2 [--lr X] [--no-scheduler] [--json]`;

/** How a model is trained: shared by every command that trains (train, mia). */
export const TRAINING_OPTIONS = {
  model: { type: 'string' },
  optimizer: { type: 'string' },
  lr: { type: 'string' },
  momentum: { type: 'string' },
  'weight-decay': { type: 'string' },
  'grad-clip': { type: 'string' },
  'batch-size': { type: 'string' },
  epochs: { type: 'string' },
  aug: { type: 'string' },
  'input-noise': { type: 'string' },
  'model-seed': { type: 'string' },
  'no-scheduler': { type: 'boolean' },
} as const;

export const TRAIN_OPTIONS = {
  ...TRAINING_OPTIONS,
  'train-subset': { type: 'string' },
  'test-subset': { type: 'string' },
  'keep-checkpoints': { type: 'string' },
} as const;

type TrainingKey = 'model' | 'optimizer' | 'aug' | 'lr' | 'momentum' | 'weightDecay' | 'gradClip' | 'batchSize' | 'epochs'
  | 'inputNoise' | 'modelSeed' | 'scheduler' | 'trainSubset' | 'testSubset' | 'keepCheckpoints';

const nonNeg = (v: number) => v >= 0;
const count = (v: number) => Number.isInteger(v) && v >= 0;

/**
 * Training options given on the command line (only those given), over a base (defaults or
 * a checkpoint's config). The subsets appear only for commands that declare them.
 */
export function trainOverrides(args: ParsedArgs): Partial<Pick<TrainConfig, TrainingKey>> {
  const o: Partial<Pick<TrainConfig, TrainingKey>> = {};
  const num = (key: TrainingKey, opt: string, check: (v: number) => boolean, expected: string) => {
    if (args.values[opt] !== undefined) (o as Record<string, number>)[key] = numberOption(args, opt, 0, check, expected);
  };
  const model = stringOption(args, 'model');
  if (model !== undefined) o.model = model;
  const optimizer = stringOption(args, 'optimizer');
  if (optimizer !== undefined) {
    if (optimizer !== 'adam' && optimizer !== 'sgd') throw new UserError(`--optimizer: got "${optimizer}", expected adam or sgd`);
    o.optimizer = optimizer;
  }
  const aug = stringOption(args, 'aug');
  if (aug !== undefined) {
    if (aug !== 'none' && aug !== 'aug01') throw new UserError(`--aug: got "${aug}", expected none or aug01`);
    o.aug = aug;
  }
  num('lr', 'lr', (v) => v > 0, 'a positive number');
  num('momentum', 'momentum', (v) => v >= 0 && v < 1, 'a number in [0, 1)');
  num('weightDecay', 'weight-decay', nonNeg, 'a non-negative number');
  num('gradClip', 'grad-clip', nonNeg, 'a non-negative number');
  num('batchSize', 'batch-size', (v) => Number.isInteger(v) && v >= 1, 'a positive integer');
  num('epochs', 'epochs', count, 'a non-negative integer');
  num('inputNoise', 'input-noise', nonNeg, 'a non-negative number');
  num('modelSeed', 'model-seed', count, 'a non-negative integer');
  num('trainSubset', 'train-subset', count, 'a non-negative integer (0 = all)');
  num('testSubset', 'test-subset', count, 'a non-negative integer (0 = all)');
  num('keepCheckpoints', 'keep-checkpoints', count, 'a non-negative integer (keep every E-th epoch for detect tracin/trak; 0 = none)');
  if (flag(args, 'no-scheduler')) o.scheduler = false;
  return o;
}

/** Per-epoch progress bar events for the CLI. */
export function progressEvents(epochs: number, label = 'train'): TrainEvents {
  const bar = new ProgressBar(stderrSink(), label, 1, 'steps');
  return {
    onStep(epoch, step, steps, loss) {
      if (step === 1) bar.reset(`${label} epoch ${epoch}/${epochs}`, steps);
      bar.update(step, `loss ${loss.toFixed(4)}`);
    },
    onEpoch(r) {
      process.stderr.write(`epoch ${r.epoch}/${epochs}: loss ${r.loss.toFixed(4)}, train acc ${(100 * r.trainAcc).toFixed(2)}%, test acc ${(100 * r.testAcc).toFixed(2)}%, lr ${r.lr}, ${r.seconds.toFixed(1)}s\n`);
    },
  };
}

function checkpointConfig(dir: string): TrainConfig {
  const path = join(dir, 'model.safetensors');
  if (!existsSync(path)) throw new UserError(`${dir}: no model.safetensors here; expected a run directory written by spurlab train`);
  return metadataJson<TrainConfig>(loadCheckpoint(path), 'config');
}

export const trainCommand: Command = {
  name: 'train',
  summary: 'Train a model on a spurious data set; write checkpoints, history and metrics.',
  usage: USAGE,
  options: { ...SELECTOR_OPTIONS, ...TRAIN_OPTIONS, out: { type: 'string' }, resume: { type: 'string' }, 'continue-from': { type: 'string' }, force: { type: 'boolean' }, store: { type: 'string' }, json: { type: 'boolean' } },
  async run(args, io) {
    const resume = stringOption(args, 'resume');
    const continueFrom = stringOption(args, 'continue-from');
    const dataDir = stringOption(args, 'data-dir');
    let cfg: TrainConfig;
    let outDir = stringOption(args, 'out');
    if (resume) {
      cfg = checkpointConfig(resume);
      outDir = outDir ?? resume;
    } else if (continueFrom) {
      const base = checkpointConfig(continueFrom);
      cfg = makeTrainConfig({ data: { dataset: base.dataset, pattern: base.pattern, n: base.n, target: base.target, targetB: base.targetB, seed: base.seed }, ...base, ...trainOverrides(args) });
      if (args.values.epochs === undefined) throw new UserError('--continue-from needs --epochs E2, the total epoch count to train to');
    } else {
      cfg = makeTrainConfig({ data: dataSelectorFrom(args, 0, USAGE), ...trainOverrides(args) });
    }
    if (!outDir) throw new UserError(`--out DIR is required\nusage: ${USAGE}`);
    const storePath = stringOption(args, 'store');
    if (storePath !== undefined && continueFrom) throw new UserError('--store records runs defined by their config alone; a run continued from another (--continue-from) is not one');
    // --out naming the run being resumed or continued is that run, not one to protect
    const ownRun = [resume, continueFrom].some((d) => d !== undefined && resolve(d) === resolve(outDir!));
    const finished = ownRun ? null : checkRunDirectory(outDir, cfg as unknown as Record<string, unknown>, flag(args, 'force'));
    // with --store, a finished run of this config in --out is scored and recorded, not trained again
    if (storePath !== undefined) return trainIntoStore(io, cfg, { storePath, outDir, dataDir, events: progressEvents(cfg.epochs), json: flag(args, 'json') });
    if (finished) {
      if (flag(args, 'json')) io.out(JSON.stringify({ testAcc: finished.testAcc, trainAcc: finished.trainAcc, epochs: finished.epochs, seconds: 0, out: outDir, alreadyFinished: true }));
      else io.out(`${outDir} already holds this finished run (${cfg.model} on ${cfg.dataset}, ${finished.epochs} epoch${finished.epochs === 1 ? '' : 's'}, test accuracy ${(100 * finished.testAcc).toFixed(2)}%); nothing to train (--force trains it again)`);
      return 0;
    }
    const r = await train(cfg, { outDir, dataDir, resumeFrom: resume ? join(resume, 'model.safetensors') : undefined, continueFrom: continueFrom ? join(continueFrom, 'model.safetensors') : undefined, events: progressEvents(cfg.epochs) });
    if (flag(args, 'json')) io.out(JSON.stringify({ testAcc: r.testAcc, trainAcc: r.trainAcc, epochs: r.epochs, seconds: r.seconds, out: outDir }));
    else io.out(`trained ${cfg.model} on ${cfg.dataset} for ${cfg.epochs} epochs in ${r.seconds.toFixed(1)}s: test accuracy ${(100 * r.testAcc).toFixed(2)}%; run in ${outDir}`);
    return 0;
  },
};

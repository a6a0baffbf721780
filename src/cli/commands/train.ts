// `spurlab train`: one training run of a paper model on a spurious data set, with
// checkpoints, history and metrics in --out; --resume continues an interrupted run and
// --continue-from trains an existing model further (its optimizer state included).
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { flag, numberOption, stringOption, type Command, type OptionSpecs, type ParsedArgs } from '../command.ts';
import { dataSelectorFrom, SELECTOR, SELECTOR_OPTIONS } from '../dataSelector.ts';
import { makeTrainConfig, spuriousSpecOf, TRAIN_DEFAULTS as D, type TrainConfig } from '../../train/config.ts';
import { buildModel, runIndices, train, type TrainEvents } from '../../train/trainer.ts';
import { makeSpuriousDataset, type SpuriousDataset } from '../../data/spurious.ts';
import { spuriousScore } from '../../experiments/score.ts';
import { backendSummary } from '../../diagnostics/selfcheck.ts';
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
export const TRAINING_OPTIONS: OptionSpecs = {
  model: { type: 'string', help: 'M: the architecture (spurlab models lists them)', defaultText: 'LargeMLP' },
  optimizer: { type: 'string', help: 'adam|sgd: the optimizer', defaultText: D.optimizer },
  lr: { type: 'string', help: 'X: learning rate', defaultText: String(D.lr) },
  momentum: { type: 'string', help: 'X: SGD momentum', defaultText: `${D.momentum} with sgd, 0 with adam` },
  'weight-decay': { type: 'string', help: 'X: l2 regularization strength', defaultText: String(D.weightDecay) },
  'grad-clip': { type: 'string', help: 'C: clamp each gradient element to [-C, C]; 0 = off', defaultText: String(D.gradClip) },
  'batch-size': { type: 'string', help: 'B: examples per step', defaultText: String(D.batchSize) },
  epochs: { type: 'string', help: 'E: passes over the training set', defaultText: `${D.epochs}, the paper's` },
  aug: { type: 'string', help: 'none|aug01: data augmentation', defaultText: D.aug },
  'input-noise': { type: 'string', help: 'SIGMA: Gaussian noise added to training inputs', defaultText: String(D.inputNoise) },
  'model-seed': { type: 'string', help: 'S: initial weights, shuffling, dropout, augmentation', defaultText: String(D.modelSeed) },
  'no-scheduler': { type: 'boolean', help: "keep the learning rate constant instead of the reference's MultiStepLR", defaultText: 'off' },
};

export const TRAIN_OPTIONS: OptionSpecs = {
  ...TRAINING_OPTIONS,
  'train-subset': { type: 'string', help: 'K: train on a seeded subset of K images (spurious ones always in); 0 = all', defaultText: '0' },
  'test-subset': { type: 'string', help: 'K: evaluate and score on a seeded subset of K test images; 0 = all', defaultText: '0' },
  'keep-checkpoints': {
    type: 'string',
    help: "E: keep every E-th epoch's weights (and the last) under <out>/epochs/, for detect tracin and trak; 0 = none",
    defaultText: '0',
  },
};

type TrainingKey =
  | 'model'
  | 'optimizer'
  | 'aug'
  | 'lr'
  | 'momentum'
  | 'weightDecay'
  | 'gradClip'
  | 'batchSize'
  | 'epochs'
  | 'inputNoise'
  | 'modelSeed'
  | 'scheduler'
  | 'trainSubset'
  | 'testSubset'
  | 'keepCheckpoints';

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
      process.stderr.write(
        `epoch ${r.epoch}/${epochs}: loss ${r.loss.toFixed(4)}, train acc ${(100 * r.trainAcc).toFixed(2)}%, test acc ${(100 * r.testAcc).toFixed(2)}%, lr ${r.lr}, ${r.seconds.toFixed(1)}s\n`,
      );
    },
  };
}

const epochsText = (e: number) => `${e} epoch${e === 1 ? '' : 's'}`;

/** "LargeMLP (1,238,730 parameters) on mnistv8-3-0-0 ...": what is about to be trained, in one line. */
function startLine(cfg: TrainConfig, data: SpuriousDataset): string {
  const { model } = buildModel(cfg, data.train);
  const idx = data.spuriousIndices;
  const shown = idx.length > 12 ? `${idx.slice(0, 12).join(', ')}, ... (${idx.length})` : idx.join(', ') || 'none';
  const used = runIndices(cfg, data).train.length;
  const images = used < data.train.n ? `${used} of ${data.train.n}` : String(data.train.n);
  return (
    `train ${cfg.model} (${model.parameterCount().toLocaleString('en-US')} parameters) on ${data.name} (${images} training images, pattern ${data.pattern.name}, ` +
    `n = ${data.spec.n} spurious: ${shown}), ${epochsText(cfg.epochs)}, backend ${backendSummary().description}`
  );
}

/**
 * The start line goes to stderr with the progress (stdout keeps only the result), at the
 * first step: once the run directory is made and a checkpoint resumed, so that a refused
 * --out is still a one-line error, and never for a run that trains nothing.
 */
function withStartLine(events: TrainEvents, line: () => string): TrainEvents {
  const progress = events.onStep;
  let started = false;
  return {
    ...events,
    onStep(...step) {
      if (!started) process.stderr.write(`${line()}\n`);
      started = true;
      progress?.(...step);
    },
  };
}

/** "trained LargeMLP on mnistv8-3-0-0 for 3 epochs in 9.1s: spurious score ...": the result, in one line. */
function trainedLine(
  cfg: TrainConfig,
  data: SpuriousDataset,
  r: { seconds: number; score: number; nTest: number; testAcc: number },
  outDir: string,
): string {
  return (
    `trained ${cfg.model} on ${data.name} for ${epochsText(cfg.epochs)} in ${r.seconds.toFixed(1)}s: spurious score ${r.score.toFixed(4)} ` +
    `(${data.pattern.name} -> class ${cfg.target}, ${r.nTest} test images), test accuracy ${(100 * r.testAcc).toFixed(2)}%; run in ${outDir}`
  );
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
  options: {
    ...SELECTOR_OPTIONS,
    ...TRAIN_OPTIONS,
    out: { type: 'string', help: 'DIR: the run directory (checkpoints, history.json, metrics.json)', defaultText: 'required' },
    resume: { type: 'string', help: 'DIR: continue an interrupted run from its last checkpoint', defaultText: 'none' },
    'continue-from': { type: 'string', help: 'DIR: train a finished run further, to --epochs E2 in --out', defaultText: 'none' },
    force: { type: 'boolean', help: 'replace a finished run (of any config) in --out instead of refusing' },
    store: {
      type: 'string',
      help: 'PATH: also record the run in this results store (a finished run in --out is scored and recorded)',
      defaultText: 'none',
    },
    json: { type: 'boolean', help: 'print the result as one JSON line (accuracies as 0-1 fractions)' },
  },
  example: 'spurlab train mnistv8-3-0-0 --model LargeMLP --epochs 3 --train-subset 2000 --test-subset 1000 --out runs/s3-n3',
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
      cfg = makeTrainConfig({
        data: { dataset: base.dataset, pattern: base.pattern, n: base.n, target: base.target, targetB: base.targetB, seed: base.seed },
        ...base,
        ...trainOverrides(args),
      });
      if (args.values.epochs === undefined) throw new UserError('--continue-from needs --epochs E2, the total epoch count to train to');
    } else {
      cfg = makeTrainConfig({ data: dataSelectorFrom(args, 0, USAGE), ...trainOverrides(args) });
    }
    if (!outDir) throw new UserError(`--out DIR is required\nusage: ${USAGE}`);
    const storePath = stringOption(args, 'store');
    if (storePath !== undefined && continueFrom)
      throw new UserError('--store records runs defined by their config alone; a run continued from another (--continue-from) is not one');
    // --out naming the run being resumed or continued is that run, not one to protect
    const ownRun = [resume, continueFrom].some((d) => d !== undefined && resolve(d) === resolve(outDir!));
    const finished = ownRun ? null : checkRunDirectory(outDir, cfg as unknown as Record<string, unknown>, flag(args, 'force'));
    const json = flag(args, 'json');
    // with --store, a finished run of this config in --out is scored and recorded, not trained again
    if (storePath !== undefined) {
      // the data as the run sees it, for the lines only (the loaded images are cached)
      let seen: SpuriousDataset | undefined;
      const data = () => (seen ??= makeSpuriousDataset(spuriousSpecOf(cfg), { dataDir }));
      const out = outDir;
      return trainIntoStore(io, cfg, {
        storePath,
        outDir,
        dataDir,
        events: withStartLine(progressEvents(cfg.epochs), () => startLine(cfg, data())),
        json,
        trainedLine: (r) => trainedLine(cfg, data(), r, out),
      });
    }
    if (finished) {
      if (json)
        io.out(
          JSON.stringify({
            testAcc: finished.testAcc,
            trainAcc: finished.trainAcc,
            epochs: finished.epochs,
            seconds: 0,
            out: outDir,
            alreadyFinished: true,
          }),
        );
      else
        io.out(
          `${outDir} already holds this finished run (${cfg.model} on ${cfg.dataset}, ${epochsText(finished.epochs)}, test accuracy ${(100 * finished.testAcc).toFixed(2)}%); nothing to train (--force trains it again)`,
        );
      return 0;
    }
    const data = makeSpuriousDataset(spuriousSpecOf(cfg), { dataDir });
    const events = withStartLine(progressEvents(cfg.epochs), () => startLine(cfg, data));
    const r = await train(cfg, {
      outDir,
      data,
      resumeFrom: resume ? join(resume, 'model.safetensors') : undefined,
      continueFrom: continueFrom ? join(continueFrom, 'model.safetensors') : undefined,
      events,
    });
    const s = spuriousScore(r.model, r.layout, data.test, { pattern: data.pattern, target: cfg.target, indices: r.testIndices });
    if (json)
      io.out(
        JSON.stringify({
          score: s.score,
          testAcc: r.testAcc,
          trainAcc: r.trainAcc,
          nTest: s.nTest,
          epochs: r.epochs,
          seconds: r.seconds,
          out: outDir,
        }),
      );
    else io.out(trainedLine(cfg, data, { seconds: r.seconds, score: s.score, nTest: s.nTest, testAcc: r.testAcc }, outDir));
    return 0;
  },
};

// One experiment run: train a model on a spurious data set, then measure it. This is the
// unit a sweep schedules and the results store records (kind 'train').
import { mkdirSync } from 'node:fs';
import { makeSpuriousDataset, type SpuriousDataset } from '../data/spurious.ts';
import { patternNorm } from '../data/patterns.ts';
import { spuriousSpecOf, type TrainConfig } from '../train/config.ts';
import { type EpochRecord, train, type TrainEvents, type TrainResult } from '../train/trainer.ts';
import { spuriousScore } from './score.ts';

export interface RunResult {
  score: number; // population "all", threshold 0.1
  scoreNonTarget: number;
  testAcc: number;
  patternedTestAcc: number;
  targetRate: number;
  patternNorm: number; // mean ||pattern(x) - x||_2 over the test images used
  trainAcc: number;
  nTest: number;
  epochs: number;
  seconds: number;
  spuriousIndices: number[];
  /** Per epoch: loss, train and test accuracy (the report's training curves). */
  history: EpochRecord[];
}

export interface RunOutput {
  result: RunResult;
  perImage: Uint8Array;
  resumedFromEpoch: number; // > 0 when a checkpoint left in artifactDir by a killed attempt was continued
}

export interface RunOptions {
  data?: SpuriousDataset;
  dataDir?: string;
  artifactDir?: string; // where the checkpoint goes (none when undefined); one left there by a killed attempt is continued
  events?: TrainEvents;
}

export async function runExperiment(cfg: TrainConfig, opts: RunOptions = {}): Promise<RunOutput> {
  const data = opts.data ?? makeSpuriousDataset(spuriousSpecOf(cfg), { dataDir: opts.dataDir });
  if (opts.artifactDir) mkdirSync(opts.artifactDir, { recursive: true });
  const r = await train(cfg, { data, outDir: opts.artifactDir, events: opts.events, resumeIfPresent: true });
  return { ...measureRun(cfg, data, r), resumedFromEpoch: r.resumedFromEpoch };
}

/**
 * The measurements of a trained model for the run `cfg` on `data`. The demo also scores
 * one n = 0 model with several patterns this way: at n = 0 every pattern's training
 * split is the same clean data, so the model is the same.
 */
export function measureRun(cfg: TrainConfig, data: SpuriousDataset, r: TrainResult): Omit<RunOutput, 'resumedFromEpoch'> {
  const measure = { pattern: data.pattern, target: cfg.target, indices: r.testIndices };
  const all = spuriousScore(r.model, r.layout, data.test, measure);
  const nonTarget = spuriousScore(r.model, r.layout, data.test, { ...measure, population: 'non-target' });
  const result: RunResult = {
    score: all.score,
    scoreNonTarget: nonTarget.score,
    testAcc: all.testAcc,
    patternedTestAcc: all.patternedTestAcc,
    targetRate: all.targetRate,
    patternNorm: patternNorm(data.pattern, data.test),
    trainAcc: r.trainAcc,
    nTest: all.nTest,
    epochs: cfg.epochs,
    seconds: r.seconds,
    spuriousIndices: data.spuriousIndices,
    history: r.history,
  };
  return { result, perImage: all.perImage };
}

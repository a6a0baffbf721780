// `spurlab score`: the spurious score of a trained run, by default for the run's own
// pattern, target and seed.
import { existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { flag, numberOption, stringOption, type Command, DATA_DIR_OPTION } from '../command.ts';
import { loadRun } from '../../train/trainer.ts';
import { makePattern } from '../../data/patterns.ts';
import { spuriousScore, type Population } from '../../experiments/score.ts';
import { UserError } from '../../util/errors.ts';

const USAGE =
  'spurlab score <run DIR | DIR/model.safetensors> [--pattern P] [--target T] [--population all|non-target] [--threshold 0.1] [--data-dir DIR] [--json]';

export const scoreCommand: Command = {
  name: 'score',
  summary: "Measure a trained run's spurious score: how often the pattern raises the target probability by more than the threshold.",
  usage: USAGE,
  options: {
    pattern: { type: 'string', help: 'P: score another pattern than the one trained on', defaultText: "the run's" },
    target: { type: 'string', help: 'T: the class whose probability is watched', defaultText: "the run's" },
    population: { type: 'string', help: 'all|non-target: every test image, or those whose label is not the target', defaultText: 'all' },
    threshold: { type: 'string', help: 'X: the rise in target probability that counts', defaultText: '0.1' },
    'data-dir': DATA_DIR_OPTION,
    json: { type: 'boolean', help: 'print the result as one JSON line (accuracies as 0-1 fractions)' },
  },
  example: 'spurlab score runs/s3-n3 --population non-target',
  async run(args, io) {
    const where = args.positionals[0];
    if (!where) throw new UserError(`which run? usage: ${USAGE}`);
    if (!existsSync(where)) throw new UserError(`${where}: no such run directory or checkpoint`);
    const dir = statSync(where).isDirectory() ? where : dirname(where);
    const run = loadRun(dir, stringOption(args, 'data-dir'));
    const { config: cfg, data } = run;
    const population = (stringOption(args, 'population') ?? 'all') as Population;
    if (population !== 'all' && population !== 'non-target')
      throw new UserError(`--population: got ${JSON.stringify(population)}, expected all or non-target`);
    const threshold = numberOption(args, 'threshold', 0.1, (v) => v >= 0 && v < 1, 'a number in [0, 1)');
    const target = numberOption(args, 'target', cfg.target, (v) => Number.isInteger(v) && v >= 0, 'a class number');
    const patternSpec = stringOption(args, 'pattern') ?? cfg.pattern;
    const pattern = makePattern(patternSpec, { height: data.test.height, width: data.test.width, channels: data.test.channels }, cfg.seed);
    const s = spuriousScore(run.model, run.layout, data.test, { pattern, target, population, threshold, indices: run.testIndices });
    const out = {
      score: s.score,
      population: s.population,
      threshold: s.threshold,
      nTest: s.nTest,
      testAcc: s.testAcc,
      patternedTestAcc: s.patternedTestAcc,
      targetRate: s.targetRate,
      pattern: pattern.name,
      target,
    };
    if (flag(args, 'json')) io.out(JSON.stringify(out));
    else
      io.out(
        `spurious score ${s.score.toFixed(4)} (${pattern.name} -> class ${target}, population ${population}, ${s.nTest} test images); test acc ${(100 * s.testAcc).toFixed(2)}%, patterned ${(100 * s.patternedTestAcc).toFixed(2)}%, predicted as target ${(100 * s.targetRate).toFixed(2)}%`,
      );
    return 0;
  },
};

// The spurious data set selector shared by commands: one positional reference name
// (mnistv8-3-0-0) or the options --dataset --pattern --n --target --seed [--target-b].
import { numberOption, stringOption, type OptionSpecs, type ParsedArgs, DATA_DIR_OPTION } from './command.ts';
import { UserError } from '../util/errors.ts';
import type { SpuriousOptions } from '../data/spurious.ts';

export const SELECTOR = '<name> | --dataset D --pattern P --n N --target T --seed S [--target-b B]';

export const SELECTOR_OPTIONS: OptionSpecs = {
  dataset: { type: 'string', help: 'D: mnist, fashion, cifar10, twoclassmnist, ... (instead of a name)', defaultText: 'from the name' },
  pattern: { type: 'string', help: 'P: S1 S2 S3 R1 R2 R3 Co, noise:l2=<norm>, file.json, mask.png', defaultText: 'from the name' },
  n: { type: 'string', help: 'N: how many training images get the pattern (spurious examples)', defaultText: 'from the name' },
  target: { type: 'string', help: 'T: the class whose images are patterned', defaultText: 'from the name' },
  'target-b': { type: 'string', help: 'B: the second class of a two-class data set', defaultText: 'none' },
  seed: { type: 'string', help: 'S: data set seed (which images are patterned)', defaultText: 'from the name' },
  'data-dir': DATA_DIR_OPTION,
};

const OPTION_NAMES = ['dataset', 'pattern', 'n', 'target', 'seed', 'target-b'] as const;

const isCount = (v: number) => Number.isInteger(v) && v >= 0;

function requiredInteger(args: ParsedArgs, name: string): number {
  if (args.values[name] === undefined)
    throw new UserError(`--${name} is required when the data set is given by options (or give a name such as mnistv8-3-0-0)`);
  return numberOption(args, name, 0, isCount, 'a non-negative integer');
}

/** The selector from positional `at` or the options (not both); usage goes into errors. */
export function dataSelectorFrom(args: ParsedArgs, at: number, usage: string): string | SpuriousOptions {
  const name = args.positionals[at];
  const given = OPTION_NAMES.filter((o) => args.values[o] !== undefined);
  if (args.positionals.length > at + 1) throw new UserError(`unexpected argument "${args.positionals[at + 1]}"\nusage: ${usage}`);
  if (name !== undefined) {
    if (given.length > 0) throw new UserError(`give either the name "${name}" or --${given[0]} and the other options, not both`);
    return name;
  }
  if (given.length === 0) throw new UserError(`which data set? expected ${SELECTOR}\nusage: ${usage}`);
  const dataset = stringOption(args, 'dataset');
  const pattern = stringOption(args, 'pattern');
  if (dataset === undefined || pattern === undefined) {
    throw new UserError(`--${dataset === undefined ? 'dataset' : 'pattern'} is required when the data set is given by options`);
  }
  const targetB = args.values['target-b'] === undefined ? null : numberOption(args, 'target-b', 0, isCount, 'a class number');
  return { dataset, pattern, n: requiredInteger(args, 'n'), target: requiredInteger(args, 'target'), seed: requiredInteger(args, 'seed'), targetB };
}

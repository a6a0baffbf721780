import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closest, commandHelp, editDistance, parseCommandArgs, type Command } from '../../src/cli/command.ts';
import { commands } from '../../src/cli/commands/index.ts';
import { main } from '../../src/cli/main.ts';
import { UserError } from '../../src/util/errors.ts';
import { SENSITIVITY_DEFAULTS } from '../../src/experiments/sensitivity.ts';
import { DETECT_DEFAULTS } from '../../src/detect/methods.ts';
import { FORGET_DEFAULTS } from '../../src/forget/forget.ts';
import { METHODS } from '../../src/forget/unlearning/methods.ts';
import { DEFAULT_GIVE_UP_SECONDS } from '../../src/distributed/redisWatch.ts';
import { DEMO_EPOCHS } from '../../src/experiments/demo.ts';
import { DEFAULT_RESULTS_PATH } from '../../src/store/results.ts';
import { TRAIN_DEFAULTS } from '../../src/train/config.ts';

async function run(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l), isTTY: false });
  return { code, out, err };
}

const probe: Command = {
  name: 'probe',
  summary: 'a test command',
  usage: 'spurlab probe [--lr X] [--json]',
  options: {
    lr: { type: 'string', help: 'X: learning rate', defaultText: '0.01' },
    'batch-size': { type: 'string', help: 'B: examples per step', defaultText: '128' },
    json: { type: 'boolean', help: 'JSON output' },
  },
  example: 'spurlab probe --lr 0.1',
  run: async () => 0,
};

test('edit distance counts a transposition as one edit; closest suggests only near words', () => {
  assert.equal(editDistance('trian', 'train'), 1);
  assert.equal(editDistance('epoch', 'epochs'), 1);
  assert.equal(editDistance('', 'abc'), 3);
  assert.equal(closest('trian', ['train', 'score', 'runs']), 'train');
  assert.equal(closest('batch', ['batch-size', 'lr']), 'batch-size');
  assert.equal(closest('frobnicate', ['train', 'score', 'runs']), undefined);
});

test('negative numbers reach the command as values, whether after an option or alone', () => {
  assert.deepEqual(parseCommandArgs(probe, ['--lr', '-1']).values.lr, '-1');
  assert.deepEqual({ ...parseCommandArgs(probe, ['--lr', '-0.5', '--json']).values }, { lr: '-0.5', json: true });
  assert.deepEqual(parseCommandArgs(probe, ['--lr=-2e-3']).values.lr, '-2e-3');
  assert.deepEqual(parseCommandArgs(probe, ['a', '-3', 'b']).positionals, ['a', '-3', 'b']);
  assert.deepEqual(parseCommandArgs(probe, ['--', '--lr']).positionals, ['--lr']);
  assert.throws(
    () => parseCommandArgs(probe, ['--lr']),
    (e: unknown) => e instanceof UserError && /--lr/.test(e.message),
  );
});

test('unknown options and commands get "did you mean"', async () => {
  assert.throws(() => parseCommandArgs(probe, ['--batchsize', '3']), /unknown option --batchsize; did you mean --batch-size\?/);
  assert.throws(() => parseCommandArgs(probe, ['--zzzzzz']), /^UserError: unknown option --zzzzzz \(spurlab probe --help lists the options\)$/);
  const r = await run(['trian']);
  assert.equal(r.code, 2);
  assert.match(r.err[0], /unknown command "trian"; did you mean "train"\?/);
  const o = await run(['train', 'mnistv8-3-0-0', '--epoch', '3', '--out', '/tmp/x']);
  assert.equal(o.code, 2);
  assert.match(o.err[0], /^spurlab train: unknown option --epoch; did you mean --epochs\?/);
});

test('--epochs -1, --lr -1 and other negative values get the range error, not the parser text', async () => {
  const cases: [string[], RegExp][] = [
    [['train', 'mnistv8-3-0-0', '--epochs', '-1', '--out', '/tmp/x'], /^spurlab train: --epochs: got "-1", expected a non-negative integer$/],
    [['train', 'mnistv8-3-0-0', '--lr', '-1', '--out', '/tmp/x'], /^spurlab train: --lr: got "-1", expected a positive number$/],
    [
      ['train', '--dataset', 'mnist', '--pattern', 'S3', '--n', '-3', '--target', '0', '--seed', '0', '--out', '/tmp/x'],
      /^spurlab train: --n: got "-3", expected a non-negative integer$/,
    ],
    [['score', '/tmp', '--threshold', '-0.1'], /^spurlab score: /],
  ];
  for (const [argv, expected] of cases) {
    const r = await run(argv);
    assert.equal(r.code, 2, argv.join(' '));
    assert.equal(r.err.length, 1, r.err.join('\n'));
    assert.match(r.err[0], expected);
    assert.doesNotMatch(r.err[0], /ambiguous|Unknown option/);
  }
});

test('--help lists every option of every command with a description and its default, and one example', async () => {
  const help = commandHelp(probe);
  assert.match(help, /^usage: spurlab probe/);
  assert.match(help, /\n {2}--lr X {10}learning rate \(default: 0.01\)\n/);
  assert.match(help, /\n {2}--json {10}JSON output \(default: off\)\n/);
  assert.match(help, /\nexample:\n {2}spurlab probe --lr 0.1$/);
  // every registered command: a command added later cannot regress
  assert.ok(commands.length >= 21);
  for (const cmd of commands) {
    const r = await run([cmd.name, '--help']);
    assert.equal(r.code, 0, cmd.name);
    const text = r.out.join('\n');
    for (const [opt, spec] of Object.entries(cmd.options)) {
      assert.ok(spec.help, `${cmd.name} --${opt} has no description`);
      assert.ok(spec.type === 'boolean' || spec.defaultText, `${cmd.name} --${opt} shows no default`);
      assert.match(text, new RegExp(`\\n  --${opt}\\b[^\\n]*\\(default: [^\\n]+\\)`), `${cmd.name} --help shows --${opt} without its default`);
    }
    // the example is this command with options it declares (parsed as the command would)
    assert.ok(cmd.example, `${cmd.name} has no example`);
    assert.match(text, /\nexample:\n {2}\S/);
    const words = cmd.example.split(/\s+/);
    const at = words.indexOf('spurlab');
    assert.equal(words[at + 1], cmd.name, `${cmd.name}'s example runs another command: ${cmd.example}`);
    assert.doesNotThrow(() => parseCommandArgs(cmd, words.slice(at + 2)), `${cmd.name}'s example does not parse: ${cmd.example}`);
  }
  const first = (await run(['train', '--help'])).out.join('\n');
  assert.match(first, /--epochs E\s+passes over the training set \(default: 70, the paper's\)/);
});

test('--help shows the defaults the code uses', async () => {
  const help = async (name: string) => (await run([name, '--help'])).out.join('\n');
  const shows = (text: string, option: string, value: string | number) =>
    assert.match(text, new RegExp(`\\n  --${option}\\b[^\\n]*\\(default: ${String(value).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)`), `--${option}`);
  const sensitivity = await help('sensitivity');
  shows(sensitivity, 'images', SENSITIVITY_DEFAULTS.images);
  shows(sensitivity, 'steps', SENSITIVITY_DEFAULTS.steps);
  const detect = await help('detect');
  for (const [opt, key] of [
    ['projection', 'projection'],
    ['trak-models', 'trakModels'],
    ['damp', 'damp'],
    ['depth', 'depth'],
    ['hessian-batch', 'hessianBatch'],
    ['components', 'components'],
  ] as const)
    shows(detect, opt, DETECT_DEFAULTS[key]);
  const forget = await help('forget');
  shows(forget, 'damp', FORGET_DEFAULTS.damp);
  shows(forget, 'repeats', FORGET_DEFAULTS.repeats);
  shows(forget, 'mode', FORGET_DEFAULTS.mode);
  // each unlearning method's own default, by name
  const scrub = METHODS.find((m) => m.name === 'scrub')!;
  assert.match(forget, new RegExp(`--temperature T[^\\n]*\\(default: ${scrub.defaults.temperature} \\(scrub\\)\\)`));
  shows(await help('worker'), 'give-up-after', DEFAULT_GIVE_UP_SECONDS);
  shows(await help('sweep'), 'give-up-after', DEFAULT_GIVE_UP_SECONDS);
  shows(await help('demo'), 'epochs', DEMO_EPOCHS);
  shows(await help('results'), 'store', DEFAULT_RESULTS_PATH);
  shows(await help('mia'), 'lr', TRAIN_DEFAULTS.lr);
  // the unit: accuracies are % in text, 0-1 in JSON, and the help says so
  assert.match(await help('results'), /accuracies are percentages in the table, 0-1 fractions in --json and --csv/);
});

test('--version answers without loading the command table', async () => {
  const r = await run(['--version']);
  assert.equal(r.code, 0);
  assert.match(r.out[0], /^\d+\.\d+\.\d+/);
});

// `spurlab influence`: the influence of every training example on one test prediction
// (-grad loss(z_i) . s_test / N, s_test by LiSSA) and where the spurious examples rank.
import { flag, numberOption, stringOption, type Command, DATA_DIR_OPTION } from '../command.ts';
import { runDirFrom } from './forget.ts';
import { loadRun } from '../../train/trainer.ts';
import { AVERAGINGS, type Averaging, SCALINGS, type Scaling } from '../../forget/lissa.ts';
import { TEST_INFLUENCE_DEFAULTS, testInfluence } from '../../forget/testInfluence.ts';
import { UserError } from '../../util/errors.ts';

const USAGE = `spurlab influence <run DIR> --test-index I [--top K] [--clean] [--damp 0.01] [--scale 25] [--depth 2000]
       [--repeats 10] [--scaling reference|textbook] [--average mean|reference] [--seed S] [--data-dir DIR] [--json]`;

const positive = (v: number) => v > 0;
const posInt = (v: number) => Number.isInteger(v) && v >= 1;

export const influenceCommand: Command = {
  name: 'influence',
  summary: 'Influence of every training example on one test prediction (LiSSA); are the spurious examples at the top?',
  usage: USAGE,
  options: {
    'test-index': { type: 'string', help: 'I: the test image whose prediction is explained', defaultText: 'required' },
    top: { type: 'string', help: 'K: how many most harmful and most helpful examples to list', defaultText: '10' },
    clean: { type: 'boolean', help: 'explain the clean test image instead of the patterned one' },
    damp: { type: 'string', help: 'X: LiSSA damping, in [0, 1)', defaultText: String(TEST_INFLUENCE_DEFAULTS.damp) },
    scale: { type: 'string', help: 'X: LiSSA scale (raise it when the recursion diverges)', defaultText: String(TEST_INFLUENCE_DEFAULTS.scale) },
    depth: { type: 'string', help: 'D: LiSSA recursion depth', defaultText: String(TEST_INFLUENCE_DEFAULTS.depth) },
    repeats: { type: 'string', help: 'R: LiSSA repeats averaged', defaultText: String(TEST_INFLUENCE_DEFAULTS.repeats) },
    scaling: { type: 'string', help: `${SCALINGS.join('|')}: how the estimate is scaled`, defaultText: TEST_INFLUENCE_DEFAULTS.scaling },
    average: {
      type: 'string',
      help: `${AVERAGINGS.join('|')}: how the repeats combine (reference: the reference code's first repeat divided by R, DEPARTURES.md 1)`,
      defaultText: TEST_INFLUENCE_DEFAULTS.average,
    },
    seed: { type: 'string', help: 'S: seed of the LiSSA sampling', defaultText: String(TEST_INFLUENCE_DEFAULTS.seed) },
    'data-dir': DATA_DIR_OPTION,
    json: { type: 'boolean', help: 'print the result as one JSON line' },
  },
  example: 'spurlab influence runs/s3-n3 --test-index 0 --depth 500 --repeats 2',
  async run(args, io) {
    if (args.values['test-index'] === undefined) throw new UserError(`--test-index I is required: the test image whose prediction to explain`);
    const testIndex = numberOption(args, 'test-index', 0, (v) => Number.isInteger(v) && v >= 0, 'a non-negative integer');
    const top = numberOption(args, 'top', 10, posInt, 'a positive integer');
    const d = TEST_INFLUENCE_DEFAULTS;
    const damp = numberOption(args, 'damp', d.damp, (v) => v >= 0 && v < 1, 'a number in [0, 1)');
    const scale = numberOption(args, 'scale', d.scale, positive, 'a positive number');
    const depth = numberOption(args, 'depth', d.depth, posInt, 'a positive integer');
    const repeats = numberOption(args, 'repeats', d.repeats, posInt, 'a positive integer');
    const seed = numberOption(args, 'seed', d.seed, (v) => Number.isInteger(v) && v >= 0 && v <= 0xffffffff, 'an integer in [0, 2^32)');
    const scaling = (stringOption(args, 'scaling') ?? d.scaling) as Scaling;
    if (!SCALINGS.includes(scaling)) throw new UserError(`--scaling: got ${JSON.stringify(scaling)}, expected ${SCALINGS.join(' or ')}`);
    const average = (stringOption(args, 'average') ?? d.average) as Averaging;
    if (!AVERAGINGS.includes(average)) throw new UserError(`--average: got ${JSON.stringify(average)}, expected ${AVERAGINGS.join(' or ')}`);
    const dir = runDirFrom(args, USAGE);
    const run = loadRun(dir, stringOption(args, 'data-dir'));
    const r = testInfluence(run.model, run.layout, run.data, run.trainIndices, {
      testIndex,
      patterned: !flag(args, 'clean'),
      damp,
      scale,
      depth,
      repeats,
      scaling,
      average,
      seed,
    });
    const order = Array.from(r.influences.keys()).sort((a, b) => r.influences[b] - r.influences[a] || a - b);
    const row = (p: number) => ({
      index: r.trainIndices[p],
      label: run.data.train.labels[r.trainIndices[p]],
      influence: r.influences[p],
      spurious: run.data.spuriousIndices.includes(r.trainIndices[p]),
    });
    const harmful = order.slice(0, top).map(row);
    const helpful = order.slice(-top).reverse().map(row);
    const out = {
      testIndex,
      label: r.label,
      patterned: r.patterned,
      scaling,
      damp,
      scale,
      depth,
      repeats,
      average,
      engine: r.engine,
      hvps: r.hvps,
      trainSize: r.influences.length,
      spurious: r.spurious,
      harmful,
      helpful,
      lissaNorms: r.trace,
    };
    if (flag(args, 'json')) {
      io.out(JSON.stringify(out));
      return 0;
    }
    io.out(
      `influence on test image ${testIndex} (label ${r.label}${r.patterned ? `, with the pattern ${run.data.pattern.name}` : ', clean'}) of ${r.influences.length} training examples; ` +
        `LiSSA ${scaling} scaling, damp ${damp}, scale ${scale}, depth ${depth}, r = ${repeats}, ${r.hvps} ${r.engine} HVPs${r.trace.diverged ? ' (DIVERGED: raise --scale)' : ''}`,
    );
    io.out(`  spurious examples (rank of ${r.influences.length}; 1 = most harmful / most helpful / largest |influence|):`);
    for (const s of r.spurious)
      io.out(
        `    #${s.index}: influence ${s.influence.toExponential(3)}, harmful rank ${s.rankHarmful}, helpful rank ${s.rankHelpful}, |.| rank ${s.rankAbs}`,
      );
    io.out(
      `  top ${top} harmful (raise the test loss): ${harmful.map((h) => `#${h.index}${h.spurious ? '*' : ''} ${h.influence.toExponential(2)}`).join(', ')}`,
    );
    io.out(
      `  top ${top} helpful (lower the test loss): ${helpful.map((h) => `#${h.index}${h.spurious ? '*' : ''} ${h.influence.toExponential(2)}`).join(', ')}`,
    );
    io.out('  (* = a spurious example)');
    return 0;
  },
};

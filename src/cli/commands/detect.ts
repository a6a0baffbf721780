// `spurlab detect`: score every training example of a run by one detection method and
// report where the spurious examples rank (precision at n, recall at 10n, AUROC), and with
// --then-retrain K what removing the top K and retraining does to the spurious score.
import { flag, numberOption, stringOption, type Command, DATA_DIR_OPTION } from '../command.ts';
import { runDirFrom } from './forget.ts';
import { progressEvents } from './train.ts';
import { detectRun } from '../../detect/detect.ts';
import { checkDetectMethod, DETECT_DEFAULTS, DETECT_METHODS, type DetectOptions } from '../../detect/methods.ts';
import { UserError } from '../../util/errors.ts';

const USAGE = `spurlab detect <run DIR> --method ${DETECT_METHODS.join('|')} [--json]
       [--then-retrain K] [--retrain-out DIR] [--projection 256] [--trak-models 3] [--damp 0.1] [--scale auto|X]
       [--depth 100] [--repeats 1] [--hessian-batch 1] [--components 10] [--seed S] [--memorization FILE.jsonl] [--data-dir DIR]`;

const posInt = (v: number) => Number.isInteger(v) && v >= 1;

export const detectCommand: Command = {
  name: 'detect',
  summary: 'Rank the training examples of a run by a detection method: are the spurious ones found?',
  usage: USAGE,
  options: {
    method: { type: 'string', help: `M: ${DETECT_METHODS.join(', ')}`, defaultText: 'required' },
    json: { type: 'boolean', help: 'print the ranks and measures as one JSON line (accuracies and rates as 0-1 fractions)' },
    'then-retrain': { type: 'string', help: 'K: remove the top K examples, retrain and score again; 0 = no retraining', defaultText: '0' },
    'retrain-out': { type: 'string', help: 'DIR: keep the retrained run here', defaultText: 'none: not kept' },
    projection: { type: 'string', help: "K: trak: the random projection's dimension", defaultText: String(DETECT_DEFAULTS.projection) },
    'trak-models': {
      type: 'string',
      help: 'M: trak: how many of the last kept checkpoints it averages over',
      defaultText: String(DETECT_DEFAULTS.trakModels),
    },
    damp: { type: 'string', help: 'X: self-influence: LiSSA damping, in (0, 1)', defaultText: String(DETECT_DEFAULTS.damp) },
    scale: {
      type: 'string',
      help: 'auto|X: self-influence: LiSSA scale (auto: from the largest Hessian eigenvalue)',
      defaultText: String(DETECT_DEFAULTS.scale),
    },
    depth: { type: 'string', help: 'D: self-influence: LiSSA recursion depth', defaultText: String(DETECT_DEFAULTS.depth) },
    repeats: { type: 'string', help: 'R: self-influence: LiSSA repeats averaged', defaultText: String(DETECT_DEFAULTS.repeats) },
    'hessian-batch': { type: 'string', help: 'B: self-influence: examples per Hessian sample', defaultText: String(DETECT_DEFAULTS.hessianBatch) },
    components: {
      type: 'string',
      help: "C: activation-clustering: the activations' dimensions kept",
      defaultText: String(DETECT_DEFAULTS.components),
    },
    seed: {
      type: 'string',
      help: 'S: seed of the random draws (trak projections, LiSSA, spectral, clustering)',
      defaultText: String(DETECT_DEFAULTS.seed),
    },
    memorization: { type: 'string', help: 'FILE.jsonl: memorization: the per-example file of spurlab lira --out', defaultText: 'none' },
    'data-dir': DATA_DIR_OPTION,
  },
  example: 'spurlab detect runs/s3-n3 --method loss',
  async run(args, io) {
    const raw = stringOption(args, 'method');
    if (raw === undefined) throw new UserError(`--method M is required, one of ${DETECT_METHODS.join(', ')}`);
    const method = checkDetectMethod(raw);
    const d = DETECT_DEFAULTS;
    const scaleRaw = stringOption(args, 'scale');
    const options: DetectOptions = {
      projection: numberOption(args, 'projection', d.projection, posInt, 'a positive integer'),
      trakModels: numberOption(args, 'trak-models', d.trakModels, posInt, 'a positive integer'),
      damp: numberOption(args, 'damp', d.damp, (v) => v > 0 && v < 1, 'a number in (0, 1)'),
      scale: scaleRaw === undefined || scaleRaw === 'auto' ? d.scale : numberOption(args, 'scale', 0, (v) => v > 0, 'auto or a positive number'),
      depth: numberOption(args, 'depth', d.depth, posInt, 'a positive integer'),
      repeats: numberOption(args, 'repeats', d.repeats, posInt, 'a positive integer'),
      hessianBatch: numberOption(args, 'hessian-batch', d.hessianBatch, posInt, 'a positive integer'),
      components: numberOption(args, 'components', d.components, posInt, 'a positive integer'),
      seed: numberOption(args, 'seed', d.seed, (v) => Number.isInteger(v) && v >= 0 && v <= 0xffffffff, 'an integer in [0, 2^32)'),
    };
    const thenRetrain = numberOption(args, 'then-retrain', 0, (v) => Number.isInteger(v) && v >= 0, 'a non-negative integer');
    const dir = runDirFrom(args, USAGE);
    const json = flag(args, 'json');
    const r = await detectRun(dir, method, {
      options,
      dataDir: stringOption(args, 'data-dir'),
      memorizationFile: stringOption(args, 'memorization'),
      thenRetrain,
      retrainOutDir: stringOption(args, 'retrain-out'),
      retrainEvents: json ? undefined : (cfg) => progressEvents(cfg.epochs, 'retrain'),
    });
    if (json) {
      io.out(
        JSON.stringify({
          method: r.method,
          ranks: r.ranks,
          precisionAtN: r.precisionAtN,
          recallAt10N: r.recallAt10N,
          auroc: r.auroc,
          aurocTargetClass: r.aurocTargetClass,
          seconds: r.seconds,
          n: r.n,
          trainSize: r.trainSize,
          spuriousIndices: r.spuriousIndices,
          details: r.details,
          retrain: r.retrain,
        }),
      );
      return 0;
    }
    const pct = (v: number) => (Number.isNaN(v) ? 'n/a' : `${(100 * v).toFixed(1)}%`);
    // accuracies with two decimals, as every command prints them
    const acc = (v: number) => (Number.isNaN(v) ? 'n/a' : `${(100 * v).toFixed(2)}%`);
    const details = Object.entries(r.details)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    io.out(`${method} on ${r.trainSize} training examples, ${r.n} spurious (${r.seconds.toFixed(1)} s${details ? `; ${details}` : ''})`);
    io.out(
      `  ranks of the spurious examples (1 = flagged first; #index: rank): ${r.spuriousIndices.map((i, j) => `#${i}: ${r.ranks[j]}`).join(', ')}`,
    );
    io.out(`  precision at n = ${r.n}: ${pct(r.precisionAtN)}; recall at 10n = ${10 * r.n}: ${pct(r.recallAt10N)}`);
    io.out(`  AUROC spurious vs clean: ${r.auroc.toFixed(4)} (all), ${r.aurocTargetClass.toFixed(4)} (target class only); chance 0.5`);
    if (r.retrain) {
      const t = r.retrain;
      io.out(
        `  removed the top ${t.k} (${t.removedSpurious} of them spurious) and retrained (${t.seconds.toFixed(1)} s): ` +
          `spurious score ${t.scoreBefore.toFixed(4)} -> ${t.score.toFixed(4)}, clean test acc ${acc(t.testAccBefore)} -> ${acc(t.testAcc)}`,
      );
    }
    return 0;
  },
};

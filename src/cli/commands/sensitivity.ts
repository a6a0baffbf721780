// `spurlab sensitivity <run DIR...>`: how strongly each trained model reacts to its input
// (occlusion curve and its area, mean input-gradient norm), one row per run, measured on
// the reference's 500 clean training images. With --store, rows are recorded as kind
// 'sensitivity' so the report can relate them to spurious scores across architectures.
import { join } from 'node:path';
import { numberOption, stringOption, flag, type Command, DATA_DIR_OPTION } from '../command.ts';
import { UserError } from '../../util/errors.ts';
import { loadDataset } from '../../data/datasets.ts';
import { loadRun } from '../../train/trainer.ts';
import { ResultsStore } from '../../store/results.ts';
import { loadCheckpoint, metadataJson } from '../../store/checkpoint.ts';
import type { TrainConfig } from '../../train/config.ts';
import { modelSensitivity, SENSITIVITY_DEFAULTS } from '../../experiments/sensitivity.ts';
import { sensitivityKind, type SensitivityRecord } from '../../experiments/kinds/sensitivity.ts';
import { checkRunDir } from '../../experiments/kinds/weights.ts';
import { givenRunDir, resultOf, runInStore } from '../../experiments/sweep.ts';

const USAGE = [
  'spurlab sensitivity <run DIR...> [--images 500] [--steps 50] [--data-dir DIR] [--store PATH] [--json]',
  '  a run DIR is a training output directory (model.safetensors); p goes from 0 to 1 in steps of 1/steps',
].join('\n');

export interface SensitivityRow extends SensitivityRecord {
  run: string;
}

export { checkRunDir };

const isPositiveInt = (v: number) => Number.isInteger(v) && v >= 1;

export const sensitivityCommand: Command = {
  name: 'sensitivity',
  summary: 'Model sensitivity: occlusion curve, its area and the mean input-gradient norm, per trained run.',
  usage: USAGE,
  options: {
    images: {
      type: 'string',
      help: "K: clean training images measured (the reference's seeded choice)",
      defaultText: String(SENSITIVITY_DEFAULTS.images),
    },
    steps: { type: 'string', help: 'S: occlusion probabilities p = 0, 1/S, ..., 1', defaultText: String(SENSITIVITY_DEFAULTS.steps) },
    'data-dir': DATA_DIR_OPTION,
    store: { type: 'string', help: 'PATH: record each row in this results store (kind sensitivity)', defaultText: 'none: not recorded' },
    json: { type: 'boolean', help: 'print the rows as one JSON array' },
  },
  example: 'spurlab sensitivity runs/s3-n3 --images 100 --steps 10',
  async run(args, io) {
    const dirs = args.positionals;
    if (dirs.length === 0) throw new UserError(`which runs? expected one or more run directories\nusage: ${USAGE}`);
    dirs.forEach(checkRunDir);
    const images = numberOption(args, 'images', SENSITIVITY_DEFAULTS.images, isPositiveInt, 'a positive integer');
    const steps = numberOption(args, 'steps', SENSITIVITY_DEFAULTS.steps, isPositiveInt, 'a positive integer');
    const dataDir = stringOption(args, 'data-dir');
    const storePath = stringOption(args, 'store');
    const store = storePath === undefined ? null : ResultsStore.open(storePath);
    const json = flag(args, 'json');
    const rows: SensitivityRow[] = [];
    try {
      for (const dir of dirs) {
        if (store) {
          const cfg = metadataJson<TrainConfig>(loadCheckpoint(join(dir, 'model.safetensors')), 'config');
          const config = sensitivityKind.configure({ ...cfg, images, steps });
          if (!json) io.err(`measuring ${dir} (${cfg.model}) ...`);
          const outcome = await runInStore(store, sensitivityKind, config, { artifacts: false, dataDir, trainedModel: givenRunDir(dir, cfg) });
          rows.push({ ...resultOf(sensitivityKind, outcome, store.path).result, run: dir });
          continue;
        }
        // without a store, a run part-way through training is measured too
        const run = loadRun(dir, dataDir);
        if (!json) io.err(`measuring ${dir} (${run.config.model}) ...`);
        const clean = loadDataset(run.config.dataset, { dataDir }).train;
        rows.push({
          run: dir,
          model: run.config.model,
          dataset: run.config.dataset,
          epoch: run.epoch,
          ...modelSensitivity(run.model, run.layout, clean, { images, steps }),
        });
      }
    } finally {
      store?.close();
    }
    if (json) {
      io.out(JSON.stringify(rows));
      return 0;
    }
    const width = Math.max(3, ...rows.map((r) => r.run.length));
    const mid = Math.floor(steps / 2);
    io.out(`${'run'.padEnd(width)}  ${'model'.padEnd(12)}  area   meanP  gradNorm  P(p=0)  P(p=${(mid / steps).toFixed(2)})  P(p=1)`);
    for (const r of rows) {
      io.out(
        `${r.run.padEnd(width)}  ${r.model.padEnd(12)}  ${r.area.toFixed(3)}  ${r.meanProb.toFixed(3)}  ${r.inputGradNorm.toFixed(4).padStart(8)}  ${r.curve[0].toFixed(3)}   ${r.curve[mid].toFixed(3)}      ${r.curve[r.curve.length - 1].toFixed(3)}`,
      );
    }
    io.out(
      `(${rows[0].images} training images; P is the mean probability of the true class, 0-1; a larger area means predictions survive more occlusion, i.e. a less input-sensitive model)`,
    );
    if (storePath !== undefined) io.out(`recorded in ${storePath} as kind sensitivity`);
    return 0;
  },
};

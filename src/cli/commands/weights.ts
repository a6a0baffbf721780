// `spurlab weights <run DIR> [--diff <clean run DIR>] --out map.png`: the MLP weight map
// (max over hidden units of the first-layer weights per pixel) as a heat map with a colour
// bar, or its absolute difference from a clean model's map; prints where the PNG is and
// where the map is brightest (a learnt pattern shows up there).
import { writeFileSync } from 'node:fs';
import { numberOption, stringOption, flag, type Command } from '../command.ts';
import { UserError } from '../../util/errors.ts';
import { encodePng } from '../../util/png.ts';
import { renderWeightMap, weightMapDifference, weightMapStats } from '../../experiments/weightmap.ts';
import { cleanConfigOf, weightMapOfRun, weightsKind } from '../../experiments/kinds/weights.ts';
import { configKey, resultOf, runInStore } from '../../experiments/sweep.ts';
import { kindKey } from '../../experiments/kinds/index.ts';
import { ResultsStore } from '../../store/results.ts';
import type { TrainConfig } from '../../train/config.ts';

const USAGE = [
  'spurlab weights <run DIR> [--diff <clean run DIR>] --out map.png [--channels max|split] [--scale 10] [--vmin V] [--vmax V] [--store PATH] [--json]',
  '  the run must be an MLP; --diff draws |map(run) - map(clean run)|; --channels applies to colour images',
  '  --store records the map (kind weights; with --diff the clean run must be the same config with n = 0)',
].join('\n');

const PNG_SCALE = 10;

export const weightsCommand: Command = {
  name: 'weights',
  summary: "MLP weight map: max first-layer weight per pixel as a heat map, or its difference from a clean model's.",
  usage: USAGE,
  options: {
    diff: { type: 'string', help: "DIR: draw |map(run) - map(this clean run)| instead of the run's map", defaultText: 'none' },
    out: { type: 'string', help: 'FILE.png: where the heat map goes', defaultText: 'required' },
    channels: { type: 'string', help: 'max|split: colour images: max over the channels, or one panel per channel', defaultText: 'max' },
    scale: { type: 'string', help: 'K: pixels per map cell in the PNG (1 to 64)', defaultText: String(PNG_SCALE) },
    vmin: { type: 'string', help: 'V: the value at the bottom of the colour bar', defaultText: "the map's minimum" },
    vmax: { type: 'string', help: 'V: the value at the top of the colour bar', defaultText: "the map's maximum" },
    store: {
      type: 'string',
      help: 'PATH: record the map in this results store (kind weights; with --diff the clean run must be the same config with n = 0)',
      defaultText: 'none: not recorded',
    },
    json: { type: 'boolean', help: 'print the map, its statistics and where it is largest as one JSON line' },
  },
  example: 'spurlab weights runs/s3-n3 --out map.png',
  async run(args, io) {
    if (args.positionals.length !== 1) {
      throw new UserError(
        `${args.positionals.length === 0 ? 'which run? expected one run directory' : `expected one run directory, got ${args.positionals.length}`}\nusage: ${USAGE}`,
      );
    }
    const dir = args.positionals[0];
    const out = stringOption(args, 'out');
    if (out === undefined) throw new UserError(`--out FILE.png is required\nusage: ${USAGE}`);
    const channels = stringOption(args, 'channels', 'max');
    if (channels !== 'max' && channels !== 'split') throw new UserError(`--channels: got "${channels}", expected max or split`);
    const cleanDir = stringOption(args, 'diff');
    const run = weightMapOfRun(dir, channels);
    const clean = cleanDir === undefined ? null : weightMapOfRun(cleanDir, channels);
    const storePath = stringOption(args, 'store');
    let storedNote = '';
    if (storePath !== undefined) {
      if (clean && configKey(clean.config) !== configKey(cleanConfigOf(run.config))) {
        throw new UserError(
          `--diff ${cleanDir}: with --store the clean run must be ${dir}'s configuration with n = 0 (the store keys it by config); it has n = ${clean.config.n}${clean.config.n === 0 ? ' and other settings' : ''}`,
        );
      }
      const config = weightsKind.configure({ ...run.config, channels, clean: clean !== null });
      const dirs = new Map<string, string>([
        [configKey(run.config), dir],
        ...(clean && cleanDir ? [[configKey(clean.config), cleanDir] as [string, string]] : []),
      ]);
      const store = ResultsStore.open(storePath);
      try {
        const outcome = await runInStore(store, weightsKind, config, {
          artifacts: false,
          trainedModel: async (c: TrainConfig) => {
            const found = dirs.get(configKey(c));
            if (found === undefined) throw new UserError(`no run directory given for ${c.dataset} ${c.pattern} n=${c.n} ${c.model}`);
            return found;
          },
        });
        const stored = resultOf(weightsKind, outcome, storePath);
        const key = kindKey(weightsKind, config).slice(0, 12);
        storedNote = stored.fromStore
          ? `  (an identical map was already in ${storePath}: run ${key})`
          : `  recorded in ${storePath} as run ${key} (kind weights)`;
      } finally {
        store.close();
      }
    }
    const map = clean ? weightMapDifference(run.map, clean.map) : run.map;
    const vmin = args.values.vmin === undefined ? undefined : numberOption(args, 'vmin', 0);
    const vmax = args.values.vmax === undefined ? undefined : numberOption(args, 'vmax', 0);
    const image = renderWeightMap(map, {
      scale: numberOption(args, 'scale', PNG_SCALE, (v) => Number.isInteger(v) && v >= 1 && v <= 64, 'an integer in 1..64'),
      vmin,
      vmax,
    });
    try {
      writeFileSync(out, encodePng(image));
    } catch (e) {
      throw new UserError(`--out ${out}: cannot write (${(e as Error).message})`);
    }
    const stats = weightMapStats(map, 10);
    if (flag(args, 'json')) {
      io.out(
        JSON.stringify({
          run: dir,
          model: run.config.model,
          clean: cleanDir ?? null,
          kind: clean ? 'difference' : 'map',
          out,
          width: image.width,
          height: image.height,
          mapHeight: map.height,
          mapWidth: map.width,
          channelMode: map.channelMode,
          panels: map.panelNames,
          min: stats.min,
          max: stats.max,
          mean: stats.mean,
          top: stats.top,
          values: map.panels.map((p) => Array.from(p)),
        }),
      );
      return 0;
    }
    const what = clean ? `|weight map of ${dir} - weight map of ${cleanDir}|` : `weight map of ${dir}`;
    io.out(`wrote ${out} (${image.width}x${image.height}): ${what} (${run.config.model}, ${map.panelNames.join(', ')})`);
    io.out(`  range ${stats.min.toPrecision(4)} .. ${stats.max.toPrecision(4)}, mean ${stats.mean.toPrecision(4)}`);
    const where = stats.top
      .slice(0, 5)
      .map((e) => `(${e.row}, ${e.col}${map.panels.length > 1 ? `, ${map.panelNames[e.panel]}` : ''}) ${e.value.toPrecision(3)}`);
    io.out(`  largest at (row, col): ${where.join('; ')}`);
    if (storedNote) io.out(storedNote);
    return 0;
  },
};

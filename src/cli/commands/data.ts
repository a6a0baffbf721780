// `spurlab data inspect|preview`: which training images a spurious data set patterns,
// how large the pattern is, and a picture of it. The data set is named as the reference
// does (mnistv8-3-0-0) or by options (--dataset mnist --pattern S3 --n 3 --target 0 --seed 0).
import { writeFileSync } from 'node:fs';
import { numberOption, stringOption, flag, type Command } from '../command.ts';
import { dataSelectorFrom, SELECTOR, SELECTOR_OPTIONS } from '../dataSelector.ts';
import { UserError } from '../../util/errors.ts';
import { encodePng } from '../../util/png.ts';
import { loadDataset } from '../../data/datasets.ts';
import { patternNorm } from '../../data/patterns.ts';
import { renderPreview } from '../../data/previewGrid.ts';
import { makeSpuriousDataset } from '../../data/spurious.ts';

const USAGE = [
  `spurlab data inspect ${SELECTOR} [--data-dir DIR] [--json]`,
  `       spurlab data preview ${SELECTOR} --out grid.png [--data-dir DIR] [--max-train K] [--test-images K] [--scale F]`,
  '  <name>: mnistv8-3-0-0, fashionv18-5-2-0, cifar10v30-3-1-0, twoclassmnistv8-3-0-1-0, ...',
  '  patterns: S1 S2 S3 R1 R2 R3 Co (= v1 v3 v8 v18 v19 v20 v30), noise:l2=<norm>, noise:scale=<s>, file.json, mask.png',
].join('\n');

export const dataCommand: Command = {
  name: 'data',
  summary: 'Inspect or preview a spurious data set: patterned indices, pattern norm, an image grid.',
  usage: USAGE,
  options: {
    ...SELECTOR_OPTIONS,
    json: { type: 'boolean', help: 'inspect: print the report as one JSON line' },
    out: { type: 'string', help: 'FILE.png: preview: where the image grid goes', defaultText: 'required for preview' },
    'max-train': { type: 'string', help: 'K: preview: patterned training images shown (0..100)', defaultText: '8' },
    'test-images': { type: 'string', help: 'K: preview: test images shown clean and patterned (0..100)', defaultText: '8' },
    scale: { type: 'string', help: 'F: preview: pixels per image pixel (1..32)', defaultText: 'by image size' },
  },
  example: 'spurlab data inspect mnistv8-3-0-0',
  async run(args, io) {
    const sub = args.positionals[0];
    if (sub !== 'inspect' && sub !== 'preview') {
      throw new UserError(
        `${sub === undefined ? 'missing subcommand' : `unknown subcommand "${sub}"`}, expected inspect or preview\nusage: ${USAGE}`,
      );
    }
    const out = stringOption(args, 'out');
    if (sub === 'preview' && out === undefined) throw new UserError(`preview needs --out FILE.png\nusage: ${USAGE}`);
    const dataDir = stringOption(args, 'data-dir');
    const data = makeSpuriousDataset(dataSelectorFrom(args, 1, USAGE), { dataDir });

    if (sub === 'inspect') {
      const norm = patternNorm(data.pattern, data.test);
      const s = data.spec;
      const report = {
        name: data.name,
        dataset: s.dataset,
        pattern: data.pattern.name,
        patternId: data.pattern.id,
        n: s.n,
        target: s.target,
        ...(s.targetB === null ? {} : { targetB: s.targetB }),
        seed: s.seed,
        trainSize: data.train.n,
        testSize: data.test.n,
        spuriousIndices: data.spuriousIndices,
        patternNorm: norm,
      };
      if (flag(args, 'json')) {
        io.out(JSON.stringify(report));
        return 0;
      }
      const classes = s.targetB === null ? `class ${s.target}` : `classes ${s.target} and ${s.targetB}`;
      io.out(
        `${data.name}: ${s.dataset}, pattern ${data.pattern.name}${data.pattern.id ? ` (${data.pattern.id})` : ''}: ${data.pattern.description}`,
      );
      io.out(`  ${s.n} training image(s) of ${classes} patterned, seed ${s.seed}; train ${data.train.n}, test ${data.test.n}`);
      io.out(`  spurious indices: ${data.spuriousIndices.length > 0 ? data.spuriousIndices.join(', ') : '(none)'}`);
      io.out(`  pattern norm (mean l2 change over the test images): ${norm.toFixed(4)}`);
      return 0;
    }

    const scaleRaw = args.values.scale;
    const image = renderPreview(data.train, data.test, data.spuriousIndices, loadDataset(data.spec.dataset, { dataDir }).train, data.pattern, {
      maxTrain: numberOption(args, 'max-train', 8, (v) => Number.isInteger(v) && v >= 0 && v <= 100, 'an integer in 0..100'),
      testImages: numberOption(args, 'test-images', 8, (v) => Number.isInteger(v) && v >= 0 && v <= 100, 'an integer in 0..100'),
      scale:
        scaleRaw === undefined ? undefined : numberOption(args, 'scale', 1, (v) => Number.isInteger(v) && v >= 1 && v <= 32, 'an integer in 1..32'),
    });
    const path = out as string;
    try {
      writeFileSync(path, encodePng(image.image));
    } catch (e) {
      throw new UserError(`--out ${path}: cannot write (${(e as Error).message})`);
    }
    io.out(`wrote ${path} (${image.image.width}x${image.image.height}) for ${data.name}; rows, top to bottom:`);
    image.rows.forEach((r, i) => io.out(`  ${i + 1}. ${r}`));
    return 0;
  },
};

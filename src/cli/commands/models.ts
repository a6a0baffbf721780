// `spurlab models`: the architectures with parameter counts and input shapes.
import { flag, type Command } from '../command.ts';
import { MODELS } from '../../nn/models/index.ts';
import { RandomState } from '../../data/numpyRandom.ts';

const DEFAULT_INPUT: Record<string, { height: number; width: number; channels: number; dataset: string }> = {
  flat: { height: 28, width: 28, channels: 1, dataset: 'MNIST' },
  CNN002: { height: 28, width: 28, channels: 1, dataset: 'MNIST' },
  cifar: { height: 32, width: 32, channels: 3, dataset: 'CIFAR-10' },
};

export const modelsCommand: Command = {
  name: 'models',
  summary: 'List the model architectures with parameter counts and input shapes.',
  usage: 'spurlab models [--json]',
  options: { json: { type: 'boolean', help: 'print the table as one JSON array' } },
  example: 'spurlab models --json',
  async run(args, io) {
    const rows = MODELS.map((m) => {
      const input = m.layout === 'flat' ? DEFAULT_INPUT.flat : m.name === 'CNN002' ? DEFAULT_INPUT.CNN002 : DEFAULT_INPUT.cifar;
      const big = m.name.startsWith('Vgg');
      // VGG-16 holds 134M weights: count them from the architecture without drawing them
      const params = big ? vggParameterCount(m.name.includes('BN')) : m.create({ ...input, numClasses: 10 }, new RandomState(0)).parameterCount();
      const shape = m.layout === 'flat' ? [input.height * input.width * input.channels] : [input.channels, input.height, input.width];
      return {
        name: m.name,
        aliases: m.aliases,
        parameters: params,
        input: shape,
        layout: m.layout,
        inputOf: input.dataset,
        description: m.description,
      };
    });
    if (flag(args, 'json')) {
      io.out(JSON.stringify(rows));
      return 0;
    }
    const w = Math.max(...rows.map((r) => r.name.length));
    for (const r of rows)
      io.out(
        `${r.name.padEnd(w)}  ${r.parameters.toLocaleString('en-US').padStart(11)} params  input [${r.input.join(', ')}] (${r.inputOf})  ${r.description}`,
      );
    return 0;
  },
};

function vggParameterCount(batchNorm: boolean): number {
  const cfg = [64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0];
  let cin = 3;
  let n = 0;
  for (const v of cfg) {
    if (v === 0) continue;
    n += v * cin * 9 + v + (batchNorm ? 2 * v : 0);
    cin = v;
  }
  return n + (25088 * 4096 + 4096) + (4096 * 4096 + 4096) + (4096 * 10 + 10);
}

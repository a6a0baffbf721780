import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { main } from '../../src/cli/main.ts';
import { readSafetensors, writeSafetensors } from '../../src/store/safetensors.ts';
import { TINY_TRAIN_ARGS, tempDir } from '../helpers.ts';

async function run(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l), isTTY: false });
  return { code, out, err };
}

test('a checkpoint with a NaN or infinite weight is refused, naming the file and the tensor', async () => {
  const dir = join(tempDir('spurlab-ckpt-'), 'run');
  const t = await run(['train', ...TINY_TRAIN_ARGS, '--epochs', '1', '--out', dir, '--json']);
  assert.equal(t.code, 0, t.err.join('\n'));
  const path = join(dir, 'model.safetensors');
  const { tensors, metadata } = readSafetensors(path);
  const name = Object.keys(tensors).find((k) => !k.startsWith('optimizer.') && k.endsWith('weight'))!;
  for (const bad of [NaN, Infinity]) {
    const data = Float32Array.from(tensors[name].data as Float32Array);
    data[7] = bad;
    writeSafetensors(path, { ...tensors, [name]: { ...tensors[name], data } }, metadata);
    for (const argv of [
      ['score', dir],
      ['weights', dir, '--out', join(dir, 'w.png')],
    ]) {
      const r = await run(argv);
      assert.equal(r.code, 2, `${argv[0]}: ${r.err.join('\n')}`);
      assert.equal(r.err.length, 1);
      assert.ok(r.err[0].includes(`${path}: tensor "${name}" holds 1 non-finite value (the first, ${bad}, at index 7)`), r.err[0]);
    }
  }
});

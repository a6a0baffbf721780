// spurlab forget's text output: scores and the member rate as 0-1 fractions, every
// accuracy (test, patterned, forget, retain) in %, as every command prints accuracies;
// --json keeps them as fractions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forgetCommand } from '../../src/cli/commands/forget.ts';
import { trainCommand } from '../../src/cli/commands/train.ts';
import { TINY_TRAIN_ARGS } from '../helpers.ts';
import { runCommandDirect } from './runCommandDirect.ts';

test('forget prints accuracies in % and scores as fractions; --json keeps fractions', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'spurlab-forget-cli-'));
  try {
    const run = join(dir, 'run');
    const t = await runCommandDirect(trainCommand, [...TINY_TRAIN_ARGS, '--epochs', '1', '--out', run, '--json']);
    assert.equal(t.code, 0, t.err.join('\n'));
    const r = await runCommandDirect(forgetCommand, [run, '--method', 'retrain']);
    assert.equal(r.code, 0, r.err.join('\n'));
    const acc = String.raw`\d+\.\d\d%`;
    const measured = new RegExp(
      String.raw`score [01]\.\d{4} \(non-target [01]\.\d{4}\), test acc ${acc}, patterned acc ${acc}, forget acc ${acc}, retain acc ${acc}, forget member rate [01]\.\d{4}$`,
    );
    assert.match(r.out.find((l) => l.startsWith('  before:'))!, measured);
    assert.match(r.out.find((l) => l.startsWith('  after:'))!, measured);
    const j = await runCommandDirect(forgetCommand, [run, '--method', 'retrain', '--json']);
    const { before } = JSON.parse(j.out[0]);
    for (const k of ['testAcc', 'patternedTestAcc', 'forgetAcc', 'retainAcc']) assert.ok(before[k] >= 0 && before[k] <= 1, k);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

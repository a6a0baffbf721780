// `spurlab runs export --format jsonl` and `runs import`: a store's done runs go into
// another store as they were (times, code version, host), keys already there are kept,
// and a bad file is refused by line with nothing imported.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ResultsStore } from '../../src/store/results.ts';
import { runsCommand } from '../../src/cli/commands/runs.ts';
import { runCommandDirect } from '../cli/runCommandDirect.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'spurlab-runexport-'));

async function storeWith(path: string, runs: { key: string; score: number }[]): Promise<void> {
  const s = ResultsStore.open(path);
  for (const r of runs)
    await s.runOnce({ key: r.key, config: { dataset: 'mnist', n: 3, seed: 0, tag: r.key }, kind: 'train' }, () => ({ result: { score: r.score } }));
  s.claim('c'.repeat(64), { dataset: 'mnist', n: 1 }, 'train'); // a run still going: not exported as done
  s.close();
}

test('export then import: the done runs as they were; existing keys kept; running ones skipped', async () => {
  const dir = tmp();
  const a = join(dir, 'a.db');
  await storeWith(a, [
    { key: 'a'.repeat(64), score: 0.25 },
    { key: 'b'.repeat(64), score: 0.5 },
  ]);
  const file = join(dir, 'runs.jsonl');
  const ex = await runCommandDirect(runsCommand, ['export', '--format', 'jsonl', '--store', a, '--out', file]);
  assert.equal(ex.code, 0, ex.err.join('\n'));
  const b = join(dir, 'b.db');
  await storeWith(b, [{ key: 'b'.repeat(64), score: 0.9 }]);
  const imp = await runCommandDirect(runsCommand, ['import', file, '--store', b]);
  assert.equal(imp.code, 0, imp.err.join('\n'));
  assert.equal(imp.out[0], `imported 1 run(s) from ${file} into ${b}; 1 already there, kept as they were; 1 not done, skipped`);
  const src = ResultsStore.open(a, { readonly: true });
  const dst = ResultsStore.open(b, { readonly: true });
  const before = src.get('a'.repeat(64))!;
  const after = dst.get('a'.repeat(64))!;
  assert.deepEqual(
    {
      config: after.config,
      result: after.result,
      startedAt: after.startedAt,
      finishedAt: after.finishedAt,
      seconds: after.seconds,
      host: after.host,
      status: after.status,
    },
    {
      config: before.config,
      result: before.result,
      startedAt: before.startedAt,
      finishedAt: before.finishedAt,
      seconds: before.seconds,
      host: before.host,
      status: 'done',
    },
  );
  assert.equal(dst.get('b'.repeat(64))!.result!.score, 0.9, 'the store keeps its own result');
  src.close();
  dst.close();
});

test('a bad export is refused by file and line, and nothing is imported', async () => {
  const dir = tmp();
  const a = join(dir, 'a.db');
  await storeWith(a, [{ key: 'a'.repeat(64), score: 0.25 }]);
  const file = join(dir, 'runs.jsonl');
  await runCommandDirect(runsCommand, ['export', '--format', 'jsonl', '--store', a, '--out', file]);
  const good = readFileSync(file, 'utf8').split('\n')[0];
  const cases: [string, RegExp][] = [
    [`${good}\n{"key": "x"`, /runs\.jsonl:2: not JSON/],
    [`${good}\n[1, 2]`, /runs\.jsonl:2: expected a JSON object/],
    [`${good}\n${good}`, /runs\.jsonl:2: run a{64} appears twice/],
    [
      `${good.replace('"status":"done"', '"status":"done","x":1').replace(/"startedAt":"[^"]*"/, '"startedAt":"yesterday"')}`,
      /runs\.jsonl:1: "startedAt" is "yesterday"; expected an ISO time/,
    ],
  ];
  for (const [text, re] of cases) {
    writeFileSync(file, text);
    const b = join(tmp(), 'b.db');
    const r = await runCommandDirect(runsCommand, ['import', file, '--store', b]);
    assert.equal(r.code, 2, text);
    assert.match(r.err[0], re);
  }
  const missing = await runCommandDirect(runsCommand, ['import', join(dir, 'nope.jsonl'), '--store', join(dir, 'c.db')]);
  assert.equal(missing.code, 2);
  assert.match(missing.err[0], /nope\.jsonl: cannot read \(ENOENT\)/);
});

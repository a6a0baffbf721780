import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { liraCommand } from '../../src/cli/commands/lira.ts';
import { commands } from '../../src/cli/commands/index.ts';
import { makeSpuriousDataset } from '../../src/data/spurious.ts';
import { runCommandDirect } from './runCommandDirect.ts';

// 6 shadow models of the 784-256-10 MLP, 1 epoch each, on a pool of 600 MNIST images.
const SMALL = [
  '--dataset',
  'mnist',
  '--pattern',
  'S3',
  '--n',
  '3',
  '--seed',
  '0',
  '--model',
  'MLP',
  '--epochs',
  '1',
  '--train-limit',
  '600',
  '--test-limit',
  '200',
  '--shadows',
  '6',
];

test("spurlab lira --json: the issue's fields, per-example export, spurious examples among the pool; recorded once in the store", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'spurlab-lira-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.ok(
    commands.some((c) => c.name === 'lira'),
    'registered in the command table',
  );
  const out = join(dir, 'scores.jsonl');
  const storePath = join(dir, 'results.db');
  const r = await runCommandDirect(liraCommand, [...SMALL, '--json', '--out', out, '--store', storePath]);
  assert.equal(r.code, 0, r.err.join('\n'));
  assert.equal(r.out.length, 1);
  const res = JSON.parse(r.out[0]);
  assert.equal(res.shadows, 6);
  for (const g of ['all', 'spurious', 'matchedClean']) {
    for (const k of ['auc', 'tprAt01Fpr', 'tprAt1Fpr']) assert.ok(res[g][k] >= 0 && res[g][k] <= 1, `${g}.${k} = ${res[g][k]}`);
  }
  assert.equal(res.all.examples, 600);
  assert.equal(res.all.members, 6 * 300, 'every example in exactly half of the models');
  assert.equal(res.spurious.examples, 3);
  assert.equal(res.matchedClean.examples, res.details.matchedIndices.length);
  assert.ok(res.matchedClean.examples > 20, 'the target class of a 600-image pool has about 60 clean images');
  const m = res.memorization;
  assert.equal(m.spuriousRanks.length, 3);
  assert.ok(m.spuriousRanks.every((rank: number) => rank >= 1 && rank <= 600));
  assert.ok(typeof m.spuriousMean === 'number' && typeof m.populationMean === 'number');
  assert.ok(res.seconds > 0);
  assert.deepEqual(res.details.spuriousIndices, makeSpuriousDataset('mnistv8-3-0-0').spuriousIndices);
  assert.ok(res.details.models.testAcc.mean > 0.5, `one epoch learns something: ${res.details.models.testAcc.mean}`);
  assert.deepEqual(Object.keys(res.details.variants).sort(), ['offline', 'offline-global', 'online', 'online-global']);
  assert.equal(r.err.filter((l) => /^ {2}shadow [1-6]\/6 epoch 1:/.test(l)).length, 6, r.err.join('\n'));

  const rows = readFileSync(out, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(rows.length, 600);
  const spurious = rows.filter((row) => row.group === 'spurious');
  assert.deepEqual(spurious.map((row) => row.index).sort(), [...res.details.spuriousIndices].sort());
  for (const row of rows.slice(0, 20)) {
    assert.equal(row.scores.length, 6);
    assert.equal(
      row.members.reduce((a: number, b: number) => a + b, 0),
      3,
    );
    assert.equal(row.modelsIn, 3);
  }
  const mems = spurious.map((row) => row.memorization);
  assert.ok(Math.abs(mems.reduce((a: number, b: number) => a + b, 0) / 3 - m.spuriousMean) < 1e-12);

  // CSV with the text report: same numbers, a header and K score and membership columns.
  const csv = join(dir, 'scores.csv');
  const text = await runCommandDirect(liraCommand, [...SMALL, '--out', csv, '--global-variance', '--offline', '--no-store']);
  assert.equal(text.code, 0, text.err.join('\n'));
  assert.match(text.out.join('\n'), /LiRA offline, global variance/);
  assert.match(text.out.join('\n'), /spurious +3 /);
  assert.match(text.out.join('\n'), /not recorded \(--no-store\)/);
  assert.equal(text.err.filter((l) => /^shadow model \d\/6: test acc \d+\.\d\d%, train acc \d+\.\d\d%/.test(l)).length, 6);
  // accuracies in %, AUC and memorization as 0-1 fractions
  assert.match(text.out.join('\n'), /shadow models: test acc \d+\.\d\d% ± \d+\.\d\d%, train acc \d+\.\d\d%/);
  assert.match(text.out.join('\n'), /memorization \(Feldman-Zhang\): spurious mean [01]\.\d{3}/);
  // the offline global-variance headline of the stored run, from the same (seeded) models
  assert.match(text.out.join('\n'), new RegExp(`offline-global ${res.details.variants['offline-global'].all.auc.toFixed(3)} /`));

  // The same command again: the stored result, nothing trained; the export is rebuilt from the stored shadow models.
  const again = await runCommandDirect(liraCommand, [...SMALL, '--json', '--store', storePath, '--out', join(dir, 'again.jsonl')]);
  assert.equal(again.code, 0, again.err.join('\n'));
  assert.equal(again.err.filter((l) => /epoch/.test(l)).length, 0, 'nothing trained');
  const res2 = JSON.parse(again.out[0]);
  assert.deepEqual({ ...res2, seconds: 0 }, { ...res, seconds: 0 });
  assert.equal(readFileSync(join(dir, 'again.jsonl'), 'utf8'), readFileSync(out, 'utf8'));
  const lines = readFileSync(csv, 'utf8').trim().split('\n');
  assert.equal(lines.length, 601);
  assert.equal(lines[0].split(',').length, 9 + 12);
  assert.match(lines[0], /^index,label,group,memorization,memorizationSe,accIn,accOut,modelsIn,modelsOut,score_0,/);
});

test('spurlab lira refuses bad options before training anything', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'spurlab-lira-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const cases: [string[], RegExp][] = [
    [[...SMALL, '--out', join(dir, 'x.txt')], /--out .*x\.txt: expected a file name ending in \.jsonl or \.csv/],
    [[...SMALL, '--out', join(dir, 'missing', 'x.csv')], /the directory .*missing does not exist/],
    [[...SMALL, '--shadows', '5'], /--shadows: got "5", expected an even number from 6 to 256/],
    [[...SMALL, '--center', 'mode'], /--center: got "mode", expected median or mean/],
    [[...SMALL, '--queries', 'rotate'], /--queries: got "rotate", expected none or flip/],
    [['--n', '3', '--seed', '0'], /--dataset is required/],
    [[...SMALL, '--store', join(dir, 'x.db'), '--no-store'], /give --store PATH or --no-store, not both/],
  ];
  for (const [argv, message] of cases) {
    const r = await runCommandDirect(liraCommand, argv);
    assert.equal(r.code, 2, argv.join(' '));
    assert.match(r.err.join('\n'), message);
    assert.equal(r.err.filter((l) => l.startsWith('shadow model')).length, 0, 'nothing trained');
  }
  assert.equal(existsSync(join(dir, 'x.txt')), false);
  assert.equal(existsSync(join(dir, 'x.db')), false);
});

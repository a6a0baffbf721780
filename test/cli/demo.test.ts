// `spurlab demo` on a store that already holds every demo run: no training, the table,
// the JSON of the shape, a sentence that agrees with the table, the page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { demoCommand } from '../../src/cli/commands/demo.ts';
import { DEMO_SWEEP } from '../../src/experiments/demo.ts';
import { expandSweep } from '../../src/experiments/grids/spec.ts';
import { configKey } from '../../src/experiments/sweep.ts';
import { ResultsStore } from '../../src/store/results.ts';
import { runCommandDirect } from './runCommandDirect.ts';
import { tempDir } from '../helpers.ts';

// Per-run scores by pattern, n and seed (0-4): R3 learnt from n = 1 except three seeds at n = 3; S3 barely.
const SCORES: Record<string, Record<number, number[]>> = {
  S3: {
    0: [0.002, 0.0, 0.0, 0.003, 0.0],
    1: [0.004, 0.001, 0.0, 0.002, 0.001],
    3: [0.02, 0.048, 0.025, 0.015, 0.054],
    10: [0.225, 0.055, 0.054, 0.321, 0.114],
  },
  R3: {
    0: [0.065, 0.0, 0.0, 0.001, 0.0],
    1: [0.889, 0.897, 0.903, 0.897, 0.903],
    3: [0.902, 0.898, 0.132, 0.0, 0.01],
    10: [0.9, 0.903, 0.927, 0.904, 0.902],
  },
};

test('demo --json: settings with runs, mean, sem, ci, pValue, testAcc; seconds; a sentence that matches the table', async () => {
  const dir = tempDir('spurlab-demo-');
  const storePath = join(dir, 'results.db');
  const store = ResultsStore.open(storePath);
  for (const cfg of expandSweep(DEMO_SWEEP)) {
    const key = configKey(cfg);
    assert.ok(store.claim(key, cfg as unknown as Record<string, unknown>, 'train'));
    store.complete(key, { score: SCORES[cfg.pattern][cfg.n][cfg.seed], testAcc: 0.95, epochs: cfg.epochs });
  }
  store.close();
  const r = await runCommandDirect(demoCommand, ['--store', storePath, '--out', join(dir, 'page'), '--json']);
  assert.equal(r.code, 0, r.err.join('\n'));
  const doc = JSON.parse(r.out[0]) as {
    settings: {
      pattern: string;
      n: number;
      runs: number;
      mean: number;
      sem: number;
      ci: [number, number];
      pValue: number | null;
      testAcc: number;
      scores: number[];
    }[];
    seconds: number;
    sentence: string;
  };
  assert.deepEqual(
    doc.settings.map((s) => `${s.pattern} ${s.n}`),
    ['S3 0', 'S3 1', 'S3 3', 'S3 10', 'R3 0', 'R3 1', 'R3 3', 'R3 10'],
  );
  for (const s of doc.settings) {
    assert.equal(s.runs, 5);
    assert.deepEqual([...s.scores].sort(), [...SCORES[s.pattern][s.n]].sort());
    assert.ok(s.ci[0] <= s.mean && s.mean <= s.ci[1]);
    assert.ok(Math.abs(s.testAcc - 0.95) < 1e-12);
    assert.equal(s.pValue === null, s.n === 0, 'baselines have no p-value, every other setting has one');
  }
  assert.ok(doc.seconds >= 0 && doc.seconds < 60);
  const r3n3 = doc.settings.find((s) => s.pattern === 'R3' && s.n === 3)!;
  const s3n1 = doc.settings.find((s) => s.pattern === 'S3' && s.n === 1)!;
  assert.ok(r3n3.pValue! >= 0.05 && s3n1.pValue! >= 0.05);
  // Every significant setting is named as such in the sentence, and every other one as not.
  for (const s of doc.settings.filter((x) => x.n > 0)) {
    const clause = doc.sentence.split(/(?<=\.) /).find((c) => c.startsWith(`${s.pattern}:`))!;
    const [sig, not] = clause.split('not significant at');
    const named = new RegExp(`n = ${s.n} \\(`);
    if (s.pValue! < 0.05) assert.match(sig, named, `${s.pattern} n = ${s.n} is significant`);
    else assert.match(not ?? sig, named, `${s.pattern} n = ${s.n} is not significant`);
  }
  assert.match(doc.sentence, /At n = 3, 3 of 5 runs \(0\.132, 0\.010, 0\.000\) stayed far below the best/);
  assert.ok(existsSync(join(dir, 'page', 'demo.html')));
  assert.ok(existsSync(join(dir, 'page', 'charts', 'score-vs-n.svg')));

  const text = await runCommandDirect(demoCommand, ['--store', storePath, '--out', join(dir, 'page')]);
  assert.equal(text.code, 0);
  assert.match(text.out[1], /^pattern\s+n\s+runs\s+mean\s+SEM\s+95% CI\s+p Welch\s+p perm\./);
  assert.match(text.out.find((l) => l.startsWith('R3       3'))!, /0\.388 .* n\.s\. .*0\.044 .*0\.132/);
  assert.ok(
    text.out.some((l) => /10,000-image subset/.test(l)),
    'the output names the training subset',
  );
});

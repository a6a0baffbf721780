import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { keepMatrix, liraScores } from '../../src/privacy/lira.ts';
import { normalLogPdf, normalLogSf, scaledConfidence, sortedMedianWithout } from '../../src/privacy/liraStats.ts';
import { assertClose } from '../helpers.ts';

const golden = JSON.parse(readFileSync(new URL('../golden/lira_golden.json', import.meta.url), 'utf8'));

test('golden file: magic and version', () => {
  assert.equal(golden.magic, 'spurlab-golden-lira');
  assert.equal(golden.version, 1);
});

test('logit-scaled confidence equals numpy/scipy z_y - logsumexp of the other logits, saturated rows included', () => {
  const { logits, labels, classes, expected } = golden.confidence;
  const got = labels.map((y: number, i: number) => scaledConfidence(logits, i * classes, classes, y));
  assertClose(got, expected, 1e-12, 1e-12, 'confidence');
  assert.ok(got[0] > 70, 'a logit of 80 gives log(p/(1-p)) near 78, where p rounds to 1 in float64');
  assert.throws(() => scaledConfidence([1, 2], 0, 2, 2), /label 2 outside 0..1/);
});

test('normal log density and log upper tail equal scipy.stats.norm.logpdf / logsf, far tails included', () => {
  const { x, mu, sigma, logpdf, logsf } = golden.normal;
  assertClose(
    x.map((v: number, i: number) => normalLogPdf(v, mu[i], sigma[i])),
    logpdf,
    1e-12,
    1e-12,
    'logpdf',
  );
  assertClose(
    x.map((v: number, i: number) => normalLogSf(v, mu[i], sigma[i])),
    logsf,
    1e-12,
    1e-12,
    'logsf',
  );
});

test('keep matrix: the paper construction from numpy RandomState, every example in exactly half the models', () => {
  const { shadows, pool, seed, keep } = golden.keep;
  assert.deepEqual([...keepMatrix(shadows, pool, seed)], keep);
  const big = keepMatrix(16, 1000, 7);
  for (let i = 0; i < 1000; i++) {
    let count = 0;
    for (let k = 0; k < 16; k++) count += big[k * 1000 + i];
    assert.equal(count, 8, `example ${i}`);
  }
  for (let k = 0; k < 16; k++) {
    let size = 0;
    for (let i = 0; i < 1000; i++) size += big[k * 1000 + i];
    assert.ok(size > 430 && size < 570, `model ${k} trains on ${size} of 1000`);
  }
  assert.throws(() => keepMatrix(5, 10, 0), /even number of shadow models/);
  assert.throws(() => keepMatrix(2, 10, 0), /from 6 to 256/);
});

test('LiRA scores (online/offline, per-example/global variance, median/mean) equal the numpy/scipy computation', () => {
  const { shadows, pool, queries, stats, keep, cases } = golden.lira;
  const obs = { shadows, poolSize: pool, queries, stats: Float64Array.from(stats), keep: Uint8Array.from(keep) };
  for (const c of cases) {
    const got = liraScores(obs, { variant: c.variant, globalVariance: c.globalVariance, center: c.center });
    assertClose(got, c.scores, 1e-9, 1e-9, `${c.variant} global=${c.globalVariance} ${c.center}`);
  }
  // The planted example 4 is far more confident when trained on: every online score of a
  // member model is above every non-member's.
  const online = liraScores(obs);
  const memberScores: number[] = [];
  const nonMemberScores: number[] = [];
  for (let t = 0; t < shadows; t++) (keep[t * pool + 4] ? memberScores : nonMemberScores).push(online[t * pool + 4]);
  assert.ok(Math.min(...memberScores) > Math.max(...nonMemberScores));
});

test('LiRA rejects observations of the wrong size or with non-finite values', () => {
  const base = { shadows: 6, poolSize: 2, queries: 1, stats: new Float64Array(12), keep: keepMatrix(6, 2, 0) };
  assert.throws(() => liraScores({ ...base, stats: new Float64Array(7) }), /stats has 7 values, expected K\*N\*A = 6\*2\*1/);
  const bad = new Float64Array(12);
  bad[3] = NaN;
  assert.throws(() => liraScores({ ...base, stats: bad }), /stat 3 is NaN/);
});

test('median with one sorted element left out', () => {
  const s = [1, 2, 4, 8, 16];
  assert.equal(sortedMedianWithout(s, -1), 4);
  assert.equal(sortedMedianWithout(s, 0), 6);
  assert.equal(sortedMedianWithout(s, 4), 3);
  assert.equal(sortedMedianWithout(s, 2), 5);
  assert.ok(Number.isNaN(sortedMedianWithout([3], 0)));
});

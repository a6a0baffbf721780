import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exportFormatOf, formatExamples } from '../../src/privacy/liraExport.ts';
import type { LiraExamples } from '../../src/privacy/liraRun.ts';

// 2 models x 2 examples; example 1 has no estimate on one side (NaN).
const examples: LiraExamples = {
  pool: Int32Array.from([5, 9]),
  labels: Int32Array.from([0, 3]),
  group: ['spurious', 'other'],
  scores: Float64Array.from([1.5, -2, 0.25, 3]),
  keep: Uint8Array.from([1, 0, 0, 1]),
  memorization: {
    memorization: Float64Array.from([1, NaN]),
    se: Float64Array.from([0, NaN]),
    accIn: Float64Array.from([1, 1]),
    accOut: Float64Array.from([0, NaN]),
    countIn: Int32Array.from([1, 1]),
    countOut: Int32Array.from([1, 0]),
  },
};

test('per-example export: JSON Lines with null for undefined estimates, CSV with empty cells', () => {
  const rows = formatExamples(examples, 'jsonl')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(rows[0], {
    index: 5,
    label: 0,
    group: 'spurious',
    memorization: 1,
    memorizationSe: 0,
    accIn: 1,
    accOut: 0,
    modelsIn: 1,
    modelsOut: 1,
    scores: [1.5, 0.25],
    members: [1, 0],
  });
  assert.equal(rows[1].memorization, null);
  assert.deepEqual(rows[1].scores, [-2, 3]);
  const csv = formatExamples(examples, 'csv').trim().split('\n');
  assert.equal(csv[0], 'index,label,group,memorization,memorizationSe,accIn,accOut,modelsIn,modelsOut,score_0,score_1,in_0,in_1');
  assert.equal(csv[1], '5,0,spurious,1,0,1,0,1,1,1.5,0.25,1,0');
  assert.equal(csv[2], '9,3,other,,,1,,1,0,-2,3,0,1');
});

test('the export format comes from the file name', () => {
  assert.equal(exportFormatOf('a/b.JSONL'), 'jsonl');
  assert.equal(exportFormatOf('x.csv'), 'csv');
  assert.throws(() => exportFormatOf('scores.json'), /--out scores\.json: expected a file name ending in \.jsonl or \.csv/);
});

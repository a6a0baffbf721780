// The package's entry point: the run kinds and the LiRA, memorization and detection
// functions are reachable from `spurlab`, as the README's API table says.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as api from '../src/index.ts';
import { KINDS } from '../src/experiments/kinds/index.ts';

test('the entry point exports every run kind and the LiRA, memorization and detection functions', () => {
  for (const k of KINDS) assert.ok(Object.values(api).includes(k), `run kind ${k.name} is not exported`);
  for (const name of [
    'runLira',
    'planLira',
    'analyzeLira',
    'liraFromShadows',
    'liraScores',
    'groupMetrics',
    'formatExamples',
    'memorizationScores',
    'memorizationRanks',
    'detectRun',
    'detectScores',
    'detectionMetrics',
    'auroc',
    'kindKey',
  ] as const)
    assert.equal(typeof api[name], 'function', name);
  assert.ok(api.DETECT_METHODS.includes('memorization'));
  assert.equal(api.DETECT_DEFAULTS.projection, 256);
  // the detection measures on a toy ranking: the two spurious examples scored highest
  assert.equal(api.auroc([0.9, 0.8, 0.1, 0.2], Uint8Array.from([1, 1, 0, 0])), 1);
  assert.equal(api.liraKind.name, 'lira');
  assert.equal(api.liraShadowKind.name, 'lira-shadow');
  assert.equal(api.detectKind.name, 'detect');
});

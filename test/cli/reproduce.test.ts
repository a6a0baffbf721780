// `spurlab reproduce`: the dry-run listing (per finding the runs, what the store has done,
// the time here), that an interrupted reproduction counts what is recorded, --only and
// --budget refused with a clear message, and that the runs reach `spurlab sweep` (here
// its Slurm emitter, which plans without training).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { reproduceCommand } from '../../src/cli/commands/reproduce.ts';
import { findKind } from '../../src/experiments/kinds/index.ts';
import { planReproduction } from '../../src/experiments/reproduction.ts';
import { ResultsStore } from '../../src/store/results.ts';
import { readSlurmSweep } from '../../src/distributed/slurmFiles.ts';
import { runCommandDirect } from './runCommandDirect.ts';
import { tempDir } from '../helpers.ts';

const tmp = () => tempDir('spurlab-reproduce-');

test('reproduce --dry-run lists the six findings with their runs and the time here', async () => {
  const store = join(tmp(), 'results.db');
  const r = await runCommandDirect(reproduceCommand, ['--dry-run', '--store', store]);
  assert.equal(r.code, 0, r.err.join('\n'));
  const text = r.out.join('\n');
  for (let i = 1; i <= 6; i++) assert.match(text, new RegExp(`^  \\(${i}\\) `, 'm'));
  assert.match(text, /\(1\) A handful of examples suffices: 350 runs \(350 train\); 0 already done, 350 to run, estimated \d/);
  assert.match(text, /\(2\) Pattern norm against score: 350 runs \(350 train\); 350 shared with \(1\); 0 already done, nothing to run/);
  assert.match(text, /\(4\) Deletion: 60 runs \(15 train, 45 forget\); 15 shared with \(1\)/);
  assert.match(text, /same runs: spurlab sweep reproduce-fast-mitigations/);
  assert.match(text, /\(5\) Membership inference: 360 runs \(320 lira-shadow, 20 mia, 20 lira\); 0 already done, 360 to run/);
  assert.match(text, /total: 1160 distinct runs, 1160 to run; estimated \d/);
});

test('reproduce --dry-run --json at the paper budget, one finding', async () => {
  const store = join(tmp(), 'results.db');
  const r = await runCommandDirect(reproduceCommand, ['--dry-run', '--json', '--budget', 'paper', '--only', 'deletion', '--store', store]);
  assert.equal(r.code, 0, r.err.join('\n'));
  const doc = JSON.parse(r.out[0]);
  assert.equal(doc.budget, 'paper');
  assert.equal(doc.findings.length, 1);
  const f = doc.findings[0];
  assert.deepEqual(
    { finding: f.finding, runs: f.runs, kinds: f.kinds, newRuns: f.newRuns, remaining: f.remaining },
    { finding: 'deletion', runs: 120, kinds: { train: 30, forget: 90 }, newRuns: 120, remaining: 120 },
  );
  assert.ok(f.seconds > 0 && Number.isFinite(f.seconds));
  assert.deepEqual(doc.total.runs, 120);
});

test('an interrupted reproduction: the dry run counts the recorded runs and leaves the store as it was', async () => {
  const path = join(tmp(), 'results.db');
  const [plan] = planReproduction('fast', ['mia']);
  const store = ResultsStore.open(path);
  for (const run of plan.runs.filter((r) => r.kind === 'mia').slice(0, 5)) {
    const result = { n: 1, attackAcc: 0.6, attackAccSpurious: 0.8, auc: 0.6, tprAt1Fpr: 0.02, targetTestAcc: 0.9, details: {} };
    const o = await store.runOnce({ key: run.key, config: findKind(run.kind).storeConfig(run.config as never), kind: run.kind }, () => ({ result }));
    assert.equal(o.status, 'ran');
  }
  store.close();
  const before = statSync(path).mtimeMs;
  const r = await runCommandDirect(reproduceCommand, ['--dry-run', '--json', '--only', '5', '--store', path]);
  assert.equal(r.code, 0, r.err.join('\n'));
  const f = JSON.parse(r.out[0]).findings[0];
  assert.deepEqual({ runs: f.runs, done: f.done, remaining: f.remaining }, { runs: 360, done: 5, remaining: 355 });
  assert.equal(statSync(path).mtimeMs, before);
});

test('reproduce refuses an unknown finding or budget and a stray argument, naming them', async () => {
  const store = join(tmp(), 'results.db');
  const bad = await runCommandDirect(reproduceCommand, ['--dry-run', '--only', 'examples,7', '--store', store]);
  assert.equal(bad.code, 2);
  assert.equal(bad.err.length, 1);
  assert.match(
    bad.err[0],
    /--only examples,7: "7" is not a finding; expected one or more of 1 examples, 2 norm, 3 architectures, 4 deletion, 5 mia, 6 mitigations/,
  );
  const budget = await runCommandDirect(reproduceCommand, ['--dry-run', '--budget', 'huge', '--store', store]);
  assert.equal(budget.code, 2);
  assert.match(budget.err[0], /--budget huge: expected one of fast, paper/);
  const stray = await runCommandDirect(reproduceCommand, ['mnist']);
  assert.equal(stray.code, 2);
  assert.match(stray.err[0], /unexpected argument "mnist"/);
  const emit = await runCommandDirect(reproduceCommand, ['--emit', 'slurm', '--only', 'mia']);
  assert.equal(emit.code, 2);
  assert.match(emit.err[0], /--emit slurm needs --out DIR/);
  assert.equal(existsSync(store), false);
});

test("reproduce --emit slurm writes one job array per finding with the finding's runs", async () => {
  const out = tmp();
  const r = await runCommandDirect(reproduceCommand, ['--emit', 'slurm', '--out', out, '--only', 'mia,deletion', '--quiet']);
  assert.equal(r.code, 0, r.err.join('\n'));
  const plans = planReproduction('fast', ['deletion', 'mia']);
  for (const p of plans) {
    const sweep = readSlurmSweep(join(out, p.finding.id, 'sweep.json'));
    assert.equal(sweep.name, `reproduce-fast-${p.finding.id}`);
    assert.deepEqual(sweep.runs.map((x) => x.key).sort(), p.runs.map((x) => x.key).sort());
  }
  assert.match(readFileSync(join(out, 'deletion', 'submit.sh'), 'utf8'), /afterok/);
});

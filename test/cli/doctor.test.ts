import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { main } from '../../src/cli/main.ts';

function capture(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  return main(argv, { out: (l) => out.push(l), err: (l) => err.push(l), isTTY: false }).then((code) => ({ code, out, err }));
}

test('spurlab doctor --json reports every check ok with exit code 0', async () => {
  const r = await capture(['doctor', '--json']);
  assert.equal(r.code, 0, r.out.join('\n'));
  const report = JSON.parse(r.out[0]);
  assert.equal(typeof report.version, 'string');
  assert.ok(['ref', 'native'].includes(report.backend));
  assert.ok(report.threads >= 1);
  assert.ok(report.checks.length >= 4);
  for (const c of report.checks) {
    assert.equal(c.ok, true, `${c.name}: ${c.maxRelErr}`);
    assert.ok(c.maxRelErr < 1e-4);
  }
});

test('unknown commands and bad options exit 2 with a one-line message', async () => {
  const r = await capture(['frobnicate']);
  assert.equal(r.code, 2);
  assert.match(r.err[0], /unknown command "frobnicate"/);
  const r2 = await capture(['doctor', '--bogus']);
  assert.equal(r2.code, 2);
  assert.match(r2.err[0], /^spurlab doctor: unknown option --bogus \(spurlab doctor --help lists the options\)$/);
});

test('the installed binary runs doctor', () => {
  const r = spawnSync(process.execPath, ['bin/spurlab.mjs', 'doctor', '--json'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(
    JSON.parse(r.stdout).checks.every((c: { ok: boolean }) => c.ok),
    true,
  );
});

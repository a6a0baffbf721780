// bin/spurlab.mjs runs the compiled dist/: it says how to build when dist/ is missing and
// warns in a development clone when src/ changed after the last build.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers.ts';

const LAUNCHER = fileURLToPath(new URL('../../bin/spurlab.mjs', import.meta.url));

function fakeCheckout(): string {
  const root = tempDir('spurlab-launcher-');
  mkdirSync(join(root, 'bin'));
  copyFileSync(LAUNCHER, join(root, 'bin', 'spurlab.mjs'));
  writeFileSync(join(root, 'package.json'), '{ "type": "module" }\n');
  return root;
}

function launch(root: string) {
  return spawnSync(process.execPath, [join(root, 'bin', 'spurlab.mjs'), 'a', '-1'], { encoding: 'utf8' });
}

test('without dist/ the launcher names the missing file and the build command', () => {
  const root = fakeCheckout();
  try {
    const r = launch(root);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /dist\/cli\/main\.js is missing: the compiled JavaScript has not been built; run `npm run build` in /);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('the launcher runs dist/cli/main.js, and warns in a clone whose src/ is newer', () => {
  const root = fakeCheckout();
  try {
    mkdirSync(join(root, 'dist', 'cli'), { recursive: true });
    writeFileSync(
      join(root, 'dist', 'cli', 'main.js'),
      'export async function main(argv) { process.stdout.write(JSON.stringify(argv)); return 3; }\n',
    );
    mkdirSync(join(root, 'src', 'cli'), { recursive: true });
    writeFileSync(join(root, 'src', 'cli', 'main.ts'), '');
    const old = new Date(Date.now() - 60_000);
    utimesSync(join(root, 'src', 'cli', 'main.ts'), old, old);
    mkdirSync(join(root, '.git'));
    const fresh = launch(root);
    assert.equal(fresh.status, 3);
    assert.equal(fresh.stdout, '["a","-1"]');
    assert.equal(fresh.stderr, '');
    const now = new Date(Date.now() + 60_000);
    utimesSync(join(root, 'src', 'cli', 'main.ts'), now, now);
    const stale = launch(root);
    assert.equal(stale.status, 3);
    assert.match(stale.stderr, /WARNING: src\/ changed after the last build; run `npm run build`/);
    rmSync(join(root, '.git'), { recursive: true });
    assert.equal(launch(root).stderr, '', 'an installed copy (no .git) does not check');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

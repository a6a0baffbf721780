import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomicSync } from '../../src/store/atomic.ts';

const ATOMIC_MODULE = new URL('../../src/store/atomic.ts', import.meta.url).href;

test('writes strings, buffers and chunk lists, creating the directory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'spurlab-atomic-'));
  const path = join(dir, 'a', 'b', 'f.bin');
  writeFileAtomicSync(path, 'héllo');
  assert.equal(readFileSync(path, 'utf8'), 'héllo');
  writeFileAtomicSync(path, [Uint8Array.of(1, 2), Uint8Array.of(), Uint8Array.of(3)]);
  assert.deepEqual([...readFileSync(path)], [1, 2, 3]);
  assert.deepEqual(readdirSync(join(dir, 'a', 'b')), ['f.bin']);
});

test('a failure while writing leaves the old file intact and removes the temporary file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'spurlab-atomic-'));
  const path = join(dir, 'f.txt');
  writeFileSync(path, 'old');
  const failingChunks = new Proxy([Uint8Array.of(1), Uint8Array.of(2)], {
    get(target, key, receiver) {
      if (key === '1') throw new Error('disk on fire');
      return Reflect.get(target, key, receiver);
    },
  });
  assert.throws(() => writeFileAtomicSync(path, failingChunks), /disk on fire/);
  assert.equal(readFileSync(path, 'utf8'), 'old');
  assert.deepEqual(readdirSync(dir), ['f.txt']);
});

test('a writer killed with SIGKILL never leaves a partial file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'spurlab-atomic-'));
  const path = join(dir, 'big.bin');
  const size = 8 << 20;
  // The child rewrites the file forever, each version filled with one byte value.
  const script = `
    import { writeFileAtomicSync } from ${JSON.stringify(ATOMIC_MODULE)};
    for (let k = 1; ; k++) {
      writeFileAtomicSync(${JSON.stringify(path)}, new Uint8Array(${size}).fill(k % 256));
      if (k === 1) process.stdout.write('ready\\n');
    }`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`writer exited early with ${code}`)));
  });
  await new Promise((r) => setTimeout(r, 150));
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  const bytes = readFileSync(path);
  assert.equal(bytes.length, size);
  assert.ok(bytes.every((b) => b === bytes[0]), 'file mixes two versions');
  // Only the target and at most one orphaned temporary file (the interrupted write).
  const others = readdirSync(dir).filter((f) => f !== 'big.bin');
  assert.ok(others.length <= 1 && others.every((f) => f.startsWith('.big.bin.') && f.endsWith('.tmp')), others.join(', '));
});

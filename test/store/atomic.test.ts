import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { FOREIGN_TEMPORARY_MAX_AGE_MS, removeStaleTemporaries, writeFileAtomicSync } from '../../src/store/atomic.ts';
import { UserError } from '../../src/util/errors.ts';
import { tempDir } from '../helpers.ts';

const ATOMIC_MODULE = new URL('../../src/store/atomic.ts', import.meta.url).href;

test('writes strings, buffers and chunk lists, creating the directory', () => {
  const dir = tempDir('spurlab-atomic-');
  const path = join(dir, 'a', 'b', 'f.bin');
  writeFileAtomicSync(path, 'héllo');
  assert.equal(readFileSync(path, 'utf8'), 'héllo');
  writeFileAtomicSync(path, [Uint8Array.of(1, 2), Uint8Array.of(), Uint8Array.of(3)]);
  assert.deepEqual([...readFileSync(path)], [1, 2, 3]);
  assert.deepEqual(readdirSync(join(dir, 'a', 'b')), ['f.bin']);
});

test('a failure while writing leaves the old file intact and removes the temporary file', () => {
  const dir = tempDir('spurlab-atomic-');
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
  const dir = tempDir('spurlab-atomic-');
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
  assert.ok(
    bytes.every((b) => b === bytes[0]),
    'file mixes two versions',
  );
  // Only the target and at most one orphaned temporary file (the interrupted write).
  const others = readdirSync(dir).filter((f) => f !== 'big.bin');
  assert.ok(others.length <= 1 && others.every((f) => f.startsWith('.big.bin.') && f.endsWith('.tmp')), others.join(', '));
});

test('the next write removes the temporaries of dead writers and keeps those of live ones', async () => {
  const dir = tempDir('spurlab-atomic-');
  // a writer that really died mid-write: its pid is free now
  const dead = spawn(process.execPath, ['-e', '0']);
  const deadPid = await new Promise<number>((resolve) => dead.once('exit', () => resolve(dead.pid!)));
  const host = hostname().replace(/[^A-Za-z0-9._-]/g, '_');
  const stale = [`.model.safetensors.${deadPid}.0badc0de.tmp`, `.history.json.${deadPid}@${host}.12345678.tmp`];
  const live = `.model.safetensors.${process.pid}@${host}.abcdef01.tmp`; // a write under way in this process
  const foreignFresh = `.model.safetensors.${deadPid}@another-machine.0a0b0c0d.tmp`; // may be under way there
  const foreignOld = `.model.safetensors.${deadPid}@another-machine.deadbeef.tmp`;
  const unrelated = '.model.safetensors.notes.tmp';
  for (const f of [...stale, live, foreignFresh, foreignOld, unrelated]) writeFileSync(join(dir, f), 'partial');
  const dayAgo = (Date.now() - FOREIGN_TEMPORARY_MAX_AGE_MS - 60_000) / 1000;
  utimesSync(join(dir, foreignOld), dayAgo, dayAgo);
  writeFileAtomicSync(join(dir, 'model.safetensors'), 'complete');
  assert.deepEqual(readdirSync(dir).sort(), ['model.safetensors', live, foreignFresh, unrelated].sort());
  assert.equal(readFileSync(join(dir, 'model.safetensors'), 'utf8'), 'complete');
  assert.deepEqual(removeStaleTemporaries(dir), []);
});

test('a machine-caused write failure names the file, says what to do, and loses nothing', () => {
  const dir = tempDir('spurlab-atomic-');
  const path = join(dir, 'f.txt');
  writeFileSync(path, 'old');
  // ENOTDIR: a file where the directory should be
  assert.throws(
    () => writeFileAtomicSync(join(path, 'inside.txt'), 'x'),
    (e: unknown) => e instanceof UserError && e.exitCode === 2 && e.message.includes(path) && /not a directory/.test(e.message),
  );
  // ENOSPC: write(2) knows only a file descriptor; the message must still name the file
  const failing = new Proxy([Uint8Array.of(1), Uint8Array.of(2)], {
    get(target, key, receiver) {
      if (key === '1') throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
      return Reflect.get(target, key, receiver);
    },
  });
  assert.throws(
    () => writeFileAtomicSync(path, failing),
    (e: unknown) => e instanceof UserError && e.message.startsWith(`${path}: write failed`) && /no space left.*\(ENOSPC\).*intact/.test(e.message),
  );
  assert.equal(readFileSync(path, 'utf8'), 'old');
  assert.deepEqual(readdirSync(dir), ['f.txt']);
});

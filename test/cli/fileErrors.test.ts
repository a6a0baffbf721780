// EACCES, ENOTDIR and ENOSPC on --out, the results store and a checkpoint: one line that
// names the path and what to do, exit 2, and nothing already written is lost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs, { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.ts';
import { TINY_TRAIN_ARGS, tempDir } from '../helpers.ts';

const BIN = new URL('../../bin/spurlab.mjs', import.meta.url).pathname;
const TRAIN = ['train', ...TINY_TRAIN_ARGS];
const MiB = 1 << 20;

async function run(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l), isTTY: false });
  return { code, out, err };
}

function sweepFile(dir: string): string {
  const file = join(dir, 'sweep.json');
  writeFileSync(
    file,
    JSON.stringify({
      name: 'fs-errors',
      grids: [
        { dataset: 'mnist', pattern: 'R3', n: 0, target: 0, seed: 0, model: 'MLP', epochs: 1, trainSubset: 200, testSubset: 100, batchSize: 50 },
      ],
    }),
  );
  return file;
}

function oneLine(r: { code: number; err: string[] }, ...patterns: RegExp[]): void {
  assert.equal(r.code, 2, r.err.join('\n'));
  assert.equal(r.err.length, 1, r.err.join('\n'));
  for (const p of patterns) assert.match(r.err[0], p);
}

test("ENOTDIR: a file where --out or the store's directory should be", async () => {
  const dir = tempDir('spurlab-fserr-');
  const file = join(dir, 'plain-file');
  writeFileSync(file, 'not a directory');
  oneLine(
    await run([...TRAIN, '--epochs', '1', '--out', join(file, 'run')]),
    new RegExp(`${file}.*: mkdir failed: a part of the path is a file, not a directory; choose another path`),
  );
  oneLine(
    await run(['sweep', sweepFile(dir), '--store', join(file, 'results.db'), '--no-artifacts', '--quiet']),
    new RegExp(`${file}.*not a directory`),
  );
  assert.equal(readFileSync(file, 'utf8'), 'not a directory');
});

test('EACCES: --out, the store and a checkpoint this user may not write or read', () => {
  const dir = tempDir('spurlab-fserr-');
  chmodSync(dir, 0o755);
  const locked = join(dir, 'locked');
  mkdirSync(locked, { mode: 0o555 });
  chmodSync(locked, 0o555);
  const ckptDir = join(dir, 'run');
  mkdirSync(ckptDir);
  chmodSync(ckptDir, 0o755);
  writeFileSync(join(ckptDir, 'model.safetensors'), 'secret', { mode: 0o600 });
  const file = sweepFile(dir);
  chmodSync(file, 0o644);
  // root ignores permissions: run the CLI as nobody then
  const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
  const cli = (...argv: string[]) => {
    const r = spawnSync(process.execPath, [BIN, ...argv], { ...asUser, cwd: tmpdir(), encoding: 'utf8', timeout: 60_000 });
    return { code: r.status ?? -1, err: r.stderr.trim().split('\n').filter(Boolean) };
  };
  oneLine(
    cli(...TRAIN, '--epochs', '1', '--out', join(locked, 'run')),
    new RegExp(`${locked}/run: mkdir failed: permission denied; make it writable .* \\(EACCES\\)`),
  );
  oneLine(
    cli('sweep', file, '--store', join(locked, 'results.db'), '--no-artifacts', '--quiet'),
    new RegExp(`${locked}/results.db: cannot open the results store .*may read them \\(and write them`),
  );
  oneLine(cli('score', ckptDir), new RegExp(`${ckptDir}/model.safetensors: cannot read safetensors file \\(EACCES\\)`));
  assert.deepEqual(readdirSync(locked), []);
});

/**
 * Runs `fn` with `dir` on a file system of `bytes`: a real tmpfs where mounting is
 * permitted (root in a container), otherwise writes into `dir` fail with ENOSPC once
 * `bytes` have been written, injected at fs.writeSync, the layer every atomic write uses.
 */
async function withSmallDisk(dir: string, bytes: number, fn: () => Promise<void>): Promise<void> {
  let mounted = false;
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir], { stdio: 'ignore' });
    mounted = true;
  } catch {
    // not permitted here: simulate below
  }
  const original = fs.writeSync;
  if (!mounted) {
    let used = 0;
    const fdPaths = new Map<number, string>();
    const originalOpen = fs.openSync;
    (fs as { openSync: unknown }).openSync = (path: fs.PathLike, ...rest: unknown[]) => {
      const fd = (originalOpen as (...a: unknown[]) => number)(path, ...rest);
      fdPaths.set(fd, String(path));
      return fd;
    };
    (fs as { writeSync: unknown }).writeSync = (
      fd: number,
      buffer: Uint8Array,
      offset = 0,
      length = buffer.byteLength - offset,
      ...rest: unknown[]
    ) => {
      if ((fdPaths.get(fd) ?? '').startsWith(dir)) {
        if (used + length > bytes)
          throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
        used += length;
      }
      return (original as (...a: unknown[]) => number)(fd, buffer, offset, length, ...rest);
    };
    syncBuiltinESMExports();
    try {
      await fn();
    } finally {
      (fs as { writeSync: unknown }).writeSync = original;
      (fs as { openSync: unknown }).openSync = originalOpen;
      syncBuiltinESMExports();
    }
    return;
  }
  try {
    await fn();
  } finally {
    execFileSync('umount', [dir]);
  }
}

test("ENOSPC while writing a checkpoint names it, and the previous epoch's checkpoint stays intact", async () => {
  const disk = tempDir('spurlab-fserr-disk-');
  // room for one MLP checkpoint (2.45 MB) but not for its replacement beside it
  await withSmallDisk(disk, 4 * MiB, async () => {
    const out = join(disk, 'run');
    const ckpt = join(out, 'model.safetensors');
    oneLine(
      await run([...TRAIN, '--epochs', '2', '--out', out]),
      new RegExp(
        `^spurlab train: ${ckpt}: write failed: no space left on the device; free some space .* \\(ENOSPC\\); the previous version of the file, if any, is intact$`,
      ),
    );
    assert.deepEqual(readdirSync(out).sort(), ['history.json', 'model.safetensors'], 'no temporary file is left behind');
    const score = await run(['score', out, '--json']);
    assert.equal(score.code, 0, score.err.join('\n'));
    const resumed = await run(['train', '--resume', out, '--json']);
    oneLine(resumed, /ENOSPC/); // still full, and still intact
    assert.equal(JSON.parse(readFileSync(join(out, 'history.json'), 'utf8')).length, 1);
  });
});

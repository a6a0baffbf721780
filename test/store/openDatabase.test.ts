import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, openSync, readFileSync, renameSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ResultsStore } from '../../src/store/results.ts';
import { UserError } from '../../src/util/errors.ts';
import { main } from '../../src/cli/main.ts';
import { tempDir } from '../helpers.ts';

const BIN = new URL('../../bin/spurlab.mjs', import.meta.url).pathname;
const RUNS = 60;

async function cli(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l), isTTY: false });
  return { code, out, err };
}

/** A closed store of RUNS done runs, big enough (about 40 pages) to damage beyond its first page. */
function makeStore(dir: string): string {
  const path = join(dir, 'results.db');
  const store = ResultsStore.open(path);
  for (let i = 0; i < RUNS; i++) {
    const key = `run${i}`;
    store.claim(key, { dataset: 'mnist', pattern: 'R3', n: i, note: 'x'.repeat(1500) }, 'train');
    store.complete(key, { score: i / RUNS, testAcc: 0.9 }, new Uint8Array(100));
  }
  store.close();
  return path;
}

function damagePages(path: string, firstPage: number, pages: number): void {
  const fd = openSync(path, 'r+');
  writeSync(fd, Buffer.alloc(4096 * pages, 0x5a), 0, 4096 * pages, 4096 * firstPage);
  closeSync(fd);
}

const damaged = (path: string) => (e: unknown) =>
  e instanceof UserError &&
  e.exitCode === 2 &&
  e.message.startsWith(`${path}: the results store is damaged`) &&
  e.message.includes(`sqlite3 ${path} .dump`) &&
  e.message.includes('aside') &&
  !e.message.includes('\n');

test('a store damaged beyond its first page is named on open, with how to recover, and the advice works', async () => {
  const dir = tempDir('spurlab-opendb-');
  const path = makeStore(dir);
  damagePages(path, 10, 4);
  assert.throws(() => ResultsStore.open(path), damaged(path));
  assert.throws(() => ResultsStore.open(path, { readonly: true }), damaged(path));
  const r = await cli(['results', '--store', path]);
  assert.equal(r.code, 2);
  assert.equal(r.err.length, 1);
  assert.ok(r.err[0].startsWith(`spurlab results: ${path}: the results store is damaged`), r.err[0]);
  // the advice, followed to the letter, keeps most runs and gives a store spurlab opens
  const advice = /to keep the readable runs: (.*?), then move/.exec(r.err[0])![1];
  execFileSync('sh', ['-c', advice]);
  renameSync(path, `${path}.damaged`);
  renameSync(`${path}.recovered`, path);
  const store = ResultsStore.open(path);
  const kept = store.list({ status: 'done' }).length;
  store.close();
  assert.ok(kept >= RUNS / 2 && kept < RUNS, `recovered ${kept} of ${RUNS} runs`);
});

test('damage met by a query after a clean open is named the same way', () => {
  const dir = tempDir('spurlab-opendb-');
  const path = makeStore(dir);
  const store = ResultsStore.open(path);
  damagePages(path, 10, 20);
  // another connection's commit makes this one drop its page cache and read the file again
  const other = new Database(path);
  other.pragma('user_version = 1');
  other.close();
  assert.throws(() => store.list(), damaged(path));
  store.close();
});

test('a store opened read-only reads, and a write names the file instead of "attempt to write a readonly database"', () => {
  const dir = tempDir('spurlab-opendb-');
  const path = makeStore(dir);
  const before = readFileSync(path);
  const store = ResultsStore.open(path, { readonly: true });
  assert.equal(store.list({ status: 'done' }).length, RUNS);
  assert.throws(
    () => store.claim('new', { n: 1 }, 'train'),
    (e: unknown) => e instanceof UserError && e.message.startsWith(`${path}: the results store cannot be written`) && /writable/.test(e.message),
  );
  store.close();
  assert.deepEqual(readFileSync(path), before);
  assert.throws(() => ResultsStore.open(join(dir, 'none.db'), { readonly: true }), /none\.db: no results store here/);
});

test('results, report and sweep --dry-run work on a store in a read-only directory, as a user who may not write it', () => {
  const dir = tempDir('spurlab-opendb-');
  const path = makeStore(dir);
  const outDir = tempDir('spurlab-opendb-report-');
  chmodSync(path, 0o444);
  chmodSync(dir, 0o555);
  chmodSync(outDir, 0o777);
  const sweep = join(outDir, 'sweep.json');
  writeFileSync(
    sweep,
    JSON.stringify({
      name: 'ro',
      grids: [{ dataset: 'mnist', pattern: 'R3', n: 0, target: 0, seed: 0, model: 'MLP', epochs: 1, trainSubset: 100, testSubset: 100 }],
    }),
  );
  chmodSync(sweep, 0o644);
  const before = statSync(path).mtimeMs;
  // root ignores permissions: run the CLI as nobody then, as a user on a shared store would
  const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
  for (const argv of [
    ['results', '--store', path, '--json'],
    ['report', '--store', path, '--out', join(outDir, 'r')],
    ['sweep', sweep, '--dry-run', '--store', path, '--json'],
  ]) {
    const r = spawnSync(process.execPath, [BIN, ...argv], { ...asUser, encoding: 'utf8', cwd: tmpdir(), timeout: 60_000 });
    assert.equal(r.status, 0, `${argv[0]}: ${r.stderr}`);
    if (argv[0] === 'results') assert.equal((JSON.parse(r.stdout) as unknown[]).length, RUNS);
    if (argv[0] === 'sweep') assert.equal(JSON.parse(r.stdout).remaining, 1);
  }
  assert.equal(statSync(path).mtimeMs, before);
  chmodSync(dir, 0o755);
});

test('a full disk under the store names it and keeps what was recorded', () => {
  const dir = tempDir('spurlab-opendb-');
  const path = makeStore(dir);
  const store = ResultsStore.open(path);
  // SQLite answers SQLITE_FULL, as on a full disk, once the file would pass max_page_count
  const db = (store as unknown as { db: Database.Database }).db;
  db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true })}`);
  assert.throws(
    () => store.claim('big', { n: 1, note: 'y'.repeat(100_000) }, 'train'),
    (e: unknown) =>
      e instanceof UserError && e.message.startsWith(`${path}: the disk holding the results store is full`) && /free some space/.test(e.message),
  );
  store.close();
  const again = ResultsStore.open(path, { readonly: true });
  assert.equal(again.list({ status: 'done' }).length, RUNS);
  assert.equal(again.get('big'), undefined);
  again.close();
});

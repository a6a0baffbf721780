import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { UserError } from '../../src/util/errors.ts';
import { ResultsStore } from '../../src/store/results.ts';
import { canonicalJson, runKey } from '../../src/store/runKey.ts';
import { tempDir } from '../helpers.ts';

const RESULTS_MODULE = new URL('../../src/store/results.ts', import.meta.url).href;

function freshPath(): string {
  return join(tempDir('spurlab-results-'), 'nested', 'results.db');
}

interface ChildOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a TypeScript snippet in a separate node process. `ready` resolves when the child
 * writes `readyLine` to stderr (at once if none is given).
 */
function runChild(script: string, readyLine?: string): { ready: Promise<void>; done: Promise<ChildOutcome> } {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let signalReady = (): void => {};
  const ready = readyLine === undefined ? Promise.resolve() : new Promise<void>((resolve) => (signalReady = resolve));
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (readyLine !== undefined && stderr.includes(readyLine)) signalReady();
  });
  const done = new Promise<ChildOutcome>((resolve) =>
    child.on('exit', (code, signal) => {
      signalReady();
      resolve({ code, signal, stdout, stderr });
    }),
  );
  return { ready, done };
}

const config = (n: number, seed: number, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  dataset: 'mnist',
  pattern: 'S3',
  n,
  target: 0,
  seed,
  model: 'LargeMLP',
  optimizer: { name: 'adam', lr: 0.01 },
  epochs: 5,
  ...extra,
});

test('run keys hash canonical JSON: key order does not matter, values do', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [1, { f: 2, e: 3 }], c: null } }), '{"a":{"c":null,"d":[1,{"e":3,"f":2}]},"b":1}');
  assert.equal(runKey({ a: 1, b: 2 }), runKey({ b: 2, a: 1 }));
  assert.notEqual(runKey({ a: 1, b: 2 }), runKey({ a: 1, b: 3 }));
  assert.match(runKey({}), /^[0-9a-f]{64}$/);
  assert.throws(() => runKey({ lr: NaN }), /config value at \$\.lr is NaN/);
  assert.throws(() => runKey({ when: new Date(0) }), UserError);
});

test('open creates directories and a WAL database at schema version 1; reopening keeps data', () => {
  const path = freshPath();
  const store = ResultsStore.open(path);
  assert.ok(store.claim('k1', config(3, 0), 'train'));
  store.close();
  const raw = new Database(path);
  assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(raw.pragma('user_version', { simple: true }), 1);
  raw.close();
  const again = ResultsStore.open(path);
  assert.equal(again.get('k1')?.status, 'running');
  again.close();
});

test('a file that is not a results store is a UserError naming it', () => {
  const dir = tempDir('spurlab-results-');
  const text = join(dir, 'notes.db');
  writeFileSync(text, 'these are my notes, not a database\n'.repeat(200));
  assert.throws(
    () => ResultsStore.open(text),
    (err: unknown) =>
      err instanceof UserError && err.message.startsWith(`${text}: cannot open as a results store`) && /not a database/.test(err.message),
  );
  const other = join(dir, 'other.db');
  const raw = new Database(other);
  raw.exec('CREATE TABLE photos (id INTEGER)');
  raw.close();
  assert.throws(() => ResultsStore.open(other), /other\.db: is a SQLite database of something else \(tables photos\)/);
});

test('claim, complete, get, list: a done run is never claimed again', () => {
  const store = ResultsStore.open(freshPath(), { codeVersion: 'test-1' });
  const c = config(3, 1);
  const key = runKey(c);
  assert.ok(store.claim(key, c, 'train'));
  assert.equal(store.claim(key, c, 'train'), false, 'our own live claim');
  assert.equal(store.isDone(key), false);
  assert.ok(store.complete(key, { score: 0.5, testAcc: 0.98, pValue: NaN }, Uint8Array.of(0, 1, 1)));
  assert.equal(store.claim(key, c, 'train'), false);
  const rec = store.get(key)!;
  assert.equal(rec.status, 'done');
  assert.deepEqual(rec.config, c);
  assert.deepEqual(rec.result, { score: 0.5, testAcc: 0.98, pValue: null });
  assert.equal(rec.codeVersion, 'test-1');
  assert.equal(rec.host, hostname());
  assert.equal(rec.pid, process.pid);
  assert.ok(rec.seconds !== null && rec.seconds >= 0 && rec.finishedAt !== null);
  assert.deepEqual([rec.dataset, rec.pattern, rec.n, rec.target, rec.seed, rec.model], ['mnist', 'S3', 3, 0, 1, 'LargeMLP']);
  assert.equal(rec.optimizer, '{"lr":0.01,"name":"adam"}');
  assert.ok(store.isDone(key));
  assert.deepEqual(Array.from(store.perImage(key)!), [0, 1, 1]);
  assert.equal(store.list({ n: 3, kind: 'train' }).length, 1);
  assert.equal(store.list({ n: 5 }).length, 0);
  assert.throws(() => store.list({ colour: 'red' } as never), /results filter "colour"/);
  assert.throws(() => store.complete('other', {}, Uint8Array.of(2)), /expected 0 or 1/);
  store.close();
});

test('failed runs record the error and are retried unless retryFailed is false', () => {
  const path = freshPath();
  const store = ResultsStore.open(path);
  assert.ok(store.claim('k', config(1, 0), 'train'));
  assert.ok(store.fail('k', new Error('loss is NaN at epoch 2, step 17')));
  assert.equal(store.get('k')?.status, 'failed');
  assert.match(store.get('k')?.error ?? '', /loss is NaN at epoch 2/);
  const strict = ResultsStore.open(path, { retryFailed: false });
  assert.equal(strict.claim('k', config(1, 0), 'train'), false);
  strict.close();
  assert.ok(store.claim('k', config(1, 0), 'train'));
  assert.equal(store.get('k')?.attempts, 2);
  assert.equal(store.get('k')?.error, null);
  store.close();
});

test('two processes racing over the same runs claim and record each exactly once', async (t) => {
  const path = freshPath();
  ResultsStore.open(path).close();
  const goFile = `${path}.go`;
  const keys = Array.from({ length: 40 }, (_, i) => `run-${i}`);
  // This process races one child over the same keys. Both start when the go file appears,
  // so the claims really overlap, and hold each claim ~2 ms, as a (very short) run would.
  const race = (store: ResultsStore): string[] => {
    const mine: string[] = [];
    for (const key of keys) {
      if (store.claim(key, { key }, 'train')) {
        mine.push(key);
        const until = Date.now() + 2;
        while (Date.now() < until);
        if (!store.complete(key, { score: process.pid })) throw new Error(`lost claim ${key}`);
      }
    }
    return mine;
  };
  const child = runChild(
    `
    import { existsSync } from 'node:fs';
    import { ResultsStore } from ${JSON.stringify(RESULTS_MODULE)};
    const store = ResultsStore.open(${JSON.stringify(path)});
    process.stderr.write('ready\\n');
    while (!existsSync(${JSON.stringify(goFile)})) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    const race = ${race.toString()};
    const keys = ${JSON.stringify(keys)};
    process.stdout.write(JSON.stringify(race(store)));
    store.close();`,
    'ready',
  );
  const store = ResultsStore.open(path);
  await child.ready;
  writeFileSync(goFile, '');
  const mine = race(store);
  const outcome = await child.done;
  assert.equal(outcome.code, 0, outcome.stderr);
  const theirs = JSON.parse(outcome.stdout) as string[];
  t.diagnostic(`claims: this process ${mine.length}, child ${theirs.length}`);
  assert.deepEqual([...mine, ...theirs].sort(), [...keys].sort(), 'every run claimed by exactly one process');
  const runs = store.list({ status: 'done' });
  assert.equal(runs.length, keys.length);
  assert.ok(runs.every((r) => r.attempts === 1));
  assert.deepEqual(
    runs
      .filter((r) => r.pid === process.pid)
      .map((r) => r.key)
      .sort(),
    [...mine].sort(),
  );
  store.close();
});

test('a run whose owner died (kill -9) is reclaimed exactly once', async () => {
  const path = freshPath();
  const c = config(10, 2);
  const key = runKey(c);
  const killed = await runChild(`
    import { ResultsStore } from ${JSON.stringify(RESULTS_MODULE)};
    const store = ResultsStore.open(${JSON.stringify(path)});
    if (!store.claim(${JSON.stringify(key)}, ${JSON.stringify(c)}, 'train')) throw new Error('claim failed');
    process.kill(process.pid, 'SIGKILL');`).done;
  assert.equal(killed.signal, 'SIGKILL', killed.stderr);
  const first = ResultsStore.open(path);
  const second = ResultsStore.open(path);
  const dead = first.get(key)!;
  assert.equal(dead.status, 'running');
  const winners = [
    first.claim(key, c, 'train', { host: hostname(), pid: process.pid }),
    second.claim(key, c, 'train', { host: hostname(), pid: process.pid }),
  ];
  assert.deepEqual(winners, [true, false]);
  assert.equal(first.get(key)?.attempts, 2);
  assert.ok(first.complete(key, { score: 0.1 }));
  first.close();
  second.close();
});

test('live claims on another host are kept until the lease expires; a lost claim cannot complete', async () => {
  const store = ResultsStore.open(freshPath(), { leaseMs: 200 });
  const remote = { host: 'some-other-host', pid: 1 };
  assert.ok(store.claim('k', { x: 1 }, 'mia', remote));
  assert.equal(store.claim('k', { x: 1 }, 'mia'), false);
  assert.ok(store.heartbeat('k', remote));
  await new Promise((r) => setTimeout(r, 250));
  assert.ok(store.claim('k', { x: 1 }, 'mia'), 'lease expired');
  assert.equal(store.complete('k', { score: 1 }, undefined, remote), false, 'the old owner lost its claim');
  assert.equal(store.heartbeat('k', remote), false);
  assert.ok(store.complete('k', { score: 0 }));
  assert.deepEqual(store.get('k')?.result, { score: 0 });
  store.close();
});

test('release gives a claim back', () => {
  const store = ResultsStore.open(freshPath());
  assert.ok(store.claim('k', {}, 'train'));
  assert.ok(store.release('k'));
  assert.equal(store.get('k'), undefined);
  assert.ok(store.claim('k', {}, 'train'));
  store.close();
});

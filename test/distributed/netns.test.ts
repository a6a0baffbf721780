// Real separate hosts on one machine: Redis, the coordinator and two workers each in their
// own network namespace, joined by veth pairs with link-local addresses (169.254.0.0/16,
// never routed, only inside namespaces made here), so a link can be cut like a cable.
// One worker's link is cut mid-run: the other worker takes its job over once the lock
// lapses, and the cut worker, when its link comes back, does not get a second result in.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { expandSweep, loadSweepSpec } from '../../src/experiments/grids/spec.ts';
import { configKey } from '../../src/experiments/sweep.ts';
import { ResultsStore } from '../../src/store/results.ts';
import { restartableRedis, secondsSince } from './faultHelpers.ts';
import { ROOT, spurlabArgv, tiny, tmp, waitFor, writeSweep, type SpawnedSpurlab } from './helpers.ts';

const tag = String(process.pid % 100000);
const NS = { redis: `spl${tag}r`, coord: `spl${tag}c`, w1: `spl${tag}w1`, w2: `spl${tag}w2` };
// per client: [its namespace, Redis-side interface, client-side interface, Redis address, client address]
const LINKS = [
  [NS.coord, `r${tag}c`, `c${tag}`, '169.254.23.1', '169.254.23.2'],
  [NS.w1, `r${tag}w1`, `w1${tag}`, '169.254.23.5', '169.254.23.6'],
  [NS.w2, `r${tag}w2`, `w2${tag}`, '169.254.23.9', '169.254.23.10'],
] as const;
const PORT = 6379; // Redis's own namespace has nothing else on it

function ip(...args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim() || r.error?.message}`);
}

/** Why namespaces cannot be made here, or undefined when they can (as root on Linux). */
function namespacesUnavailable(): string | undefined {
  const probe = `spl${tag}probe`;
  const r = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (r.error || r.status !== 0)
    return `network namespaces are not permitted here (ip netns add: ${(r.stderr || r.error?.message || '').trim()}); this test needs root on Linux with iproute2`;
  spawnSync('ip', ['netns', 'del', probe]);
  return undefined;
}

function setUpNetwork(): void {
  for (const ns of Object.values(NS)) {
    ip('netns', 'add', ns);
    ip('-n', ns, 'link', 'set', 'lo', 'up');
  }
  for (const [ns, rIf, cIf, rAddr, cAddr] of LINKS) {
    ip('-n', NS.redis, 'link', 'add', rIf, 'type', 'veth', 'peer', 'name', cIf, 'netns', ns);
    ip('-n', NS.redis, 'addr', 'add', `${rAddr}/30`, 'dev', rIf);
    ip('-n', ns, 'addr', 'add', `${cAddr}/30`, 'dev', cIf);
    ip('-n', NS.redis, 'link', 'set', rIf, 'up');
    ip('-n', ns, 'link', 'set', cIf, 'up');
  }
}

function tearDownNetwork(): void {
  for (const ns of Object.values(NS)) {
    const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    spawnSync('ip', ['netns', 'del', ns]);
  }
}

function spawnIn(ns: string, argv: string[]): SpawnedSpurlab {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, ...spurlabArgv(argv)], {
    cwd: ROOT,
    env: { ...process.env, SPURLAB_THREADS: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  const exited = new Promise<number>((ok) => child.on('exit', (code, signal) => ok(code ?? (signal ? 128 : 1))));
  return Object.assign({ child, stderr: () => err, exited }, { stdout: () => out });
}

function redisCli(...args: string[]): string {
  const r = spawnSync('ip', ['netns', 'exec', NS.redis, 'redis-cli', '-p', String(PORT), ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`redis-cli ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

const skip = namespacesUnavailable();
// also when the test times out with an await still pending (its finally would not run)
after(() => {
  if (!skip) tearDownNetwork();
});

test('separate hosts in network namespaces: a worker cut off mid-run loses its job to the other, and records nothing when its link returns', {
  skip,
  timeout: 240_000,
}, async (t) => {
  const dir = tmp();
  const name = `netns${tag}`;
  const file = writeSweep(dir, name, [{ ...tiny, epochs: 3, trainSubset: 6000, pattern: 'S3', n: [0, 3], seed: 0 }]);
  const db = join(dir, 'r.db');
  const procs: SpawnedSpurlab[] = [];
  try {
    setUpNetwork();
    const redis = await restartableRedis({ persist: false, bind: '0.0.0.0', port: PORT, prefix: ['ip', 'netns', 'exec', NS.redis] });
    const url = (i: number) => `redis://${LINKS[i][3]}:${PORT}`;
    const worker = (i: number) => spawnIn(LINKS[i][0], ['worker', '--queue', url(i), '--sweep', name, '--lock-seconds', '3']);
    const coordinator = spawnIn(NS.coord, [
      'sweep',
      file,
      '--queue',
      url(0),
      '--store',
      db,
      '--no-artifacts',
      '--give-up-after',
      '120',
      '--json',
      '--quiet',
    ]);
    procs.push(coordinator);
    const w1 = worker(1);
    procs.push(w1);
    await waitFor('worker 1 to start a run', () => /: started, attempt 1/.test(w1.stderr()), 60_000);
    const w2 = worker(2);
    procs.push(w2);
    const cutKey = /run (\w{10}) \(.*\): started/.exec(w1.stderr())![1];
    // cut worker 1's cable (its end of the veth pair), as a failed switch port would
    ip('-n', NS.w1, 'link', 'set', LINKS[1][2], 'down');
    const cutAt = performance.now();
    const cutWall = Date.now();
    await waitFor("worker 2 to take over the cut worker's run", () => new RegExp(`run ${cutKey} .*: started`).test(w2.stderr()), 90_000);
    const takeover = secondsSince(cutAt);
    const status = spawnSync('ip', ['netns', 'exec', NS.coord, process.execPath, ...spurlabArgv(['sweep', file, '--status', '--queue', url(0)])], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    ip('-n', NS.w1, 'link', 'set', LINKS[1][2], 'up');
    const restoredAt = performance.now();
    const code = await coordinator.exited;
    assert.equal(code, 0, coordinator.stderr());
    await waitFor('worker 1 to see Redis again', () => /is back after/.test(w1.stderr()), 60_000);
    const back = secondsSince(restoredAt);
    // worker 1 finished training while cut off; its result must be refused, not recorded
    await waitFor("worker 1's late result to be refused", () => /Missing lock|lost the lock/.test(w1.stderr()), 60_000);
    const store = ResultsStore.open(db);
    const rows = store.list({ kind: 'train' });
    store.close();
    const keys = expandSweep(loadSweepSpec(file)).map(configKey);
    assert.deepEqual(rows.map((x) => x.key).sort(), [...keys].sort());
    assert.ok(
      rows.every((x) => x.status === 'done' && x.attempts === 1),
      'each run recorded once',
    );
    const cutJob = keys.find((k: string) => k.startsWith(cutKey))!;
    const ret = JSON.parse(redisCli('hget', `spurlab:${name}:${cutJob}`, 'returnvalue')) as { pid: number };
    assert.equal(ret.pid, w2.child.pid, 'the completed job carries the result of the worker that took it over');
    assert.match(w1.stderr(), /lost the connection to Redis at redis:\/\/169\.254\.23\.5:6379/);
    // --status while the link was down: the cut worker's last word is stale, its lock renewal older than the lock
    const cutLine = new RegExp(
      `worker \\S+ pid ${w1.child.pid} \\(seen ([\\d.]+) s ago\\): run ${cutKey} \\(train mnist S3 n=\\d seed=0 MLP\\), attempt 1, started [\\d.]+ s ago, lock renewed ([\\d.]+) s ago`,
    ).exec(status.stdout);
    assert.ok(cutLine, status.stdout + status.stderr);
    assert.ok(Number(cutLine[2]) >= 3, `the cut worker's lock renewal is older than the 3 s lock: ${cutLine[0]}`);
    assert.match(status.stdout, new RegExp(`worker \\S+ pid ${w2.child.pid} \\(seen [\\d.]+ s ago\\): (idle|run \\w{10} )`));
    await redis.stop();
    // worker 2 is busy with the other run first; how soon after that it took the cut one over
    const ownDone = w2
      .stderr()
      .split('\n')
      .find((l) => /done in/.test(l) && !l.includes(cutKey));
    const ownDoneS = ownDone ? (Date.parse(ownDone.slice(0, 24)) - cutWall) / 1000 : NaN;
    t.diagnostic(
      `job taken over ${takeover.toFixed(1)} s after the cut (lock 3 s; worker 2 finished its own run ${ownDoneS.toFixed(1)} s after the cut); cut worker reconnected ${back.toFixed(1)} s after the link returned`,
    );
  } finally {
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    tearDownNetwork();
  }
});

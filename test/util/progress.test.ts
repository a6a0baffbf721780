import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProgressBar, SweepStatus, type ProgressSink } from '../../src/util/progress.ts';

function sink(isTTY: boolean): ProgressSink & { out: string } {
  const s = {
    out: '',
    isTTY,
    write: (t: string) => {
      s.out += t;
    },
  };
  return s;
}

/** A clock the test moves by hand. */
function clock(start = 1000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
  };
}

test('a non-TTY bar never prints an absurd first rate', () => {
  const s = sink(false);
  const c = clock();
  const bar = new ProgressBar(s, 'train', 100, 'steps', 0, c.now);
  bar.update(1);
  assert.match(s.out, /1\/100 steps \? steps\/s ETA \?/);
  assert.doesNotMatch(s.out, /\d{5,}\.\d steps\/s/);
  c.advance(2000);
  bar.update(51);
  assert.match(s.out, /51\/100 steps 25\.5 steps\/s ETA 2s/);
});

test('a TTY bar ends its line when finished, and close() ends one left open', () => {
  const s = sink(true);
  const c = clock();
  const bar = new ProgressBar(s, 'x', 2, 'it', 0, c.now);
  bar.update(1);
  assert.ok(!s.out.endsWith('\n'));
  bar.close();
  assert.ok(s.out.endsWith('\n'));
  c.advance(200);
  bar.update(2);
  assert.ok(s.out.endsWith('\n'));
});

test('sweep status on a TTY: log lines go above the one status line, which stays at the bottom with the overall ETA', () => {
  const s = sink(true);
  const c = clock();
  const status = new SweepStatus(s, 'demo', 4, 10_000, c.now);
  status.startRun('S3 n = 1, seed 0');
  c.advance(1000);
  status.runProgress(0.5, 'S3 n = 1, seed 0: epoch 5/10');
  c.advance(1000);
  status.endRun('  done: score 0.02');
  status.startRun('S3 n = 3, seed 0');
  // Every log line starts by clearing the status line, and the status is redrawn after it.
  const lines = s.out.split('\n');
  assert.ok(
    lines.slice(0, -1).every((l) => !l.includes('ETA') || l.startsWith('\r\x1b[2K')),
    'no log text is appended to a status line',
  );
  assert.match(lines[lines.length - 1], /demo \[#####\.+\] 1\/4 runs, 2s elapsed, ETA 6s/);
  assert.equal(status.text().includes('1/4 runs'), true);
  status.endRun();
  status.skip(2);
  status.finish();
  assert.match(s.out, /4\/4 runs, 2s elapsed, ETA 0s\n$/);
});

test('sweep status off a TTY: plain lines, no bar, no rate before there is one', () => {
  const s = sink(false);
  const c = clock();
  const status = new SweepStatus(s, 'demo', 2, 10_000, c.now);
  status.startRun('R3 n = 3, seed 1');
  status.runProgress(0.1, 'epoch 1/10');
  assert.match(s.out, /^run 1\/2: R3 n = 3, seed 1\ndemo 0\/2 runs, 0s elapsed, ETA \? \| epoch 1\/10\n$/);
  c.advance(3000);
  status.runProgress(0.5, 'epoch 5/10');
  assert.equal(s.out.split('\n').length, 3, 'in-run status at most every 10 s');
  status.endRun('  done');
  assert.match(s.out, / {2}done\ndemo 1\/2 runs, 3s elapsed, ETA 3s\n$/);
  assert.doesNotMatch(s.out, /\r|\x1b/);
});

test('a shared training counts as several runs', () => {
  const s = sink(false);
  const status = new SweepStatus(s, 'demo', 6, 10_000, clock().now);
  status.startRun('n = 0, seed 0');
  status.endRun('  done', 2);
  assert.match(status.text(), /2\/6 runs/);
});

test('a bar over work partly done already: the skipped units count, not in the rate; slow rates read per unit; plain lines only on change or a heartbeat', () => {
  const s = sink(false);
  const c = clock();
  const bar = new ProgressBar(s, 'sweep', 180, 'runs', 5000, c.now);
  bar.skip(174);
  c.advance(5000);
  bar.update(174);
  assert.match(s.out, /174\/180 runs \? runs\/s ETA \?/, 'nothing run yet: no rate, no ETA (not 34.8 runs/s, ETA 0s)');
  const lines = () => s.out.trim().split('\n').length;
  c.advance(10_000);
  bar.update(174);
  assert.equal(lines(), 1, 'an unchanged count is not printed again within a minute');
  c.advance(600_000 - 15_000);
  bar.update(175);
  // one run in 600 s: 10m00s per run, 5 left
  assert.match(s.out, /175\/180 runs 10m00s\/run ETA 50m00s/);
  c.advance(61_000);
  bar.update(175);
  assert.equal(lines(), 3, 'a heartbeat after a minute without change');
});

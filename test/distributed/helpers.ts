// Test fixtures for the distributed suite: a private redis-server on a free loopback
// port, spurlab child processes (workers, Slurm tasks), and tiny sweep files.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { commands } from '../../src/cli/commands/index.ts';
import { runCommandDirect, type CommandRun } from '../cli/runCommandDirect.ts';
import type { Command } from '../../src/cli/command.ts';
import { tempDir } from '../helpers.ts';

export const ROOT = resolve(import.meta.dirname, '../..');
const ENTRY = join(ROOT, 'test/distributed/commandEntry.ts');

export const tmp = () => tempDir('spurlab-dist-');

/** A grid of tiny real MNIST runs (200 training and 100 test images, 1 epoch of MLP). */
export const tiny = { dataset: 'mnist', target: 0, model: 'MLP', epochs: 1, trainSubset: 200, testSubset: 100, batchSize: 50 };

export function writeSweep(dir: string, name: string, grids: object[]): string {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify({ name, grids }));
  return file;
}

async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => ok(port));
    });
  });
}

export interface TestRedis {
  url: string;
  stop(): Promise<void>;
}

/** Starts redis-server on 127.0.0.1 with persistence off; fails (never skips) when it is not installed. */
export async function startRedis(): Promise<TestRedis> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout!.on('data', (b: Buffer) => (log += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (log += b.toString()));
  await new Promise<void>((ok, fail) => {
    child.once('error', (e: NodeJS.ErrnoException) =>
      fail(
        new Error(
          e.code === 'ENOENT'
            ? 'redis-server is not installed: the distributed tests need it (apt-get install -y redis-server; .ci/run installs it)'
            : `redis-server: ${e.message}`,
        ),
      ),
    );
    child.once('exit', (code) => fail(new Error(`redis-server exited with code ${code}: ${log}`)));
    const deadline = Date.now() + 10_000;
    const probe = () => {
      const s = createConnection({ host: '127.0.0.1', port });
      s.once('connect', () => {
        s.end();
        ok();
      });
      s.once('error', () => {
        s.destroy();
        if (Date.now() > deadline) fail(new Error(`redis-server did not listen on 127.0.0.1:${port}: ${log}`));
        else setTimeout(probe, 50);
      });
    };
    probe();
  });
  child.removeAllListeners('exit');
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((ok) => {
        if (child.exitCode !== null) return ok();
        child.once('exit', () => ok());
        child.kill('SIGTERM');
      }),
  };
}

/** How to start spurlab in a child process: the real launcher once the command is registered. */
export function spurlabArgv(argv: string[]): string[] {
  return commands.some((c) => c.name === argv[0]) ? [join(ROOT, 'bin/spurlab.mjs'), ...argv] : ['--import', 'tsx', ENTRY, ...argv];
}

export interface SpawnedSpurlab {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<number>;
}

export function spawnSpurlab(argv: string[], env: Record<string, string> = {}): SpawnedSpurlab {
  const child = spawn(process.execPath, spurlabArgv(argv), { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stdout!.on('data', () => undefined);
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  const exited = new Promise<number>((ok) => child.on('exit', (code, signal) => ok(code ?? (signal ? 128 : 1))));
  return { child, stderr: () => err, exited };
}

/** A queue worker process on one thread, with a short lock so stalled jobs move on quickly. */
export function spawnWorker(url: string, sweep: string, extra: string[] = []): SpawnedSpurlab {
  return spawnSpurlab(['worker', '--queue', url, '--sweep', sweep, '--lock-seconds', '3', ...extra], { SPURLAB_THREADS: '1' });
}

export async function stopWorkers(workers: SpawnedSpurlab[]): Promise<void> {
  for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGTERM');
  await Promise.all(workers.map((w) => w.exited));
}

export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function run(cmd: Command, argv: string[]): Promise<CommandRun> {
  return runCommandDirect(cmd, argv);
}

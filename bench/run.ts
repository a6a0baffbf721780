// `npm run bench [-- --json] [-- --quick] [-- --only GROUPS] [-- --pairs N] [-- --epochs E]`:
// spurlab's speed on the paper's workloads and its ratio to the PyTorch CPU peer at its
// best thread setting, measured in the same run (bench/torch_peer.py, bench/torch_run.py).
// Groups (--only a,b; all by default):
//   steps     training steps (LargeMLP, CNN002, ResNet20), eval batches, HVPs: rounds
//             alternate spurlab and the peer, the best round of each counts
//   sgemm     the native GEMM against numpy's; its 1024^3 rate is the ceiling that the
//             training steps' effective GFLOP/s are a share of
//   memory    peak memory of an MNIST epoch of LargeMLP and of ResNet20 training
//   startup   `spurlab --version` from spawn to exit
//   whole-run one 20-epoch LargeMLP run, spurlab train vs torch_run.py, at 2 threads and 1
//   grid      4 such runs, spurlab sweep vs torch_run.py, each the fastest way it allows
// Every step workload is validated against the reference backend before it is timed.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { activeBackend } from '../src/backend/registry.ts';
import {
  evalRate,
  hvpSetup,
  rate,
  sgemmCeilingRate,
  TRAIN_WORKLOADS,
  trainFlops,
  trainRate,
  validateEval,
  validateHvp,
  validateTraining,
} from './steps.ts';
import { grid, startupSeconds, wholeRun, type PairedResult } from './wholeRun.ts';

const here = dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const json = argv.includes('--json');
const quick = argv.includes('--quick');
const optionValue = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const GROUPS = ['steps', 'sgemm', 'memory', 'startup', 'whole-run', 'grid'];
const only = (optionValue('--only') ?? GROUPS.join(',')).split(',').filter(Boolean);
for (const g of only) if (!GROUPS.includes(g)) throw new Error(`--only: unknown group "${g}", expected some of ${GROUPS.join(', ')}`);
const positiveInt = (name: string, dflt: number): number => {
  const raw = optionValue(name);
  if (raw === undefined) return dflt;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name}: got "${raw}", expected a positive integer`);
  return v;
};
const PAIRS = positiveInt('--pairs', quick ? 1 : 3);
const EPOCHS = positiveInt('--epochs', 20);
const ROUNDS = quick ? 1 : 3;
const want = (g: string) => only.includes(g);

function log(line: string): void {
  if (!json) process.stderr.write(`${line}\n`);
}

const STEP_KEYS = ['train_LargeMLP', 'train_CNN002', 'train_ResNet20', 'eval_LargeMLP', 'eval_ResNet20', 'hvp_LargeMLP'];

interface PeerResult {
  rates: Record<string, number>;
  config: Record<string, string>;
  torch: string;
}

function runPeer(threads: number): PeerResult | null {
  const script = join(here, 'torch_peer.py');
  if (!existsSync('/usr/bin/python3')) return null;
  const r = spawnSync(
    '/usr/bin/python3',
    [script, '--json', '--cores', String(threads), '--seconds', quick ? '1' : '3', '--only', STEP_KEYS.join(',')],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) {
    log(`PyTorch peer unavailable: ${r.stderr.trim().split('\n').pop()} (apt-get install -y python3-torch libopenblas0-pthread)`);
    return null;
  }
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
  const rates: Record<string, number> = {};
  for (const k of STEP_KEYS) if (typeof out[k] === 'number') rates[k] = out[k] as number;
  return { rates, config: out.config as Record<string, string>, torch: String(out.torch) };
}

function runSgemm(): { workloads: Record<string, number>; peer: Record<string, number> } | null {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(here, 'sgemm.ts'), '--json'], { encoding: 'utf8' });
  if (r.status !== 0) {
    log(`sgemm benchmark failed: ${r.stderr.trim().split('\n').pop()}`);
    return null;
  }
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

// Peak resident memory of a piece of training in a fresh process, in MB: the child's own
// high-water mark (VmHWM). Not getrusage's maxRSS, which Linux carries across exec, so a
// child of this (large) process would report the parent's size.
const PRINT_PEAK = `process.stdout.write(String(Number(/VmHWM:\\s+(\\d+) kB/.exec((await import('node:fs')).readFileSync('/proc/self/status', 'utf8'))[1]) / 1024));`;
function peakMemory(code: string): number | null {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `${code}\n${PRINT_PEAK}`], {
    cwd: join(here, '..'),
    encoding: 'utf8',
  });
  if (r.status !== 0) log(`memory measurement failed: ${r.stderr.trim().split('\n').pop()}`);
  return r.status === 0 ? Number(r.stdout.trim()) : null;
}

const MNIST_EPOCH = `
  import { makeTrainConfig } from './src/train/config.ts';
  import { train } from './src/train/trainer.ts';
  await train(makeTrainConfig({ data: 'mnistv20-3-0-0', model: 'LargeMLP', epochs: 1 }));`;
const RESNET_STEPS = `
  import { TRAIN_WORKLOADS, trainRate } from './bench/steps.ts';
  trainRate(TRAIN_WORKLOADS.find((w) => w.key === 'train_ResNet20'), 3);`;

interface Report {
  backend: string;
  workloads: Record<string, number>;
  peer: Record<string, number>;
  ratio: Record<string, number>;
  peerConfig: Record<string, string>;
  gflops: Record<string, { spurlab: number; peer: number | null; shareOfCeiling: number | null }>;
  paired: Record<string, PairedResult>;
  torch?: string;
  ceilingInRounds?: number; // best native 1024^3 GFLOP/s timed within the steps' rounds
  ceiling?: number; // the best 1024^3 rate of this run: the steps' rounds or the sgemm group
}

function steps(r: Report): void {
  for (const w of TRAIN_WORKLOADS) validateTraining(w);
  validateEval('LargeMLP', [16, 784]);
  validateEval('ResNet20', [2, 3, 32, 32]);
  validateHvp();
  log('validated against the reference backend: LargeMLP, CNN002 and ResNet20 training steps, LargeMLP and ResNet20 eval, HVP');
  const keepBest = (into: Record<string, number>, k: string, v: number) => (into[k] = Math.max(into[k] ?? 0, v));
  const iters: Record<string, number> = { train_LargeMLP: 60, train_CNN002: 12, train_ResNet20: 4 };
  for (let round = 0; round < ROUNDS; round++) {
    for (const w of TRAIN_WORKLOADS) keepBest(r.workloads, w.key, trainRate(w, quick ? Math.ceil(iters[w.key] / 4) : iters[w.key]));
    keepBest(r.workloads, 'eval_LargeMLP', evalRate('LargeMLP', [1000, 784], quick ? 10 : 30));
    keepBest(r.workloads, 'eval_ResNet20', evalRate('ResNet20', [500, 3, 32, 32], quick ? 1 : 3));
    const { hvp } = hvpSetup();
    // a product takes ~0.15 ms: warm the JIT up on its loops first, as a LiSSA run would be
    keepBest(r.workloads, 'hvp_LargeMLP', rate(hvp, quick ? 200 : 2000, 1, 1000));
    const p = runPeer(activeBackend().threads);
    if (p) {
      for (const [k, v] of Object.entries(p.rates)) {
        if (v > (r.peer[k] ?? 0)) r.peerConfig[k] = p.config[k];
        keepBest(r.peer, k, v);
      }
      r.torch = p.torch;
    }
    r.ceilingInRounds = Math.max(r.ceilingInRounds ?? 0, sgemmCeilingRate());
    log(`steps round ${round + 1}/${ROUNDS} done`);
  }
}

function flopsTable(r: Report): void {
  // the best 1024^3 rate seen, in the steps' rounds or the sgemm group: a share is of what the machine reached
  const seen = [r.workloads.sgemm_1024, r.ceilingInRounds].filter((x) => x !== undefined);
  const ceiling = seen.length > 0 ? Math.max(...seen) : undefined;
  r.ceiling = ceiling;
  for (const w of TRAIN_WORKLOADS) {
    if (r.workloads[w.key] === undefined) continue;
    const perImage = trainFlops(w) / w.shape[0];
    const g = (ips: number) => (perImage * ips) / 1e9;
    r.gflops[w.key] = {
      spurlab: g(r.workloads[w.key]),
      peer: r.peer[w.key] ? g(r.peer[w.key]) : null,
      shareOfCeiling: ceiling ? g(r.workloads[w.key]) / ceiling : null,
    };
  }
}

function paired(r: Report): void {
  const threads = activeBackend().threads;
  const o = { epochs: EPOCHS, pairs: PAIRS, log };
  if (want('whole-run')) {
    for (const t of [...new Set([threads, 1])]) {
      log(`whole run at ${t} thread${t > 1 ? 's' : ''} (${PAIRS} pairs)...`);
      r.paired[`whole_run_${t}t`] = wholeRun(t, o);
    }
  }
  if (want('grid')) {
    log(`grid of 4 runs on ${threads} cores (${PAIRS} pairs)...`);
    const g = grid(threads, o);
    r.paired.grid = g;
    r.workloads.grid_runs_per_hour = g.runsPerHour.spurlab;
    r.peer.grid_runs_per_hour = g.runsPerHour.peer;
  }
}

function print(r: Report): void {
  const unit = (k: string) =>
    k.startsWith('sgemm')
      ? 'GFLOP/s'
      : k.startsWith('hvp')
        ? 'HVP/s'
        : k.startsWith('peak')
          ? 'MB'
          : k.startsWith('startup')
            ? 's'
            : k.startsWith('grid')
              ? 'runs/h'
              : 'images/s';
  const out = (s: string) => process.stdout.write(`${s}\n`);
  out(`${r.backend}${r.torch ? `; PyTorch ${r.torch} at its best thread setting per workload` : ''}`);
  out(`${'workload'.padEnd(36)}${'spurlab'.padStart(12)}${'peer'.padStart(12)}${'ratio'.padStart(8)}  unit; peer's setting`);
  for (const [k, v] of Object.entries(r.workloads)) {
    const p = r.peer[k];
    const setting = k.startsWith('sgemm') ? 'numpy sgemm' : k === 'grid_runs_per_hour' ? (r.paired.grid?.peerSetting ?? '') : (r.peerConfig[k] ?? '');
    out(
      `${k.padEnd(36)}${v.toFixed(1).padStart(12)}${(p ? p.toFixed(1) : '-').padStart(12)}${(p ? r.ratio[k].toFixed(2) : '-').padStart(8)}  ${unit(k)}${setting ? `; ${setting}` : ''}`,
    );
  }
  if (Object.keys(r.gflops).length > 0) {
    out(
      `\neffective GFLOP/s of training (GEMM and convolution arithmetic only); ceiling: the best native 1024^3 sgemm seen in this run ${r.ceiling?.toFixed(1) ?? '(not measured)'} GFLOP/s`,
    );
    for (const [k, g] of Object.entries(r.gflops)) {
      out(
        `  ${k.padEnd(20)} spurlab ${g.spurlab.toFixed(1).padStart(6)}  peer ${(g.peer === null ? '-' : g.peer.toFixed(1)).padStart(6)}  spurlab's share of the ceiling ${g.shareOfCeiling === null ? '-' : `${(100 * g.shareOfCeiling).toFixed(0)}%`}`,
      );
    }
  }
  for (const [k, p] of Object.entries(r.paired)) {
    out(`\n${k}: ${p.spurlabSetting} vs PyTorch ${p.peerSetting}; seconds per pair (A B alternated)`);
    out(
      `  spurlab ${p.spurlab_s.map((s) => s.toFixed(1)).join(', ')}; PyTorch ${p.peer_s.map((s) => s.toFixed(1)).join(', ')}; median ratio ${p.ratio.toFixed(2)}`,
    );
  }
}

async function main(): Promise<void> {
  const r: Report = { backend: activeBackend().describe(), workloads: {}, peer: {}, ratio: {}, peerConfig: {}, gflops: {}, paired: {} };
  log(`backend: ${r.backend}; groups: ${only.join(', ')}`);
  if (want('steps')) steps(r);
  if (want('sgemm') || want('steps')) {
    const sg = runSgemm();
    if (sg) {
      for (const k of ['sgemm_128x784x256', 'sgemm_1024']) {
        if (sg.workloads[k] !== undefined) r.workloads[k] = sg.workloads[k];
        if (sg.peer[k] !== undefined) r.peer[k] = sg.peer[k];
      }
    }
  }
  flopsTable(r);
  if (want('memory')) {
    const a = peakMemory(MNIST_EPOCH);
    if (a !== null) r.workloads.peakMemoryMB_LargeMLP_MNIST_epoch = a;
    const b = peakMemory(RESNET_STEPS);
    if (b !== null) r.workloads.peakMemoryMB_train_ResNet20_batch128 = b;
  }
  if (want('startup')) {
    const s = startupSeconds();
    r.workloads.startup_s = s.spurlab;
    r.peer.startup_s = s.peer;
    r.peerConfig.startup_s = 'python3 -c "import torch"';
  }
  paired(r);
  // ratios are speed-ups: rates over the peer's, and the peer's time over ours for times
  for (const k of Object.keys(r.workloads)) if (r.peer[k]) r.ratio[k] = k.endsWith('_s') ? r.peer[k] / r.workloads[k] : r.workloads[k] / r.peer[k];
  for (const [k, p] of Object.entries(r.paired)) if (k !== 'grid') r.ratio[k] = p.ratio;
  if (r.paired.grid) r.ratio.grid_runs_per_hour = r.paired.grid.ratio;
  if (json) process.stdout.write(`${JSON.stringify(r)}\n`);
  else print(r);
}

await main();

// `npm run bench [-- --json] [-- --quick]`: spurlab's throughput on the paper's workloads
// and its ratio to the PyTorch CPU peer measured in the same run
// (/usr/bin/python3 ../shared/bench/torch_peer.py), plus the SGEMM table against numpy.
// Every workload is validated against the reference backend before it is timed; rounds
// alternate between spurlab and the peer and the best round of each counts.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { activeBackend, withBackend } from '../src/backend/registry.ts';
import { RandomState } from '../src/data/numpyRandom.ts';
import { createModel } from '../src/nn/models/index.ts';
import type { Module } from '../src/nn/module.ts';
import { Adam } from '../src/nn/optim/optimizer.ts';
import * as ops from '../src/ops/index.ts';
import { noGrad } from '../src/autograd/tape.ts';
import { hessianVectorProduct } from '../src/autograd/hvp.ts';
import { hessianEngineFor } from '../src/forget/hessianEngine.ts';
import { Tensor, uniform } from '../src/tensor/tensor.ts';

const here = dirname(fileURLToPath(import.meta.url));
const json = process.argv.includes('--json');
const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 1 : 3;
const MNIST = { height: 28, width: 28, channels: 1, numClasses: 10 };

function log(line: string): void {
  if (!json) process.stderr.write(`${line}\n`);
}

function model(name: string): Module {
  return createModel(name, MNIST, new RandomState(0));
}

function copyWeights(from: Module, to: Module): void {
  const src = from.parameters();
  to.parameters().forEach((p, i) => p.data.set(src[i].values()));
}

function batch(shape: number[], seed: number): { x: Tensor; y: Int32Array } {
  return { x: uniform(shape, 0, 1, new RandomState(seed)), y: Int32Array.from({ length: shape[0] }, (_, i) => (i * 7) % 10) };
}

// One Adam step; returns the loss so validation can compare backends.
function trainStep(m: Module, opt: Adam, x: Tensor, y: Int32Array): number {
  m.zeroGrad();
  const loss = ops.crossEntropy(m.forward(x), y);
  loss.backward();
  opt.step();
  return loss.item();
}

function maxScaledDiff(a: Module, b: Module): number {
  const pb = b.parameters();
  let worst = 0;
  a.parameters().forEach((p, i) => {
    const va = p.values();
    const vb = pb[i].values();
    for (let j = 0; j < va.length; j++) worst = Math.max(worst, Math.abs(va[j] - vb[j]) / Math.max(1, Math.abs(vb[j])));
  });
  return worst;
}

// Two training steps on the active backend and on the reference from identical weights.
function validateTraining(name: string, shape: number[]): void {
  const a = model(name);
  const b = model(name);
  copyWeights(a, b);
  const { x, y } = batch(shape, 3);
  a.eval(); // dropout off: the two backends must see the same function
  b.eval();
  const oa = new Adam(a.parameters(), { lr: 1e-3 });
  const ob = new Adam(b.parameters(), { lr: 1e-3 });
  for (let s = 0; s < 2; s++) {
    const la = trainStep(a, oa, x, y);
    const lb = withBackend('ref', () => trainStep(b, ob, x, y));
    if (Math.abs(la - lb) > 1e-4 * Math.max(1, Math.abs(lb))) throw new Error(`${name}: loss ${la} on ${activeBackend().name}, ${lb} on ref; not timing`);
  }
  const d = maxScaledDiff(a, b);
  if (d > 1e-4) throw new Error(`${name}: weights differ by ${d} between ${activeBackend().name} and ref after two steps; not timing`);
}

/** Best rate over the rounds of `iters` calls, in units per second. */
function rate(fn: () => void, iters: number, unitsPerCall: number, warmup = 1): number {
  for (let i = 0; i < warmup; i++) fn();
  const t0 = performance.now();
  for (let i = 0; i < iters; i++) fn();
  return (iters * unitsPerCall) / ((performance.now() - t0) / 1000);
}

function trainRate(name: string, shape: number[], iters: number): number {
  const m = model(name);
  const opt = new Adam(m.parameters(), { lr: 0.01 });
  const { x, y } = batch(shape, 1);
  return rate(() => trainStep(m, opt, x, y), iters, shape[0]);
}

function evalRate(iters: number): number {
  const m = model('LargeMLP').eval();
  const { x } = batch([1000, 784], 2);
  return rate(() => noGrad(() => m.forward(x)), iters, 1000);
}

// The exact HVP that influence functions use: the R-operator engine for MLPs.
function hvpSetup() {
  const m = model('LargeMLP');
  const engine = hessianEngineFor(m);
  const rs = new RandomState(10);
  const v = Float32Array.from({ length: engine.size }, () => rs.standardNormal());
  const { x, y } = batch([1, 784], 4);
  const out = new Float32Array(engine.size);
  return { hvp: () => engine.hvp({ x, y }, v, out), m, v, x, y, out };
}

// The engine's product against the reference backend's double backward through the tape.
function validateHvp(): void {
  const { hvp, m, v, x, y, out } = hvpSetup();
  hvp();
  const params = m.parameters();
  let off = 0;
  const vs = params.map((p) => {
    const t = new Tensor(v.slice(off, off + p.size), p.shape);
    off += p.size;
    return t;
  });
  const ref = withBackend('ref', () => hessianVectorProduct(() => ops.crossEntropy(m.forward(x), y), params, vs));
  off = 0;
  ref.forEach((t, i) => {
    const b = t.values();
    for (let j = 0; j < b.length; j++) {
      if (Math.abs(out[off + j] - b[j]) > 1e-4 * Math.max(1, Math.abs(b[j]))) throw new Error(`hvp: element ${j} of parameter ${i} is ${out[off + j]}, ref ${b[j]}; not timing`);
    }
    off += b.length;
  });
}

function runPeer(): Record<string, number> | null {
  const script = join(here, '..', '..', 'shared', 'bench', 'torch_peer.py');
  if (!existsSync(script) || !existsSync('/usr/bin/python3')) return null;
  const r = spawnSync('/usr/bin/python3', [script, '--json', '--threads', String(activeBackend().threads), '--seconds', quick ? '1' : '3'], { encoding: 'utf8' });
  if (r.status !== 0) {
    log(`PyTorch peer unavailable: ${r.stderr.trim().split('\n').pop()} (apt-get install -y python3-torch libopenblas0-pthread)`);
    return null;
  }
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, number>;
}

function runSgemm(): { workloads: Record<string, number>; peer: Record<string, number> } | null {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(here, 'sgemm.ts'), '--json'], { encoding: 'utf8' });
  if (r.status !== 0) {
    log(`sgemm benchmark failed: ${r.stderr.trim().split('\n').pop()}`);
    return null;
  }
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

// Peak resident memory of one epoch of LargeMLP on full MNIST, in a fresh process.
function memoryOfFullMnistEpoch(): number | null {
  const code = `
    import { makeTrainConfig } from './src/train/config.ts';
    import { train } from './src/train/trainer.ts';
    await train(makeTrainConfig({ data: 'mnistv20-3-0-0', model: 'LargeMLP', epochs: 1 }));
    process.stdout.write(String(process.resourceUsage().maxRSS / 1024));`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: join(here, '..'), encoding: 'utf8' });
  return r.status === 0 ? Number(r.stdout.trim()) : null;
}

const PEER_KEYS = ['train_LargeMLP', 'train_CNN002', 'eval_LargeMLP', 'hvp_LargeMLP'];

async function main(): Promise<void> {
  log(`backend: ${activeBackend().describe()}`);
  validateTraining('LargeMLP', [128, 784]);
  validateTraining('CNN002', [8, 1, 28, 28]);
  validateHvp();
  log('validated against the reference backend: LargeMLP and CNN002 training steps, HVP');

  const workloads: Record<string, number> = {};
  const peer: Record<string, number> = {};
  const keepBest = (into: Record<string, number>, k: string, v: number) => (into[k] = Math.max(into[k] ?? 0, v));
  for (let round = 0; round < ROUNDS; round++) {
    keepBest(workloads, 'train_LargeMLP', trainRate('LargeMLP', [128, 784], quick ? 20 : 60));
    keepBest(workloads, 'train_CNN002', trainRate('CNN002', [128, 1, 28, 28], quick ? 2 : 12));
    keepBest(workloads, 'eval_LargeMLP', evalRate(quick ? 10 : 30));
    const { hvp } = hvpSetup();
    // a product takes ~0.15 ms: warm the JIT up on its loops first, as a LiSSA run would be
    keepBest(workloads, 'hvp_LargeMLP', rate(hvp, quick ? 200 : 2000, 1, 1000));
    const p = runPeer();
    if (p) for (const k of PEER_KEYS) keepBest(peer, k, p[k]);
    log(`round ${round + 1}/${ROUNDS} done`);
  }
  const sg = runSgemm();
  if (sg) {
    for (const k of ['sgemm_128x784x256', 'sgemm_1024']) {
      if (sg.workloads[k] !== undefined) workloads[k] = sg.workloads[k];
      if (sg.peer[k] !== undefined) peer[k] = sg.peer[k];
    }
  }
  if (!quick) {
    const mb = memoryOfFullMnistEpoch();
    if (mb !== null) workloads.peakMemoryMB_LargeMLP_MNIST_epoch = mb;
  }
  const ratio: Record<string, number> = {};
  for (const k of Object.keys(workloads)) if (peer[k]) ratio[k] = workloads[k] / peer[k];
  if (json) {
    process.stdout.write(`${JSON.stringify({ backend: activeBackend().describe(), workloads, peer, ratio })}\n`);
    return;
  }
  const unit = (k: string) => (k.startsWith('sgemm') ? 'GFLOP/s' : k.startsWith('hvp') ? 'HVP/s' : k.startsWith('peak') ? 'MB' : 'images/s');
  process.stdout.write(`${'workload'.padEnd(34)}${'spurlab'.padStart(12)}${'peer'.padStart(12)}${'ratio'.padStart(8)}  unit (peer)\n`);
  for (const [k, v] of Object.entries(workloads)) {
    const p = peer[k];
    const who = k.startsWith('sgemm') ? 'numpy sgemm' : k.startsWith('peak') ? '' : 'PyTorch CPU';
    process.stdout.write(`${k.padEnd(34)}${v.toFixed(1).padStart(12)}${(p ? p.toFixed(1) : '-').padStart(12)}${(p ? ratio[k].toFixed(2) : '-').padStart(8)}  ${unit(k)}${who ? ` (${who})` : ''}\n`);
  }
}

await main();

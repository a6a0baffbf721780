// SGEMM micro-benchmark: the native GEMM against numpy's (OpenBLAS) sgemm measured in
// the same run, on 1024^3 and the LargeMLP training shapes. Each native shape is first
// validated against the reference backend. Usage: node --import tsx bench/sgemm.ts [--json]
import { spawnSync } from 'node:child_process';
import { loadNativeBackend } from '../src/backend/native/index.ts';
import { refKernels } from '../src/backend/ref/index.ts';

interface Shape {
  name: string;
  m: number;
  k: number;
  n: number;
  transA: boolean;
  transB: boolean;
}

const SHAPES: Shape[] = [
  { name: 'sgemm_1024', m: 1024, k: 1024, n: 1024, transA: false, transB: false },
  { name: 'sgemm_128x784x256', m: 128, k: 784, n: 256, transA: false, transB: true }, // x @ W^T
  { name: 'sgemm_128x256x256', m: 128, k: 256, n: 256, transA: false, transB: true },
  { name: 'sgemm_256x128x784', m: 256, k: 128, n: 784, transA: true, transB: false }, // dW = dy^T x
  { name: 'sgemv_1x784x256', m: 1, k: 784, n: 256, transA: false, transB: true }, // batch-1 HVP
];
const ROUNDS = 3; // native and numpy alternate, the best round of each counts

const native = loadNativeBackend();
const kernels = native.kernels;
if (!kernels.matmul) throw new Error('the native backend has no matmul');
const matmul = kernels.matmul;

function seeded(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 4294967296 - 0.5;
  }
  return a;
}

// Iterations per timed batch: about 0.2 s of work at 50 GFLOP/s.
const iterations = (s: Shape) => Math.max(3, Math.min(20000, Math.round(1e10 / (2 * s.m * s.k * s.n))));

function validate(s: Shape, a: Float32Array, b: Float32Array): void {
  // 1024^3 in plain JS takes seconds: check a band of rows, enough to cover every code path
  const rows = s.m > 256 && !s.transA ? 16 : s.m;
  const got = new Float32Array(s.m * s.n);
  matmul(a, b, s.m, s.k, s.n, s.transA, s.transB, got);
  const want = new Float32Array(rows * s.n);
  refKernels.matmul(a.subarray(0, rows * s.k), b, rows, s.k, s.n, s.transA, s.transB, want);
  const atol = 1e-5 * Math.sqrt(s.k);
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(got[i] - want[i]) <= atol + 1e-4 * Math.abs(want[i]))) {
      throw new Error(`${s.name}: element ${i} is ${got[i]}, reference ${want[i]}; not timing a wrong GEMM`);
    }
  }
}

function timeNative(s: Shape, a: Float32Array, b: Float32Array): number {
  const out = new Float32Array(s.m * s.n);
  const iters = iterations(s);
  matmul(a, b, s.m, s.k, s.n, s.transA, s.transB, out);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iters; i++) matmul(a, b, s.m, s.k, s.n, s.transA, s.transB, out);
  const sec = Number(process.hrtime.bigint() - t0) / 1e9;
  return (2 * s.m * s.k * s.n * iters) / sec / 1e9;
}

const NUMPY = `
import json, sys, time, numpy as np
shapes = json.loads(sys.argv[1]); res = {}
for s in shapes:
    rng = np.random.default_rng(0)
    a = rng.random((s['k'], s['m']) if s['transA'] else (s['m'], s['k']), dtype=np.float32)
    b = rng.random((s['n'], s['k']) if s['transB'] else (s['k'], s['n']), dtype=np.float32)
    A = a.T if s['transA'] else a
    B = b.T if s['transB'] else b
    out = np.empty((s['m'], s['n']), dtype=np.float32)
    np.matmul(A, B, out=out)
    t = time.perf_counter()
    for _ in range(s['iters']): np.matmul(A, B, out=out)
    res[s['name']] = 2 * s['m'] * s['k'] * s['n'] * s['iters'] / (time.perf_counter() - t) / 1e9
print(json.dumps(res))
`;

function timeNumpy(): Record<string, number> | null {
  const arg = JSON.stringify(SHAPES.map((s) => ({ ...s, iters: iterations(s) })));
  const env = { ...process.env, OPENBLAS_NUM_THREADS: String(native.threads), OMP_NUM_THREADS: String(native.threads) };
  const r = spawnSync('/usr/bin/python3', ['-c', NUMPY, arg], { env, encoding: 'utf8' });
  if (r.status !== 0) return null;
  return JSON.parse(r.stdout) as Record<string, number>;
}

const inputs = SHAPES.map((s, i) => [seeded(s.m * s.k, 2 * i + 1), seeded(s.k * s.n, 2 * i + 2)] as const);
SHAPES.forEach((s, i) => validate(s, inputs[i][0], inputs[i][1]));

const best: Record<string, number> = {};
const peer: Record<string, number> = {};
let numpyAvailable = true;
for (let round = 0; round < ROUNDS; round++) {
  const np = numpyAvailable ? timeNumpy() : null;
  if (!np) numpyAvailable = false;
  for (const [name, v] of Object.entries(np ?? {})) peer[name] = Math.max(peer[name] ?? 0, v);
  SHAPES.forEach((s, i) => {
    best[s.name] = Math.max(best[s.name] ?? 0, timeNative(s, inputs[i][0], inputs[i][1]));
  });
}

const ratio: Record<string, number> = {};
for (const s of SHAPES) if (peer[s.name]) ratio[s.name] = best[s.name] / peer[s.name];
if (process.argv.includes('--json')) {
  process.stdout.write(`${JSON.stringify({ workloads: best, peer, ratio })}\n`);
} else {
  process.stdout.write(`${native.describe()}; numpy ${numpyAvailable ? `with ${native.threads} OpenBLAS threads` : 'unavailable'}\n`);
  process.stdout.write(`${'workload'.padEnd(22)}${'native GFLOP/s'.padStart(16)}${'numpy GFLOP/s'.padStart(16)}${'ratio'.padStart(8)}\n`);
  for (const s of SHAPES) {
    const p = peer[s.name];
    process.stdout.write(
      `${s.name.padEnd(22)}${best[s.name].toFixed(1).padStart(16)}${(p ? p.toFixed(1) : '-').padStart(16)}${(p ? ratio[s.name].toFixed(2) : '-').padStart(8)}\n`,
    );
  }
}
